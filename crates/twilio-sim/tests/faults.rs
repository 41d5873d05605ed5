//! Fault injection (latency, 5xx, 429 with Retry-After, dropped connections, commit-then-fail),
//! the admin endpoints, seeded determinism and the request counters.

mod common;
use common::{Env, assert_error};
use std::time::{Duration, Instant};
use twilio_sim::{CommitFailMode, FaultConfig, SimConfig, SimSettings};

#[tokio::test]
async fn error_5xx_and_429_are_not_executed() {
    let env = Env::new().await;
    let path = env.numbers_path(&env.acct.sid);
    env.sim.set_faults(FaultConfig {
        error_5xx_rate: 1.0,
        ..Default::default()
    });
    let r = env.post(&path, &[("AreaCode", "415")]).await;
    assert_error(&r, 503, 20503);
    assert_eq!(
        r.body["message"],
        "Service is unavailable, please try again"
    );
    env.sim.set_faults(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: Some(7),
        ..Default::default()
    });
    let r = env.post(&path, &[("AreaCode", "415")]).await;
    assert_error(&r, 429, 20429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "7");
    env.sim.set_faults(FaultConfig {
        rate_429: 1.0,
        ..Default::default()
    });
    assert!(
        env.post(&path, &[("AreaCode", "415")])
            .await
            .headers
            .get("retry-after")
            .is_none()
    );
    assert!(env.sim.owned_numbers(&env.acct.sid).is_empty());
    let c = env.sim.counters();
    assert_eq!(
        (c.faults.errors_5xx, c.faults.rate_limited_429, c.purchases),
        (1, 2, 0)
    );
    env.sim.set_faults(FaultConfig::default());
    assert_eq!(env.post(&path, &[("AreaCode", "415")]).await.status, 201);
}

#[tokio::test]
async fn dropped_connection_before_execution() {
    let env = Env::new().await;
    env.sim.set_faults(FaultConfig {
        drop_connection_rate: 1.0,
        ..Default::default()
    });
    let (u, p) = env.creds();
    let r = env
        .try_post(
            &u,
            &p,
            &env.numbers_path(&env.acct.sid),
            &[("AreaCode", "415")],
        )
        .await;
    assert!(r.is_err(), "expected a connection error");
    assert!(env.sim.owned_numbers(&env.acct.sid).is_empty());
    assert_eq!(env.sim.counters().faults.dropped_connections, 1);
    // Not a byte of response is written.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(env.server.local_addr())
        .await
        .unwrap();
    let auth = base64_basic(&u, &p);
    let req = format!(
        "GET /2010-04-01/Accounts/{u}.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tcp.read_to_end(&mut buf).await;
    assert!(buf.is_empty(), "got {:?}", String::from_utf8_lossy(&buf));
    // Admin endpoints are never faulted.
    let c = env
        .http
        .get(env.url("/_sim/counters"))
        .send()
        .await
        .unwrap();
    assert_eq!(c.status(), 200);
}

#[tokio::test]
async fn commit_then_fail_leaves_the_number_owned() {
    let env = Env::new().await;
    env.sim.set_faults(FaultConfig {
        commit_then_fail_rate: 1.0,
        ..Default::default()
    });
    let (u, p) = env.creds();
    let path = env.numbers_path(&env.acct.sid);
    let r = env
        .try_post(
            &u,
            &p,
            &path,
            &[("AreaCode", "415"), ("FriendlyName", "lost reply")],
        )
        .await;
    assert!(r.is_err(), "response must be lost");
    let owned = env.sim.owned_numbers(&env.acct.sid);
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].friendly_name, "lost reply");
    assert_eq!(env.sim.purchase_log().len(), 1);
    assert_eq!(env.sim.counters().faults.commit_then_fail, 1);
    // Other calls are unaffected: the client can find the number in the inventory.
    let list = env
        .get(&format!(
            "{path}?PhoneNumber={}",
            owned[0].phone_number.replace('+', "%2B")
        ))
        .await;
    assert_eq!(
        list.body["incoming_phone_numbers"][0]["sid"],
        owned[0].sid.as_str()
    );
    // Failed purchases are not faulted (nothing committed).
    assert_error(&env.post(&path, &[("AreaCode", "533")]).await, 400, 21452);
}

#[tokio::test]
async fn commit_then_fail_as_500() {
    let settings = SimSettings {
        commit_then_fail: CommitFailMode::Error500,
        ..Default::default()
    };
    let faults = FaultConfig {
        commit_then_fail_rate: 1.0,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        settings,
        faults,
        ..Default::default()
    })
    .await;
    let r = env
        .post(&env.numbers_path(&env.acct.sid), &[("AreaCode", "212")])
        .await;
    assert_error(&r, 500, 20500);
    assert_eq!(env.sim.owned_numbers(&env.acct.sid).len(), 1);
}

#[tokio::test]
async fn latency_is_added() {
    let faults = FaultConfig {
        latency_ms: 120,
        jitter_ms: 30,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        faults,
        ..Default::default()
    })
    .await;
    let t = Instant::now();
    assert_eq!(env.get(&env.numbers_path(&env.acct.sid)).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn admin_faults_endpoint() {
    let env = Env::new().await;
    let r = env
        .http
        .put(env.url("/_sim/faults"))
        .json(&serde_json::json!({"error_5xx_rate": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(env.sim.faults().error_5xx_rate, 1.0);
    assert_error(&env.get(&env.numbers_path(&env.acct.sid)).await, 503, 20503);
    let f: FaultConfig = env
        .http
        .get(env.url("/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f.error_5xx_rate, 1.0);
    let bad = env
        .http
        .put(env.url("/_sim/faults"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    env.http
        .put(env.url("/_sim/faults"))
        .json(&FaultConfig::default())
        .send()
        .await
        .unwrap();
    assert_eq!(env.get(&env.numbers_path(&env.acct.sid)).await.status, 200);
}

async fn statuses(seed: u64) -> Vec<u16> {
    let faults = FaultConfig {
        rate_429: 0.3,
        error_5xx_rate: 0.3,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        faults,
        seed,
        ..Default::default()
    })
    .await;
    let mut out = Vec::new();
    for _ in 0..40 {
        out.push(env.get(&env.numbers_path(&env.acct.sid)).await.status);
    }
    out
}

#[tokio::test]
async fn faults_are_seeded() {
    let a = statuses(42).await;
    assert_eq!(a, statuses(42).await);
    assert!(
        a.contains(&200) && a.contains(&429) && a.contains(&503),
        "{a:?}"
    );
}

#[tokio::test]
async fn counters_and_state_dump() {
    let env = Env::new().await;
    let (ksid, ksecret) = env.sim.add_api_key(&env.acct.sid, false).unwrap();
    let path = env.numbers_path(&env.acct.sid);
    env.buy_in("415").await;
    let n = env.buy_in("415").await;
    env.get(&path).await;
    env.get_as(&ksid, &ksecret, &path).await;
    env.delete(&format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
        env.acct.sid,
        n["sid"].as_str().unwrap()
    ))
    .await;
    env.get("/v1/PhoneNumbers/Countries/US").await;
    env.get("/nope").await;
    let c = env.sim.counters();
    assert_eq!(
        c.requests["POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"],
        2
    );
    assert_eq!(
        c.requests["GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"],
        2
    );
    assert_eq!(
        c.requests["DELETE /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json"],
        1
    );
    assert_eq!(c.requests["GET /v1/PhoneNumbers/Countries/{IsoCountry}"], 1);
    assert_eq!(c.requests["unmatched"], 1);
    assert_eq!(c.total_requests, 7);
    assert_eq!((c.purchases, c.releases), (2, 1));
    let over_http: twilio_sim::Counters = serde_json::from_value(
        env.http
            .get(env.url("/_sim/counters"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    )
    .unwrap_or_else(|_| panic!("counters JSON"));
    assert_eq!(over_http.total_requests, 7);
    env.sim.reset_counters();
    assert_eq!(env.sim.counters().total_requests, 0);
    let state = env
        .http
        .get(env.url("/_sim/state"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(state.contains(&env.acct.sid));
    assert!(
        state.contains(
            env.sim.owned_numbers(&env.acct.sid)[0]
                .phone_number
                .as_str()
        )
    );
    assert!(
        !state.contains(&env.acct.auth_token),
        "no tokens in the dump"
    );
    assert!(!state.contains(&ksecret), "no secrets in the dump");
    let (_, test_token) = env.sim.test_credentials(&env.acct.sid).unwrap();
    assert!(!state.contains(&test_token));
}

fn base64_basic(u: &str, p: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{u}:{p}").into_bytes();
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn per_account_concurrency_limit() {
    let settings = SimSettings {
        max_concurrent_requests: Some(2),
        ..Default::default()
    };
    let faults = FaultConfig {
        latency_ms: 300,
        ..Default::default()
    };
    let env = Env::with(SimConfig {
        settings,
        faults,
        ..Default::default()
    })
    .await;
    let path = env.numbers_path(&env.acct.sid);
    let futs = (0..8).map(|_| env.get(&path));
    let results = futures::future::join_all(futs).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    assert!(!limited.is_empty(), "some requests must exceed the limit");
    assert!(ok >= 2 && ok + limited.len() == 8);
    for r in limited {
        assert_error(r, 429, 20429);
    }
    let c = env.sim.counters();
    assert_eq!(c.faults.concurrency_429 as usize, 8 - ok);
    assert!(c.max_in_flight[&env.acct.sid] >= 2);
    // Another account has its own budget.
    let other = env.sim.add_account("o");
    assert_eq!(
        env.get_as(&other.sid, &other.auth_token, &env.numbers_path(&other.sid))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn trial_accounts_own_one_number() {
    let env = Env::new().await;
    let trial = twilio_sim::SeedAccount {
        sid: twilio_sim::random_sid("AC"),
        auth_token: "t".into(),
        friendly_name: "trial".into(),
        balance: "15.50".parse().unwrap(),
        account_type: "Trial".into(),
    };
    let sim = twilio_sim::Simulator::new(SimConfig {
        accounts: vec![trial.clone()],
        ..Default::default()
    });
    let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!(
        "{}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        server.base_url(),
        trial.sid
    );
    let post = || {
        env.http
            .post(&url)
            .basic_auth(&trial.sid, Some("t"))
            .form(&[("AreaCode", "415")])
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 201);
    let second: serde_json::Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(second["code"], 21404);
    assert_eq!(sim.owned_numbers(&trial.sid).len(), 1);
}
