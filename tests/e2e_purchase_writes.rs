//! What one purchase costs the API server, counted from watches: the PhoneNumber's writes after
//! its create, and its claim Lease's. A purchase is the intent (status, with the
//! resourceVersion read), the result (status) and the claim (a Lease create); the finalizer is a
//! fourth write unless the PhoneNumber was created with it — which deploy/'s
//! MutatingAdmissionPolicy (components/finalizer-at-create) does on a real cluster. The
//! emulator has no admission policies: there the operator adds the finalizer itself.

#[macro_use]
#[path = "e2e/common.rs"]
mod common;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use kube::{Api, ResourceExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use telephony_operator::api::{FINALIZER, PhoneNumber, TelephonyAccount};
use telephony_operator::controller::claims::{CLAIM_LABEL, HOLDER_UID_LABEL};
use telephony_operator::sandbox::stack::{Stack, StackOptions};

/// How long writes are still counted after the PhoneNumber turned Ready (a trailing write
/// belongs to the purchase too).
const TRAILING: Duration = Duration::from_secs(2);

/// Every change a watch from `rv` sees, as (type, holder uid label) for Leases.
fn collect_leases(api: Api<Lease>, rv: String, seen: Arc<Mutex<Vec<(String, String)>>>) {
    tokio::spawn(async move {
        let params = WatchParams::default().labels(CLAIM_LABEL).timeout(120);
        let Ok(stream) = api.watch(&params, &rv).await else {
            return;
        };
        let mut stream = stream.boxed();
        while let Some(Ok(event)) = stream.next().await {
            let (kind, lease) = match event {
                WatchEvent::Added(l) => ("ADDED", l),
                WatchEvent::Modified(l) => ("MODIFIED", l),
                WatchEvent::Deleted(l) => ("DELETED", l),
                _ => continue,
            };
            let holder = lease
                .labels()
                .get(HOLDER_UID_LABEL)
                .cloned()
                .unwrap_or_default();
            seen.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((kind.to_string(), holder));
        }
    });
}

async fn purchase_writes(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "writes").await;
    // The account Ready first: a PhoneNumber reconciled before it says so in its status (a
    // write that is not the purchase's).
    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), &ns);
    wait_for(
        "account acct Ready",
        CONVERGE,
        async || accounts.get_opt("acct").await.ok().flatten(),
        |a| account_ready_of(a).is_some_and(|(s, _)| s == "True"),
    )
    .await;

    let leases = Api::<Lease>::namespaced(client.clone(), &stack.config.operator_namespace);
    let lease_rv = leases
        .list_metadata(&ListParams::default().labels(CLAIM_LABEL))
        .await
        .expect("list claims")
        .metadata
        .resource_version
        .expect("list resourceVersion");
    let lease_events = Arc::new(Mutex::new(Vec::new()));
    collect_leases(leases, lease_rv, lease_events.clone());

    let pns = Api::<PhoneNumber>::namespaced(client.clone(), &ns);
    let mut manifest = search_number("bought", 415);
    manifest["metadata"]["namespace"] = ns.clone().into();
    label_for_stack(&mut manifest);
    let created = pns
        .create(
            &PostParams::default(),
            &serde_json::from_value(manifest).expect("a PhoneNumber"),
        )
        .await
        .expect("PhoneNumber created");
    let uid = created.uid().expect("uid");
    let finalizer_at_create = created.finalizers().iter().any(|f| f == FINALIZER);
    if stack.emulator.is_none() {
        assert!(
            finalizer_at_create,
            "on the real cluster deploy/'s finalizer policy adds {FINALIZER} at creation: {:?}",
            created.finalizers()
        );
    }

    // Every write after the create, until Ready and a little beyond.
    let params = WatchParams::default()
        .fields("metadata.name=bought")
        .timeout(120);
    let mut stream = pns
        .watch(
            &params,
            &created.resource_version().expect("resourceVersion"),
        )
        .await
        .expect("watch the PhoneNumber")
        .boxed();
    let mut writes: Vec<String> = Vec::new();
    let mut ready_at = None;
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        let until = ready_at.map_or(deadline, |r: tokio::time::Instant| r + TRAILING);
        let next = match tokio::time::timeout_at(until, stream.next()).await {
            Ok(Some(Ok(event))) => event,
            Ok(other) => panic!("the watch ended: {other:?}; writes so far: {writes:?}"),
            Err(_) if ready_at.is_some() => break,
            Err(_) => panic!("not Ready within {CONVERGE:?}; writes so far: {writes:?}"),
        };
        if let WatchEvent::Modified(pn) = next {
            let phase = pn
                .status
                .as_ref()
                .and_then(|s| s.phase)
                .map(|p| format!("{p:?}"))
                .unwrap_or_else(|| "no status".into());
            let intent = pn
                .status
                .as_ref()
                .is_some_and(|s| s.purchase_intent.is_some());
            writes.push(format!(
                "{phase} (finalizers {:?}, intent {intent})",
                pn.finalizers()
            ));
            if ready_of(&pn).is_some_and(|(s, _)| s == "True") && ready_at.is_none() {
                ready_at = Some(tokio::time::Instant::now());
            }
        }
    }
    let claims: Vec<(String, String)> = lease_events
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(_, holder)| *holder == uid)
        .cloned()
        .collect();

    let expected_pn_writes = if finalizer_at_create { 2 } else { 3 };
    assert_eq!(
        writes.len(),
        expected_pn_writes,
        "PhoneNumber writes of one purchase (finalizer at create: {finalizer_at_create}): {writes:#?}"
    );
    assert_eq!(
        claims,
        vec![("ADDED".to_string(), uid.clone())],
        "one claim Lease create"
    );
    eprintln!(
        "one purchase: {} PhoneNumber writes + {} claim Lease write (finalizer at create: {finalizer_at_create}): {writes:?}",
        writes.len(),
        claims.len()
    );
    if finalizer_at_create {
        assert!(writes.len() + claims.len() <= 3, "≤ 3 object writes");
    }
}

scenario!(
    a_purchase_costs_its_writes,
    real_cluster_a_purchase_costs_three_writes,
    purchase_writes,
    StackOptions::default()
);
