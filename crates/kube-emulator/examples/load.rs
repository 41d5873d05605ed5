//! One-off measurement: emulator start-up time, then 10,000 custom objects created (32 in
//! flight), listed, and watched (3 live watchers + a fresh watch replaying all of them).
//! `cargo run -p kube-emulator --example load [-- N]`

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

const CRD: &str = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"gadgets.load.example.com"},
 "spec":{"group":"load.example.com","scope":"Namespaced","names":{"plural":"gadgets","kind":"Gadget"},
  "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
   "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","properties":{"size":{"type":"integer","minimum":1},"number":{"type":"string","pattern":"^\\+[1-9][0-9]{6,14}$"}},
       "x-kubernetes-validations":[{"rule":"self.size < 1000000","message":"too big"}]},
     "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}}"#;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

async fn count_added(http: reqwest::Client, url: String, want: usize) -> Duration {
    let t = Instant::now();
    let resp = http.get(url).send().await.expect("watch");
    let mut s = resp.bytes_stream();
    let mut n = 0;
    while n < want {
        let chunk = s.next().await.expect("stream").expect("chunk");
        n += chunk.iter().filter(|b| **b == b'\n').count();
    }
    t.elapsed()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let t0 = Instant::now();
    let emu = kube_emulator::start(kube_emulator::EmulatorConfig::default()).await?;
    let startup = t0.elapsed();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let t1 = Instant::now();
    http.get(format!("{}/version", emu.url()))
        .send()
        .await?
        .error_for_status()?;
    let first_request = t1.elapsed();
    let base = emu.url();
    http.post(format!(
        "{base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    ))
    .header("content-type", "application/json")
    .body(CRD)
    .send()
    .await?
    .error_for_status()?;
    let coll = format!("{base}/apis/load.example.com/v1/namespaces/default/gadgets");
    let watchers: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(count_added(
                http.clone(),
                format!("{coll}?watch=true&resourceVersion=1"),
                n,
            ))
        })
        .collect();
    let rss0 = rss_kib();

    let t = Instant::now();
    let bodies = (0..n).map(|i| {
        json!({"apiVersion":"load.example.com/v1","kind":"Gadget","metadata":{"name": format!("g{i:05}"),"labels":{"batch": (i % 10).to_string()}},
               "spec":{"size": i + 1, "number": format!("+1555{:07}", i)}})
    });
    let results: Vec<u16> = futures::stream::iter(bodies)
        .map(|b| {
            let http = http.clone();
            let coll = coll.clone();
            async move {
                http.post(&coll)
                    .json(&b)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let create = t.elapsed();
    let rss_created = rss_kib();
    assert!(results.iter().all(|c| *c == 201), "all created");

    let t = Instant::now();
    let list: Value = http.get(&coll).send().await?.json().await?;
    let list_time = t.elapsed();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(n));
    let t = Instant::now();
    let sel: Value = http
        .get(format!("{coll}?labelSelector=batch%3D3"))
        .send()
        .await?
        .json()
        .await?;
    let sel_time = t.elapsed();
    assert_eq!(sel["items"].as_array().map(Vec::len), Some(n / 10));

    let mut live = Vec::new();
    for w in watchers {
        live.push(w.await?);
    }
    let replay = count_added(http.clone(), format!("{coll}?watch=true"), n).await;
    let rss1 = rss_kib();
    let stats = emu.stats();
    println!("objects: {n}");
    println!(
        "start-up: start() {:.2} ms; first /version round trip {:.2} ms",
        startup.as_secs_f64() * 1e3,
        first_request.as_secs_f64() * 1e3
    );
    println!(
        "create {n} (32 in flight): {:.2} s = {:.0}/s",
        create.as_secs_f64(),
        n as f64 / create.as_secs_f64()
    );
    println!(
        "list all: {:.0} ms; list with label selector ({} items): {:.0} ms",
        list_time.as_secs_f64() * 1e3,
        n / 10,
        sel_time.as_secs_f64() * 1e3
    );
    println!(
        "3 live watchers got all {n} ADDED within {:.2} s of opening (during creation)",
        live.iter().max().unwrap_or(&Duration::ZERO).as_secs_f64()
    );
    println!(
        "fresh watch replaying {n} current objects: {:.0} ms",
        replay.as_secs_f64() * 1e3
    );
    println!(
        "process RSS (server + client): {} MiB empty, {} MiB after creating, {} MiB after list/watch",
        rss0 / 1024,
        rss_created / 1024,
        rss1 / 1024
    );
    println!("stats: {stats:?}");
    emu.shutdown().await;
    Ok(())
}
