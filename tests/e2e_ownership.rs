//! End to end, one number one owner (issue: one Twilio account behind two namespaces gave one
//! number two owners): two namespaces whose TelephonyAccounts reach the same Twilio account name
//! the same number. The first adopts it; the second is refused (`NumberClaimed`, without naming
//! the other namespace), never overwrites the owner's configuration, and deleting it releases
//! nothing. On the emulator and, with `TELEPHONY_E2E_KUBECONFIG`, on a real cluster.

#[path = "e2e/common.rs"]
mod common;

use common::*;
use kube::Api;
use kube::api::DeleteParams;
use serde_json::json;
use telephony_operator::api::PhoneNumber;
use telephony_operator::sandbox::examples::{BYO_ACCOUNT_SID, PRE_OWNED_NUMBER};
use telephony_operator::sandbox::stack::{Stack, StackOptions};

fn exact(name: &str, voice: &str) -> serde_json::Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": name},
        "spec": {"accountRef": {"name": "acct"}, "number": PRE_OWNED_NUMBER, "deletionPolicy": "Release",
                 "voice": {"url": voice}}
    })
}

async fn one_number_one_owner_across_namespaces(stack: &mut Stack) {
    let client = stack.client.clone();
    let owner_ns = byo_namespace(&client, "owner").await;
    let other_ns = byo_namespace(&client, "intruder").await;
    apply(
        &client,
        &owner_ns,
        exact("line", "https://owner.example/voice"),
    )
    .await;
    wait_ready(&client, &owner_ns, "line").await;

    apply(
        &client,
        &other_ns,
        exact("line", "https://intruder.example/voice"),
    )
    .await;
    let refused = wait_number(&client, &other_ns, "line", "NumberClaimed", |pn| {
        stalled_of(pn).is_some_and(|(reason, _)| reason == "NumberClaimed")
    })
    .await;
    let (_, message) = stalled_of(&refused).unwrap();
    assert!(
        !message.contains(&owner_ns),
        "another namespace is not named: {message}"
    );
    let owned = |sim: &twilio_sim::Simulator| {
        sim.owned_numbers(BYO_ACCOUNT_SID)
            .into_iter()
            .find(|o| o.phone_number == PRE_OWNED_NUMBER)
    };
    let at_twilio = owned(&stack.sim).expect("still owned");
    assert_eq!(
        at_twilio.voice_url, "https://owner.example/voice",
        "the owner's webhook stays"
    );

    // Deleting the refused one releases nothing; the owner keeps its number.
    Api::<PhoneNumber>::namespaced(client.clone(), &other_ns)
        .delete("line", &DeleteParams::default())
        .await
        .expect("deleted");
    wait_gone(&client, &other_ns, "line").await;
    assert!(
        owned(&stack.sim).is_some(),
        "not released from under its owner"
    );
    let owner = wait_ready(&client, &owner_ns, "line").await;
    assert_eq!(
        owner.status.unwrap().phone_number.as_deref(),
        Some(PRE_OWNED_NUMBER)
    );
}

/// The Stalled condition's (reason, message) of a PhoneNumber.
fn stalled_of(pn: &PhoneNumber) -> Option<(String, String)> {
    pn.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Stalled" && c.status == "True")
        .map(|c| (c.reason.clone(), c.message.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_one_number_one_owner_across_namespaces() {
    let mut stack = emulator_stack(StackOptions::default()).await;
    one_number_one_owner_across_namespaces(&mut stack).await;
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_cluster_one_number_one_owner_across_namespaces() {
    if let Some(mut real) = real_cluster_stack(StackOptions::default()).await {
        one_number_one_owner_across_namespaces(&mut real.stack).await;
        real.stack.shutdown().await;
    }
}
