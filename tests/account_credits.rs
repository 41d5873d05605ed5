//! `controller::credits` against the Kubernetes API emulator: optimistic concurrency makes many
//! concurrent holds safe (the balance never goes below zero), retries of a key never charge
//! twice, release returns only holds (no refunds), the cycle rolls when due, and accounts that
//! may not be charged are refused.

use jiff::SignedDuration;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;
use std::sync::Arc;
use telephony_operator::api::{ChargeKind, ChargeState, CreditGrant, TelephonyAccount, crds};
use telephony_operator::billing::RateCard;
use telephony_operator::clock::ManualClock;
use telephony_operator::config::OperatorConfig;
use telephony_operator::controller::Context;
use telephony_operator::controller::credits::{self, CreditsError, HoldOutcome};
use telephony_operator::twilio::{TwilioClient, TwilioClientConfig};

struct Env {
    emulator: kube_emulator::EmulatorHandle,
    client: Client,
    ctx: Arc<Context>,
    clock: ManualClock,
}

fn t0() -> jiff::Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

async fn env() -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = kube_emulator::start(kube_emulator::EmulatorConfig::default())
        .await
        .unwrap();
    let client = Client::try_from(kube::Config::new(emulator.url().parse().unwrap())).unwrap();
    let crd_api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in crds() {
        crd_api.create(&PostParams::default(), &crd).await.unwrap();
    }
    // Registration may take a moment to be served.
    let accounts: Api<TelephonyAccount> = Api::namespaced(client.clone(), "team-a");
    for _ in 0..100 {
        if accounts.list(&Default::default()).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    namespace(&client, "team-a").await;
    let clock = ManualClock::new(t0());
    let base: url::Url = "http://127.0.0.1:9".parse().unwrap();
    let config = OperatorConfig::for_local(&base);
    let twilio = TwilioClient::new(TwilioClientConfig::default()).unwrap();
    let ctx = Arc::new(Context::new(
        client.clone(),
        twilio,
        Arc::new(clock.clone()),
        config,
        RateCard::default(),
    ));
    Env {
        emulator,
        client,
        ctx,
        clock,
    }
}

async fn namespace(client: &Client, name: &str) {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns: k8s_openapi::api::core::v1::Namespace = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
    .unwrap();
    let _ = api.create(&PostParams::default(), &ns).await;
}

async fn managed_account(client: &Client, name: &str, per_cycle: &str, terms: bool) {
    let api: Api<TelephonyAccount> = Api::namespaced(client.clone(), "team-a");
    let obj: TelephonyAccount = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"mode": "Managed", "managed": {
            "termsAccepted": terms, "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION,
        }}
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
    // The credits come from the platform's CreditGrant, not from the tenant's object.
    let grants: Api<CreditGrant> = Api::all(client.clone());
    let grant: CreditGrant = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "CreditGrant",
        "metadata": {"name": CreditGrant::name_for("team-a", name)},
        "spec": {
            "credits": {"perCycle": per_cycle, "currency": "USD"},
            "billingCycle": {"startsAt": "2026-03-01T00:00:00Z", "lengthDays": 28}
        }
    }))
    .unwrap();
    grants.create(&PostParams::default(), &grant).await.unwrap();
}

async fn read(client: &Client, name: &str) -> TelephonyAccount {
    Api::<TelephonyAccount>::namespaced(client.clone(), "team-a")
        .get(name)
        .await
        .unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_holds_never_overdraw() {
    let e = env().await;
    managed_account(&e.client, "main", "60.00", true).await;
    // Kubernetes conflicts on top of the concurrency.
    e.emulator.faults().conflict_next_writes(5);
    let updates_before = e.emulator.stats().updates;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let ctx = e.ctx.clone();
        tasks.push(tokio::spawn(async move {
            credits::hold(
                &ctx,
                "team-a",
                "main",
                &format!("uid-{i}/p1"),
                &format!("pn-{i}"),
                dec("1.00"),
                ChargeKind::Purchase,
            )
            .await
        }));
    }
    let mut held = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(HoldOutcome::Held) => held += 1,
            Err(CreditsError::InsufficientCredits { balance, needed }) => {
                assert!(balance < needed);
                refused += 1
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((held, refused), (60, 40));
    let credits = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert_eq!(credits.charges.len(), 60);
    assert_eq!(dec(&credits.balance), Decimal::ZERO);
    assert_eq!(dec(&credits.spent), dec("60"));
    assert_eq!(dec(&credits.granted), dec("60"));
    let mut keys: Vec<&str> = credits.charges.iter().map(|c| c.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 60, "every key charged once");
    // Group commit: far fewer status writes than operations.
    let writes = e.emulator.stats().updates - updates_before;
    assert!(writes < 50, "{writes} status writes for 100 holds");
    eprintln!("100 concurrent holds: {writes} status writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_of_a_key_never_double_charge() {
    let e = env().await;
    managed_account(&e.client, "main", "10.00", true).await;
    let ctx = &e.ctx;
    // The same key from 20 concurrent retries: one hold.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            credits::hold(
                &ctx,
                "team-a",
                "main",
                "uid-a/p1",
                "pn-a",
                dec("1.15"),
                ChargeKind::Purchase,
            )
            .await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|o| **o == HoldOutcome::Held).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, HoldOutcome::Held | HoldOutcome::AlreadyHeld))
    );
    credits::settle(ctx, "team-a", "main", "uid-a/p1", "+14155550100")
        .await
        .unwrap();
    credits::settle(ctx, "team-a", "main", "uid-a/p1", "+14155550100")
        .await
        .unwrap();
    assert_eq!(
        credits::hold(
            ctx,
            "team-a",
            "main",
            "uid-a/p1",
            "pn-a",
            dec("1.15"),
            ChargeKind::Purchase
        )
        .await
        .unwrap(),
        HoldOutcome::AlreadySettled
    );
    // Releasing a settled charge is no refund.
    credits::release_hold(ctx, "team-a", "main", "uid-a/p1")
        .await
        .unwrap();
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert_eq!(c.charges.len(), 1);
    assert_eq!(c.charges[0].state, ChargeState::Settled);
    assert_eq!(c.charges[0].number.as_deref(), Some("+14155550100"));
    assert_eq!(dec(&c.balance), dec("8.85"));

    // A failed purchase: hold then release → not charged.
    credits::hold(
        ctx,
        "team-a",
        "main",
        "uid-b/p1",
        "pn-b",
        dec("2.00"),
        ChargeKind::Purchase,
    )
    .await
    .unwrap();
    assert_eq!(
        dec(&read(&e.client, "main")
            .await
            .status
            .unwrap()
            .credits
            .unwrap()
            .balance),
        dec("6.85")
    );
    credits::release_hold(ctx, "team-a", "main", "uid-b/p1")
        .await
        .unwrap();
    credits::release_hold(ctx, "team-a", "main", "uid-b/p1")
        .await
        .unwrap();
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert_eq!(dec(&c.balance), dec("8.85"));
    assert!(matches!(
        credits::settle(ctx, "team-a", "main", "uid-b/p1", "+1").await,
        Err(CreditsError::UnknownKey { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cycle_rolls_when_due_and_holds_carry_over() {
    let e = env().await;
    managed_account(&e.client, "main", "5.00", true).await;
    let ctx = &e.ctx;
    credits::hold(
        ctx,
        "team-a",
        "main",
        "uid-a/p1",
        "pn-a",
        dec("1.15"),
        ChargeKind::Purchase,
    )
    .await
    .unwrap();
    credits::settle(ctx, "team-a", "main", "uid-a/p1", "+14155550100")
        .await
        .unwrap();
    credits::hold(
        ctx,
        "team-a",
        "main",
        "uid-b/p1",
        "pn-b",
        dec("1.15"),
        ChargeKind::Purchase,
    )
    .await
    .unwrap();
    // 28 days later: a new cycle.
    e.clock.advance(SignedDuration::from_hours(28 * 24 + 1));
    credits::hold(
        ctx,
        "team-a",
        "main",
        "uid-a/p2",
        "pn-a",
        dec("1.15"),
        ChargeKind::Renewal,
    )
    .await
    .unwrap();
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert_eq!(
        c.cycle_start.unwrap().0,
        "2026-03-29T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(c.history.len(), 1);
    assert_eq!(dec(&c.history[0].spent), dec("1.15"));
    assert_eq!(dec(&c.history[0].expired), dec("3.85"));
    // The in-flight hold of pn-b moved with the new cycle; the settled charge stayed behind.
    let keys: Vec<&str> = c.charges.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, vec!["uid-b/p1", "uid-a/p2"]);
    assert_eq!(dec(&c.balance), dec("2.70"));
    // A purchase settled in the previous cycle and replayed after a crash is not charged again.
    let replay = credits::hold(
        ctx,
        "team-a",
        "main",
        "uid-a/p1",
        "pn-a",
        dec("1.15"),
        ChargeKind::Purchase,
    )
    .await
    .unwrap();
    assert_eq!(replay, HoldOutcome::AlreadySettled);
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert_eq!(dec(&c.balance), dec("2.70"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_that_may_not_be_charged_are_refused() {
    let e = env().await;
    managed_account(&e.client, "no-terms", "5.00", false).await;
    let r = credits::hold(
        &e.ctx,
        "team-a",
        "no-terms",
        "k/p1",
        "pn",
        dec("1"),
        ChargeKind::Purchase,
    )
    .await;
    assert!(
        matches!(r, Err(CreditsError::NotChargeable { .. })),
        "{r:?}"
    );
    let r = credits::hold(
        &e.ctx,
        "team-a",
        "absent",
        "k/p1",
        "pn",
        dec("1"),
        ChargeKind::Purchase,
    )
    .await;
    assert!(
        matches!(r, Err(CreditsError::AccountNotFound { .. })),
        "{r:?}"
    );
    // Terms withdrawn after a hold: the hold can still be released (never stuck).
    managed_account(&e.client, "main", "5.00", true).await;
    credits::hold(
        &e.ctx,
        "team-a",
        "main",
        "k/p1",
        "pn",
        dec("1"),
        ChargeKind::Purchase,
    )
    .await
    .unwrap();
    let api: Api<TelephonyAccount> = Api::namespaced(e.client.clone(), "team-a");
    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"managed": {"termsAccepted": false}}})),
    )
    .await
    .unwrap();
    credits::release_hold(&e.ctx, "team-a", "main", "k/p1")
        .await
        .unwrap();
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert!(c.charges.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mode_change_blocks_new_holds_but_settles_existing_ones() {
    let e = env().await;
    managed_account(&e.client, "main", "5.00", true).await;
    let api: Api<TelephonyAccount> = Api::namespaced(e.client.clone(), "team-a");
    // The account connected as Managed (what the account controller records).
    let mut a = read(&e.client, "main").await;
    a.status = Some(telephony_operator::api::TelephonyAccountStatus {
        mode: Some(telephony_operator::api::AccountMode::Managed),
        ..Default::default()
    });
    api.replace_status("main", &PostParams::default(), &a)
        .await
        .unwrap();
    credits::hold(
        &e.ctx,
        "team-a",
        "main",
        "k/p1",
        "pn",
        dec("1"),
        ChargeKind::Purchase,
    )
    .await
    .unwrap();
    // Someone flips the mode without approval: no new hold...
    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"mode": "BringYourOwn", "friendlyName": "x",
            "credentialsSecretRef": {"name": "twilio"}}})),
    )
    .await
    .unwrap();
    let r = credits::hold(
        &e.ctx,
        "team-a",
        "main",
        "k2/p1",
        "pn2",
        dec("1"),
        ChargeKind::Purchase,
    )
    .await;
    assert!(
        matches!(r, Err(CreditsError::NotChargeable { .. })),
        "{r:?}"
    );
    // ... but the purchase in flight is still settled, exactly once.
    credits::settle(&e.ctx, "team-a", "main", "k/p1", "+14155550100")
        .await
        .unwrap();
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    assert_eq!(c.charges.len(), 1);
    assert_eq!(c.charges[0].state, ChargeState::Settled);
    assert_eq!(dec(&c.balance), dec("4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_callers_never_wedge_or_corrupt_the_queue() {
    let e = env().await;
    managed_account(&e.client, "main", "100.00", true).await;
    for round in 0..5 {
        let mut tasks = Vec::new();
        for i in 0..40 {
            let ctx = e.ctx.clone();
            let key = format!("uid-{round}-{i}/p1");
            tasks.push((
                key.clone(),
                tokio::spawn(async move {
                    credits::hold(
                        &ctx,
                        "team-a",
                        "main",
                        &key,
                        "pn",
                        dec("0.25"),
                        ChargeKind::Purchase,
                    )
                    .await
                }),
            ));
        }
        // Cancel a third of the callers wherever they are (waiting, or applying a batch).
        tokio::task::yield_now().await;
        for (i, (_, t)) in tasks.iter().enumerate() {
            if i % 3 == 0 {
                t.abort();
            }
        }
        for (i, (key, t)) in tasks.into_iter().enumerate() {
            let r = tokio::time::timeout(std::time::Duration::from_secs(60), t)
                .await
                .unwrap_or_else(|_| panic!("hold {key} wedged"));
            if i % 3 != 0 {
                assert!(matches!(r, Ok(Ok(HoldOutcome::Held))), "{key}: {r:?}");
            }
        }
    }
    let c = read(&e.client, "main")
        .await
        .status
        .unwrap()
        .credits
        .unwrap();
    let mut keys: Vec<&str> = c.charges.iter().map(|c| c.key.as_str()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "no key twice");
    assert!(n >= 5 * 26, "every completed hold is recorded ({n})");
    let spent: Decimal = c.charges.iter().map(|c| dec(&c.amount)).sum();
    assert_eq!(dec(&c.spent), spent);
    assert!(spent <= dec("50"));
    assert_eq!(dec(&c.balance), dec("100") - spent);
}
