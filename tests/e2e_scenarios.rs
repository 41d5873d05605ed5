//! End-to-end scenarios: the real operator against the Kubernetes API emulator and the Twilio
//! simulator — and, unchanged, against a real cluster when `TELEPHONY_E2E_KUBECONFIG` is set
//! (the `real_cluster_*` twins are skipped with a message otherwise).

#[macro_use]
#[path = "e2e/common.rs"]
mod common;

use common::*;
use jiff::SignedDuration;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;
use std::sync::Arc;
use telephony_operator::api::{Phase, PhoneNumber, RenewalPolicy, TelephonyAccount};
use telephony_operator::clock::ManualClock;
use telephony_operator::sandbox::examples::BYO_ACCOUNT_SID;
use telephony_operator::sandbox::stack::{Stack, StackOptions};

fn fast_resync() -> StackOptions {
    StackOptions {
        resync_seconds: 1,
        ..Default::default()
    }
}

// apply → Ready with pricing and deadlines in status.
async fn apply_reaches_ready(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "ready").await;
    apply(&client, &ns, search_number("sales", 415)).await;
    let pn = wait_ready(&client, &ns, "sales").await;
    let status = pn.status.clone().unwrap();
    let number = status.phone_number.clone().expect("number in status");
    assert!(number.starts_with("+1415"), "{number}");
    assert!(status.sid.as_deref().is_some_and(|s| s.starts_with("PN")));
    assert_eq!(status.phase, Some(Phase::Active));
    let pricing = status.pricing.expect("pricing in status");
    assert_eq!(pricing.currency, "USD");
    assert!(pricing.monthly_fee.parse::<rust_decimal::Decimal>().is_ok());
    let renewal = status.renewal.expect("renewal in status");
    assert_eq!(renewal.policy, RenewalPolicy::BilledByTwilio);
    assert!(
        renewal
            .next_renewal_at
            .is_some_and(|t| t.0 > stack.clock.now())
    );
    assert_eq!(status.observed_generation, pn.metadata.generation);
    let owned = stack.sim.owned_numbers(BYO_ACCOUNT_SID);
    assert!(
        owned.iter().any(|o| o.phone_number == number),
        "bought at Twilio"
    );
}
scenario!(
    emulator_apply_reaches_ready,
    real_cluster_apply_reaches_ready,
    apply_reaches_ready,
    StackOptions::default()
);

// configuration change → synced at Twilio.
async fn config_change_is_synced(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "sync").await;
    apply(&client, &ns, search_number("line", 212)).await;
    let number = wait_ready(&client, &ns, "line")
        .await
        .status
        .unwrap()
        .phone_number
        .unwrap();
    let api = Api::<PhoneNumber>::namespaced(client.clone(), &ns);
    api.patch("line", &PatchParams::default(), &Patch::Merge(json!({"spec": {"voice": {"url": "https://example.test/new"}, "friendlyName": "renamed"}})))
        .await
        .unwrap();
    let sim = stack.sim.clone();
    wait_for(
        "voice URL synced at Twilio",
        CONVERGE,
        async || {
            sim.owned_numbers(BYO_ACCOUNT_SID)
                .into_iter()
                .find(|o| o.phone_number == number)
        },
        |o| o.voice_url == "https://example.test/new" && o.friendly_name == "renamed",
    )
    .await;
    wait_number(&client, &ns, "line", "observedGeneration caught up", |pn| {
        pn.status.as_ref().and_then(|s| s.observed_generation) == pn.metadata.generation
            && ready_of(pn).is_some_and(|(s, _)| s == "True")
    })
    .await;
}
scenario!(
    emulator_config_change_is_synced,
    real_cluster_config_change_is_synced,
    config_change_is_synced,
    StackOptions::default()
);

// delete → released at Twilio (no quarantine window); Retain → kept.
async fn delete_releases_or_retains(stack: &mut Stack) {
    stack.config.release_quarantine_seconds = 0;
    stack.start_operator().expect("operator starts");
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "delete").await;
    apply(&client, &ns, search_number("released", 415)).await;
    let mut kept = search_number("kept", 415);
    kept["spec"]["deletionPolicy"] = json!("Retain");
    apply(&client, &ns, kept).await;
    let released_number = wait_ready(&client, &ns, "released")
        .await
        .status
        .unwrap()
        .phone_number
        .unwrap();
    let kept_number = wait_ready(&client, &ns, "kept")
        .await
        .status
        .unwrap()
        .phone_number
        .unwrap();
    let api = Api::<PhoneNumber>::namespaced(client.clone(), &ns);
    api.delete("released", &DeleteParams::default())
        .await
        .unwrap();
    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&client, &ns, "released").await;
    wait_gone(&client, &ns, "kept").await;
    let owned: Vec<String> = stack
        .sim
        .owned_numbers(BYO_ACCOUNT_SID)
        .into_iter()
        .map(|o| o.phone_number)
        .collect();
    assert!(
        !owned.contains(&released_number),
        "Release gave the number back"
    );
    assert!(owned.contains(&kept_number), "Retain kept the number");
}
scenario!(
    emulator_delete_releases_or_retains,
    real_cluster_delete_releases_or_retains,
    delete_releases_or_retains,
    StackOptions {
        start_operator: false,
        ..Default::default()
    }
);

// A rename must not lose a number: the deleted PhoneNumber goes at once, its number is held by
// the account (status.heldNumbers, with the release time) and adopted by the renamed manifest
// — across an operator killed during the window. Deleted again, it is released when the window
// ends, also when the operator was down at that moment.
async fn rename_keeps_the_number(stack: &mut Stack) {
    const WINDOW_SECONDS: u64 = 8;
    stack.config.release_quarantine_seconds = WINDOW_SECONDS;
    stack.start_operator().expect("operator starts");
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "rename").await;
    apply(&client, &ns, search_number("old-name", 415)).await;
    let number = wait_ready(&client, &ns, "old-name")
        .await
        .status
        .unwrap()
        .phone_number
        .unwrap();
    let owned = |stack: &Stack| -> Vec<String> {
        stack
            .sim
            .owned_numbers(BYO_ACCOUNT_SID)
            .into_iter()
            .map(|o| o.phone_number)
            .collect()
    };
    let numbers = Api::<PhoneNumber>::namespaced(client.clone(), &ns);
    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), &ns);
    let held_of = async |accounts: &Api<TelephonyAccount>| {
        accounts
            .get_opt("acct")
            .await
            .ok()
            .flatten()
            .and_then(|a| a.status)
            .map(|s| s.held_numbers)
    };

    // Deleted: gone at once (well inside the window), the number still in the account.
    let deleted_at = std::time::Instant::now();
    numbers
        .delete("old-name", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&client, &ns, "old-name").await;
    assert!(
        deleted_at.elapsed() < std::time::Duration::from_secs(WINDOW_SECONDS),
        "the PhoneNumber is not held back by the window"
    );
    assert!(owned(stack).contains(&number), "{number} not released yet");
    let held = wait_for(
        "the account lists the held number",
        CONVERGE,
        async || held_of(&accounts).await,
        |h| h.iter().any(|h| h.phone_number == number),
    )
    .await;
    assert_eq!(held[0].deleted_from, "old-name");
    assert!(held[0].release_at.0 > held[0].held_since.0);

    // The operator is killed during the window and comes back; the renamed manifest adopts it.
    stack.stop_operator(true).await;
    stack.start_operator().expect("operator restarts");
    let mut renamed = search_number("new-name", 415);
    renamed["spec"].as_object_mut().unwrap().remove("search");
    renamed["spec"]["number"] = json!(number);
    apply(&client, &ns, renamed).await;
    let adopted = wait_ready(&client, &ns, "new-name").await;
    assert_eq!(
        adopted.status.unwrap().phone_number.as_deref(),
        Some(number.as_str())
    );
    assert_eq!(
        stack.sim.purchase_log().len(),
        1,
        "adopted, never bought again"
    );
    wait_for(
        "the hold is gone from the account",
        CONVERGE,
        async || held_of(&accounts).await,
        |h| h.is_empty(),
    )
    .await;
    // Past the old window: still the new object's number.
    tokio::time::sleep(std::time::Duration::from_secs(WINDOW_SECONDS + 1)).await;
    assert!(
        owned(stack).contains(&number),
        "an adopted number is never released"
    );

    // Deleted for good: held, then released when the window ends — the operator is down then.
    numbers
        .delete("new-name", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&client, &ns, "new-name").await;
    stack.stop_operator(true).await;
    tokio::time::sleep(std::time::Duration::from_secs(WINDOW_SECONDS + 1)).await;
    assert!(
        owned(stack).contains(&number),
        "nothing releases while the operator is down"
    );
    stack.start_operator().expect("operator restarts");
    wait_for(
        "released when the window ended",
        CONVERGE,
        async || Some(owned(stack)),
        |o| !o.contains(&number),
    )
    .await;
    wait_for(
        "no hold left",
        CONVERGE,
        async || held_of(&accounts).await,
        |h| h.is_empty(),
    )
    .await;
    assert_eq!(stack.sim.purchase_log().len(), 1);
}
scenario!(
    emulator_rename_keeps_the_number,
    real_cluster_rename_keeps_the_number,
    rename_keeps_the_number,
    StackOptions {
        start_operator: false,
        ..Default::default()
    }
);

// number released outside → NumberLost, not re-bought.
async fn released_outside_is_lost(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "lost").await;
    apply(&client, &ns, search_number("fragile", 415)).await;
    let number = wait_ready(&client, &ns, "fragile")
        .await
        .status
        .unwrap()
        .phone_number
        .unwrap();
    let purchases_before = stack.sim.purchase_log().len();
    assert!(stack.sim.release_out_of_band(BYO_ACCOUNT_SID, &number));
    let pn = wait_number(&client, &ns, "fragile", "NumberLost", |pn| {
        ready_of(pn).is_some_and(|(s, r)| s == "False" && r == "NumberLost")
    })
    .await;
    assert_eq!(
        pn.status.unwrap().phone_number.as_deref(),
        Some(number.as_str())
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        stack.sim.purchase_log().len(),
        purchases_before,
        "a lost number is never re-bought"
    );
}
scenario!(
    emulator_released_outside_is_lost,
    real_cluster_released_outside_is_lost,
    released_outside_is_lost,
    fast_resync()
);

/// Puts the right Auth Token back and waits for the account "acct" of `ns` to be Ready.
async fn fix_credentials(client: &kube::Client, ns: &str, what: &str) {
    put_secret(
        client,
        ns,
        BYO_ACCOUNT_SID,
        telephony_operator::sandbox::examples::BYO_AUTH_TOKEN,
    )
    .await;
    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), ns);
    wait_for(
        what,
        CONVERGE,
        async || accounts.get_opt("acct").await.ok().flatten(),
        |a| account_ready_of(a).is_some_and(|(s, _)| s == "True"),
    )
    .await;
}

// credentials broken → Ready=False with the reason; recovery once fixed; broken again → the
// repeated warning is one Event whose series counts it.
async fn broken_credentials_recover(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "creds").await;
    put_secret(&client, &ns, BYO_ACCOUNT_SID, "wrong-token").await;
    apply(&client, &ns, search_number("waiting", 415)).await;
    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), &ns);
    let account = wait_for(
        "account reports bad credentials",
        CONVERGE,
        async || accounts.get_opt("acct").await.ok().flatten(),
        |a| account_ready_of(a).is_some_and(|(s, r)| s == "False" && r == "AuthenticationFailed"),
    )
    .await;
    let message = account
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .message;
    assert!(
        !message.contains("wrong-token"),
        "secrets never reach status"
    );
    assert!(
        stack.sim.purchase_log().is_empty(),
        "nothing bought with broken credentials"
    );
    fix_credentials(&client, &ns, "account recovers").await;
    wait_ready(&client, &ns, "waiting").await;

    // Broken again within minutes: the same warning on the same account is one Event whose
    // series counts the repeat (events.k8s.io/v1), not a second Event.
    put_secret(&client, &ns, BYO_ACCOUNT_SID, "wrong-token").await;
    let events = Api::<K8sEvent>::namespaced(client.clone(), &ns);
    let refused = wait_for(
        "the repeated AuthenticationFailed counted in the series of one Event",
        CONVERGE,
        async || {
            let list = events.list(&Default::default()).await.ok()?;
            Some(
                list.items
                    .into_iter()
                    .filter(|e| e.reason.as_deref() == Some("AuthenticationFailed"))
                    .filter(|e| {
                        e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("acct")
                    })
                    .collect::<Vec<_>>(),
            )
        },
        |found| {
            found
                .iter()
                .any(|e| e.series.as_ref().is_some_and(|s| s.count >= 2))
        },
    )
    .await;
    assert_eq!(
        refused.len(),
        1,
        "one Event for the repeated warning, not one per occurrence: {refused:#?}"
    );
    fix_credentials(&client, &ns, "account recovers again").await;
    let number = wait_ready(&client, &ns, "waiting").await;
    assert_eq!(
        stack.sim.purchase_log().len(),
        1,
        "one number bought across both outages: {number:#?}"
    );
}
scenario!(
    emulator_broken_credentials_recover,
    real_cluster_broken_credentials_recover,
    broken_credentials_recover,
    StackOptions::default()
);

// Managed renewal → grace → lapse, on a clock the test moves.
async fn managed_grace_and_lapse(stack: &mut Stack, clock: &ManualClock) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "managed").await;
    apply(&client, &ns, json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount", "metadata": {"name": "managed"},
        "spec": {"mode": "Managed", "friendlyName": "e2e managed", "managed": {
            "termsAccepted": true, "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION}}
    })).await;
    grant_credits(&client, &ns, "managed", "10.00").await;
    let mut pn = search_number("trial", 415);
    pn["spec"]["accountRef"]["name"] = json!("managed");
    pn["spec"]["renewal"] = json!({"autoRenew": false});
    apply(&client, &ns, pn).await;
    let active = wait_ready(&client, &ns, "trial").await;
    let status = active.status.unwrap();
    let number = status.phone_number.unwrap();
    let renewal = status.renewal.unwrap();
    assert_eq!(renewal.policy, RenewalPolicy::Managed);
    assert_eq!(status.pricing.unwrap().source, "RateCard");
    let due = renewal.next_renewal_at.unwrap().0;
    assert_eq!(
        due.duration_since(status.purchased_at.unwrap().0),
        SignedDuration::from_hours(28 * 24)
    );
    let sub = stack.sim.subaccounts(&stack.master.sid);
    assert_eq!(sub.len(), 1, "one subaccount per Managed account");

    clock.set(due.checked_add(SignedDuration::from_secs(1)).unwrap());
    let grace = wait_number(&client, &ns, "trial", "GracePeriod", |pn| {
        pn.status.as_ref().and_then(|s| s.phase) == Some(Phase::GracePeriod)
    })
    .await;
    let deadline = grace
        .status
        .unwrap()
        .renewal
        .unwrap()
        .grace_deadline
        .unwrap()
        .0;
    assert_eq!(
        deadline,
        due.checked_add(SignedDuration::from_hours(48)).unwrap()
    );

    clock.set(deadline.checked_add(SignedDuration::from_secs(1)).unwrap());
    wait_number(&client, &ns, "trial", "Released", |pn| {
        pn.status.as_ref().and_then(|s| s.phase) == Some(Phase::Released)
    })
    .await;
    let owned: Vec<String> = stack
        .sim
        .owned_numbers(&sub[0].0)
        .into_iter()
        .map(|o| o.phone_number)
        .collect();
    assert!(!owned.contains(&number), "lapsed number released at Twilio");
    let purchases = stack
        .sim
        .purchase_log()
        .iter()
        .filter(|p| p.phone_number == number)
        .count();
    assert_eq!(purchases, 1, "a lapsed number is never bought again");
}

/// The Managed scenario on a clock the test moves.
async fn managed_on(real: bool) {
    let clock = ManualClock::new(jiff::Timestamp::now());
    let opts = StackOptions {
        clock: Some(Arc::new(clock.clone())),
        ..Default::default()
    };
    run_scenario(real, opts, async |stack: &mut Stack| {
        managed_grace_and_lapse(stack, &clock).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_managed_grace_and_lapse() {
    managed_on(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_cluster_managed_grace_and_lapse() {
    managed_on(true).await;
}

// operator killed mid-flight and restarted → no duplicate purchase, nothing lost.
async fn restart_mid_flight(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "restart").await;
    stack.sim.set_faults(twilio_sim::FaultConfig {
        latency_ms: 150,
        ..Default::default()
    });
    let names: Vec<String> = (0..12).map(|i| format!("n{i}")).collect();
    for name in &names {
        apply(&client, &ns, search_number(name, 415)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    stack.stop_operator(true).await;
    stack.start_operator().expect("operator restarts");
    let mut numbers = Vec::new();
    for name in &names {
        numbers.push(
            wait_ready(&client, &ns, name)
                .await
                .status
                .unwrap()
                .phone_number
                .unwrap(),
        );
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        names.len(),
        "every object has its own number"
    );
    let log = stack.sim.purchase_log();
    assert_eq!(
        log.len(),
        names.len(),
        "exactly one purchase per PhoneNumber: {log:#?}"
    );
    let owned = stack.sim.owned_numbers(BYO_ACCOUNT_SID);
    for n in &numbers {
        assert!(owned.iter().any(|o| &o.phone_number == n));
    }
}
scenario!(
    emulator_restart_mid_flight,
    real_cluster_restart_mid_flight,
    restart_mid_flight,
    StackOptions::default()
);

// behind leader election: the operator takes its Lease in its namespace, then acts.
async fn leader_acts_after_taking_the_lease(stack: &mut Stack) {
    use k8s_openapi::api::coordination::v1::Lease;
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "leader").await;
    apply(&client, &ns, search_number("led", 415)).await;
    wait_ready(&client, &ns, "led").await;
    let lease = Api::<Lease>::namespaced(client.clone(), &stack.config.operator_namespace)
        .get(&stack.config.lease_name)
        .await
        .expect("the operator's Lease exists");
    let spec = lease.spec.unwrap_or_default();
    let holder = spec.holder_identity.clone();
    assert!(
        holder.as_deref().is_some_and(|h| !h.is_empty()),
        "the Lease names its holder: {holder:?}"
    );
    // The leader keeps renewing it (every 5 s).
    let first_renewal = spec.renew_time.map(|t| t.0);
    let leases = Api::<Lease>::namespaced(client.clone(), &stack.config.operator_namespace);
    let lease_name = stack.config.lease_name.clone();
    wait_for(
        "the leader renews its Lease",
        CONVERGE,
        async || leases.get_opt(&lease_name).await.ok().flatten(),
        |l: &Lease| {
            let s = l.spec.clone().unwrap_or_default();
            s.holder_identity == holder && s.renew_time.map(|t| t.0) > first_renewal
        },
    )
    .await;
}
scenario!(
    emulator_leader_acts_after_taking_the_lease,
    real_cluster_leader_acts_after_taking_the_lease,
    leader_acts_after_taking_the_lease,
    StackOptions {
        leader_election: true,
        ..Default::default()
    }
);

// Deleting an account that still has numbers: the account deletes its PhoneNumbers, each is
// released (or kept, per its deletionPolicy) while the account can still reach Twilio, then the
// account goes. No deadlock, nothing left billed and untracked.
async fn account_deletion_releases_its_numbers(stack: &mut Stack) {
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "acctdel").await;
    apply(&client, &ns, search_number("released", 415)).await;
    let mut kept = search_number("kept", 212);
    kept["spec"]["deletionPolicy"] = json!("Retain");
    apply(&client, &ns, kept).await;
    let number_of = |pn: PhoneNumber| pn.status.unwrap().phone_number.unwrap();
    let released = number_of(wait_ready(&client, &ns, "released").await);
    let retained = number_of(wait_ready(&client, &ns, "kept").await);

    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), &ns);
    accounts
        .delete("acct", &DeleteParams::default())
        .await
        .expect("account deleted");
    wait_gone(&client, &ns, "released").await;
    wait_gone(&client, &ns, "kept").await;
    wait_for(
        "account gone after its numbers",
        CONVERGE,
        async || Some(accounts.get_opt("acct").await.ok().flatten().is_none()),
        |gone| *gone,
    )
    .await;
    let owned: Vec<String> = stack
        .sim
        .owned_numbers(BYO_ACCOUNT_SID)
        .into_iter()
        .map(|o| o.phone_number)
        .collect();
    assert!(!owned.contains(&released), "{released} released at Twilio");
    assert!(owned.contains(&retained), "{retained} kept (Retain)");
}
scenario!(
    emulator_account_deletion_releases_its_numbers,
    real_cluster_account_deletion_releases_its_numbers,
    account_deletion_releases_its_numbers,
    StackOptions::default()
);

// NumberSearch: candidates priced by the Pricing API (BringYourOwn) and the rate card (Managed),
// one Twilio search per generation, a refresh searches again, and the operator deletes each
// search once its TTL has passed (every verb the operator is granted on numbersearches).
async fn number_search_prices_and_expires(stack: &mut Stack) {
    use telephony_operator::api::{NumberSearchResource, NumberType, REFRESH_ANNOTATION};
    const TTL_SECONDS: u64 = 8;
    const LOCAL_SEARCH: &str =
        "GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json";
    stack.config.number_search_ttl_seconds = TTL_SECONDS;
    stack.start_operator().expect("operator starts");
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "nsearch").await;
    apply(&client, &ns, json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount", "metadata": {"name": "managed"},
        "spec": {"mode": "Managed", "friendlyName": "e2e search", "managed": {
            "termsAccepted": true, "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION}}
    }))
    .await;
    grant_credits(&client, &ns, "managed", "10.00").await;
    let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), &ns);
    for name in ["acct", "managed"] {
        wait_for(
            &format!("account {name} Ready"),
            CONVERGE,
            async || accounts.get_opt(name).await.ok().flatten(),
            |a| account_ready_of(a).is_some_and(|(s, _)| s == "True"),
        )
        .await;
    }
    // The operator's label (a real-cluster scenario's operator sees only its own objects).
    let label = stack
        .config
        .label_selector
        .as_deref()
        .and_then(|s| s.split_once('='))
        .map(|(k, v)| json!({k: v}))
        .unwrap_or_else(|| json!({}));
    let searches = Api::<NumberSearchResource>::namespaced(client.clone(), &ns);
    let put = async |name: &str, account: &str, annotations: serde_json::Value| {
        let obj = json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "NumberSearch",
            "metadata": {"name": name, "namespace": ns, "labels": label, "annotations": annotations},
            "spec": {"accountRef": {"name": account},
                     "search": {"country": "US", "type": "Local", "areaCode": 415}, "limit": 3}
        });
        searches
            .patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(obj))
            .await
            .expect("NumberSearch applied");
    };
    let searched_before = stack
        .sim
        .counters()
        .requests
        .get(LOCAL_SEARCH)
        .copied()
        .unwrap_or(0);
    put("byo", "acct", json!({})).await;
    put("managed", "managed", json!({})).await;
    let ready = |s: &NumberSearchResource| {
        telephony_operator::reconcile::number_search::is_ready(s.status.as_ref())
    };
    let get = |name: &'static str| {
        let searches = searches.clone();
        async move || searches.get_opt(name).await.ok().flatten()
    };
    let byo = wait_for("byo search Ready", CONVERGE, get("byo"), ready).await;
    let managed = wait_for("managed search Ready", CONVERGE, get("managed"), ready).await;

    let st = byo.status.clone().expect("status");
    assert_eq!(st.observed_generation, byo.metadata.generation);
    assert_eq!(st.price_source.as_deref(), Some("TwilioPricingAPI"));
    assert!(
        (1..=3).contains(&st.candidates.len()),
        "{:?}",
        st.candidates
    );
    for c in &st.candidates {
        assert!(c.phone_number.starts_with("+1415"), "{}", c.phone_number);
        assert_eq!(c.currency.as_deref(), Some("USD"));
        assert!(
            c.monthly_fee
                .as_deref()
                .is_some_and(|f| f.parse::<rust_decimal::Decimal>().is_ok())
        );
    }
    assert!(st.valid_until.as_ref().map(|t| t.0) > st.searched_at.as_ref().map(|t| t.0));

    let st = managed.status.clone().expect("status");
    let card = telephony_operator::billing::RateCard::default()
        .price_for("US", NumberType::Local)
        .expect("the built-in card prices US Local");
    assert_eq!(st.price_source.as_deref(), Some("RateCard"));
    assert!(!st.candidates.is_empty());
    for c in &st.candidates {
        assert_eq!(
            c.monthly_fee.as_deref().and_then(|f| f.parse().ok()),
            Some(card.monthly_fee)
        );
        assert_eq!(c.currency.as_deref(), Some(card.currency.as_str()));
    }
    // One Twilio search per search object and generation.
    let searched = || {
        stack
            .sim
            .counters()
            .requests
            .get(LOCAL_SEARCH)
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(searched() - searched_before, 2, "one search each");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(searched() - searched_before, 2, "not searched again");

    // A refresh searches the BringYourOwn account once more.
    let first = byo.status.and_then(|s| s.searched_at).expect("searched at");
    put("byo", "acct", json!({REFRESH_ANNOTATION: "again"})).await;
    wait_for("byo search refreshed", CONVERGE, get("byo"), |s| {
        s.status.as_ref().and_then(|s| s.refresh.as_deref()) == Some("again") && ready(s)
    })
    .await;
    assert_eq!(searched() - searched_before, 3, "the refresh searched once");
    let refreshed = searches
        .get("byo")
        .await
        .expect("byo")
        .status
        .expect("status");
    assert!(refreshed.searched_at.as_ref().map(|t| t.0) >= Some(first.0));

    // Both are deleted by the operator once their TTL has passed.
    for name in ["byo", "managed"] {
        wait_for(
            &format!("search {name} deleted after its TTL"),
            CONVERGE,
            async || Some(searches.get_opt(name).await.ok().flatten().is_none()),
            |gone| *gone,
        )
        .await;
    }
}
scenario!(
    emulator_number_search_prices_and_expires,
    real_cluster_number_search_prices_and_expires,
    number_search_prices_and_expires,
    StackOptions {
        start_operator: false,
        ..Default::default()
    }
);
