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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_twilio_calls_per_purchased_number() {
    let stack = Stack::start(StackOptions::default()).await.unwrap();
    let client = stack.client.clone();
    let ns = "budget";
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
