//! The controller shell against the Kubernetes API emulator and the Twilio simulator (the
//! sandbox's stack): Kubernetes writes and Twilio calls per purchased number, measured.

use crate::api::{Phase, PhoneNumber, TelephonyAccount};
use crate::sandbox::examples::{BYO_ACCOUNT_SID, BYO_AUTH_TOKEN};
use crate::sandbox::stack::{Stack, StackOptions};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use std::time::Duration;

async fn wait_until<F: AsyncFnMut() -> bool>(what: &str, mut f: F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn byo_account(stack: &Stack, ns: &str) {
    let client = stack.client.clone();
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .unwrap();
    let pp = PatchParams::apply("test").force();
    Api::<Secret>::namespaced(client.clone(), ns)
        .patch(
            "twilio",
            &pp,
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "twilio"},
                "stringData": {"accountSid": BYO_ACCOUNT_SID, "authToken": BYO_AUTH_TOKEN}
            })),
        )
        .await
        .unwrap();
    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), ns);
    accounts
        .patch("acct", &pp, &Patch::Apply(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount", "metadata": {"name": "acct"},
            "spec": {"mode": "BringYourOwn", "friendlyName": "budget", "credentialsSecretRef": {"name": "twilio"}}
        })))
        .await
        .unwrap();
    wait_until("account ready", async || {
        accounts
            .get("acct")
            .await
            .ok()
            .and_then(|a| a.status)
            .is_some_and(|s| {
                s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_twilio_calls_per_purchased_number() {
    let stack = Stack::start(StackOptions::default()).await.unwrap();
    let client = stack.client.clone();
    let ns = "budget";
    byo_account(&stack, ns).await;
    // Let the account controller settle, then count from here.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let emulator = stack.emulator.as_ref().unwrap();
    let before = emulator.stats();
    stack.sim.reset_counters();
    let numbers = Api::<PhoneNumber>::namespaced(client.clone(), ns);
    const N: u64 = 20;
    for i in 0..N {
        numbers
            .create(&PostParams::default(), &serde_json::from_value(json!({
                "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber", "metadata": {"name": format!("n{i}")},
                "spec": {"accountRef": {"name": "acct"}, "search": {"country": "US", "type": "Local", "areaCode": 415},
                         "friendlyName": "budget", "voice": {"url": "https://example.test/voice"}}
            })).unwrap())
            .await
            .unwrap();
    }
    wait_until("all numbers active", async || {
        numbers.list(&Default::default()).await.is_ok_and(|l| {
            l.items.len() == N as usize
                && l.items.iter().all(|p| {
                    p.status.as_ref().is_some_and(|s| {
                        s.phase == Some(Phase::Active) && s.purchase_intent.is_none()
                    })
                })
        })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = emulator.stats();
    let writes = (after.updates - before.updates) + (after.patches - before.patches);
    let twilio = stack.sim.counters();
    eprintln!(
        "{N} numbers: {writes} Kubernetes updates/patches ({:.2} per number), {} Twilio requests ({:.2} per number): {:?}",
        writes as f64 / N as f64,
        twilio.total_requests,
        twilio.total_requests as f64 / N as f64,
        twilio.requests
    );
    assert_eq!(stack.sim.purchase_log().len(), N as usize);
    // finalizer + intent + Active per number, plus a little slack for the account's own status.
    assert!(writes <= 3 * N + 5, "{writes} writes for {N} numbers");
    // search (shared) + buy per number, plus one inventory list and the pricing lookups.
    assert!(twilio.total_requests <= 2 * N + 4, "{:?}", twilio.requests);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_exactly_once_under_twilio_faults_conflicts_and_watch_drops() {
    let stack = Stack::start(StackOptions {
        resync_seconds: 2,
        time_scale: 20.0,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = stack.client.clone();
    let ns = "faults";
    byo_account(&stack, ns).await;
    stack.sim.set_faults(twilio_sim::FaultConfig {
        error_5xx_rate: 0.1,
        rate_429: 0.1,
        drop_connection_rate: 0.05,
        commit_then_fail_rate: 0.3,
        ..Default::default()
    });
    let emulator = stack.emulator.as_ref().unwrap();
    let numbers = Api::<PhoneNumber>::namespaced(client.clone(), ns);
    let preowned: Vec<String> = stack
        .sim
        .owned_numbers(BYO_ACCOUNT_SID)
        .into_iter()
        .map(|o| o.phone_number)
        .collect();
    const N: usize = 15;
    for i in 0..N {
        let obj: PhoneNumber = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber", "metadata": {"name": format!("f{i}")},
            "spec": {"accountRef": {"name": "acct"}, "search": {"country": "US", "type": "Local", "areaCode": 212}}
        }))
        .unwrap();
        // The injected conflicts hit whoever writes next, this test included.
        while let Err(e) = numbers.create(&PostParams::default(), &obj).await {
            assert!(matches!(&e, kube::Error::Api(s) if s.code == 409), "{e}");
        }
        if i % 5 == 0 {
            emulator.faults().conflict_next_writes(2);
            emulator.faults().drop_watches();
        }
    }
    wait_until("all numbers active despite faults", async || {
        numbers.list(&Default::default()).await.is_ok_and(|l| {
            l.items.len() == N
                && l.items.iter().all(|p| {
                    p.status.as_ref().is_some_and(|s| {
                        s.phase == Some(Phase::Active) && s.purchase_intent.is_none()
                    })
                })
        })
    })
    .await;
    let mut in_status: Vec<String> = numbers
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.status.and_then(|s| s.phone_number))
        .collect();
    in_status.sort();
    in_status.dedup();
    assert_eq!(in_status.len(), N, "distinct numbers");
    let log = stack.sim.purchase_log();
    assert_eq!(log.len(), N, "no duplicate purchase: {log:#?}");
    let mut owned: Vec<String> = stack
        .sim
        .owned_numbers(BYO_ACCOUNT_SID)
        .into_iter()
        .map(|o| o.phone_number)
        .filter(|n| !preowned.contains(n))
        .collect();
    owned.sort();
    assert_eq!(owned, in_status, "no untracked number");
    stack.shutdown().await;
}
