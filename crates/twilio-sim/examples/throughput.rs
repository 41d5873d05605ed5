//! Throughput of the simulator with no injected latency: 20,000 GET fetches and 2,000 purchases
//! from 32 concurrent tasks over keep-alive connections, client and server in one process.
//!
//! `cargo run -p twilio-sim --example throughput [-- GETS PURCHASES TASKS AREA_CODES]`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use twilio_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let gets = args.first().copied().unwrap_or(20_000);
    let purchases = args.get(1).copied().unwrap_or(2_000);
    let tasks = args.get(2).copied().unwrap_or(32);
    let n_area_codes = args.get(3).copied().unwrap_or(10).clamp(1, 10);

    let sim = Simulator::new(SimConfig::default());
    let acct = sim.add_account("bench");
    let server = sim.serve("127.0.0.1:0".parse()?).await?;
    let base = server.base_url();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(tasks)
        .build()?;
    let numbers = format!(
        "{base}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        acct.sid
    );
    // One number to fetch.
    let first: serde_json::Value = http
        .post(&numbers)
        .basic_auth(&acct.sid, Some(&acct.auth_token))
        .form(&[("AreaCode", "415")])
        .send()
        .await?
        .json()
        .await?;
    let fetch_url = format!("{base}{}", first["uri"].as_str().ok_or("no uri")?);
    let area_codes = [
        "415", "510", "212", "646", "718", "312", "617", "206", "512", "305",
    ];

    let next_get = Arc::new(AtomicUsize::new(0));
    let next_buy = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (http, acct, numbers, fetch_url) = (
            http.clone(),
            acct.clone(),
            numbers.clone(),
            fetch_url.clone(),
        );
        let (next_get, next_buy, failures) = (next_get.clone(), next_buy.clone(), failures.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let buy = next_buy.fetch_add(1, Ordering::Relaxed);
                if buy < purchases {
                    let ac = area_codes[buy % n_area_codes];
                    let r = http
                        .post(&numbers)
                        .basic_auth(&acct.sid, Some(&acct.auth_token))
                        .form(&[("AreaCode", ac)])
                        .send()
                        .await;
                    if !matches!(r.as_ref().map(|r| r.status().as_u16()), Ok(201)) {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Ok(r) = r {
                        let _ = r.bytes().await;
                    }
                }
                for _ in 0..10 {
                    let g = next_get.fetch_add(1, Ordering::Relaxed);
                    if g >= gets {
                        break;
                    }
                    let r = http
                        .get(&fetch_url)
                        .basic_auth(&acct.sid, Some(&acct.auth_token))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                if next_buy.load(Ordering::Relaxed) >= purchases
                    && next_get.load(Ordering::Relaxed) >= gets
                {
                    break;
                }
            }
        }));
    }
    for h in handles {
        h.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let total = gets + purchases;
    let c = sim.counters();
    println!(
        "{total} requests ({gets} GET fetches, {purchases} purchases) with {tasks} tasks in {secs:.2} s: {:.0} req/s; failures {}; purchases counted {}",
        total as f64 / secs,
        failures.load(Ordering::Relaxed),
        c.purchases
    );
    server.shutdown().await;
    Ok(())
}
