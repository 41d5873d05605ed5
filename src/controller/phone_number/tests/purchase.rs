//! Exactly-once purchase against the simulator.

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

async fn fresh(mode: AccountMode) -> (Harness, MemoryEffects, InventoryCache) {
    let h = harness(mode).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(1000, 2));
    (h, fx, InventoryCache::default())
}

#[tokio::test]
async fn happy_path_budget_two_twilio_calls_two_status_writes() {
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let (h, fx, inv) = fresh(mode).await;
        h.sim.reset_counters();
        let (pn, _) = reconcile(&h, &fx, &inv, None).await.unwrap();
        let st = pn.status.clone().unwrap();
        assert_eq!(st.phase, Some(Phase::Active));
        assert_exactly_one(&h, &fx, &pn);
        // search + buy; the configuration went with the buy (no update call).
        assert_eq!(
            h.sim.counters().total_requests,
            2,
            "{:?}",
            h.sim.counters().requests
        );
        // intent + Active (+ the finalizer by kube's helper = 3 writes).
        assert_eq!(fx.state.lock().unwrap().status_writes, 2);
        let owned = h.sim.owned_numbers(SID);
        assert_eq!(owned[0].friendly_name, "Support line");
        assert_eq!(owned[0].voice_url, "https://example.com/voice");
        // A second reconcile with nothing new writes nothing and buys nothing.
        reconcile(&h, &fx, &inv, None).await.unwrap();
        assert_eq!(fx.state.lock().unwrap().status_writes, 2);
        assert_eq!(h.sim.purchase_log().len(), 1);
    }
}

#[tokio::test]
async fn commit_then_fail_is_recovered_by_lookup_not_rebought() {
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let (h, fx, inv) = fresh(mode).await;
        h.sim.set_faults(faults(1.0));
        // The buy is committed and its response lost; the engine looks the number up at once.
        let pn = converge(&h, &fx, &inv, 4).await;
        assert_exactly_one(&h, &fx, &pn);
        assert!(h.sim.counters().faults.commit_then_fail >= 1);
    }
}

#[tokio::test]
async fn a_crash_before_any_step_never_buys_twice() {
    let steps = [
        Step::Search,
        Step::WriteIntent,
        Step::Hold,
        Step::Buy,
        Step::Settle,
        Step::WriteActive,
    ];
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        for step in steps {
            if mode == AccountMode::BringYourOwn && matches!(step, Step::Hold | Step::Settle) {
                continue;
            }
            let (h, fx, inv) = fresh(mode).await;
            let crashed = AtomicBool::new(false);
            let crash = |s: Step| s == step && !crashed.swap(true, Ordering::SeqCst);
            let err = reconcile(&h, &fx, &inv, Some(&crash)).await.unwrap_err();
            assert!(
                matches!(err, EngineError::Crashed(s) if s == step),
                "{mode:?} {step:?}: {err}"
            );
            // A restarted operator: new caches, same Kubernetes and Twilio state.
            let pn = converge(&h, &fx, &InventoryCache::default(), 6).await;
            assert_exactly_one(&h, &fx, &pn);
        }
    }
}

#[tokio::test]
async fn crash_after_every_step_of_recovery_too() {
    // Commit-then-fail and then a crash at each recovery step: still one number.
    for step in [Step::Lookup, Step::Settle, Step::WriteActive] {
        let (h, fx, inv) = fresh(AccountMode::Managed).await;
        h.sim.set_faults(faults(1.0));
        let seen_lookup = AtomicBool::new(false);
        let crash = |s: Step| {
            if s == Step::Lookup {
                seen_lookup.store(true, Ordering::SeqCst);
            }
            s == step && seen_lookup.load(Ordering::SeqCst)
        };
        assert!(reconcile(&h, &fx, &inv, Some(&crash)).await.is_err());
        h.sim.set_faults(faults(0.0));
        let pn = converge(&h, &fx, &InventoryCache::default(), 6).await;
        assert_exactly_one(&h, &fx, &pn);
    }
}

#[tokio::test]
async fn conflict_on_the_intent_write_buys_nothing_then_converges() {
    let (h, fx, inv) = fresh(AccountMode::Managed).await;
    fx.conflict_on_write(1);
    let err = reconcile(&h, &fx, &inv, None).await.unwrap_err();
    assert!(err.is_conflict());
    assert!(h.sim.purchase_log().is_empty());
    assert!(fx.held().is_empty());
    let pn = converge(&h, &fx, &inv, 4).await;
    assert_exactly_one(&h, &fx, &pn);
}

#[tokio::test]
async fn conflict_on_the_active_write_keeps_the_intent_and_confirms_later() {
    let (h, fx, inv) = fresh(AccountMode::Managed).await;
    fx.conflict_on_write(2);
    assert!(
        reconcile(&h, &fx, &inv, None)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(h.sim.purchase_log().len(), 1);
    assert!(fx.get().status.unwrap().purchase_intent.is_some());
    let pn = converge(&h, &fx, &inv, 4).await;
    assert_exactly_one(&h, &fx, &pn);
}

#[tokio::test]
async fn two_reconcilers_racing_buy_one_number() {
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let (h, fx, _) = fresh(mode).await;
        let h = Arc::new(h);
        let fx = Arc::new(fx);
        // Two replicas, each with its own cache, start from the same object and loop.
        let replica = |h: Arc<Harness>, fx: Arc<MemoryEffects>| async move {
            let inv = InventoryCache::default();
            for _ in 0..8 {
                let _ = reconcile(&h, &fx, &inv, None).await;
                tokio::task::yield_now().await;
            }
        };
        tokio::join!(
            replica(h.clone(), fx.clone()),
            replica(h.clone(), fx.clone())
        );
        let pn = fx.get();
        assert_eq!(pn.status.as_ref().unwrap().phase, Some(Phase::Active));
        assert!(
            fx.state.lock().unwrap().conflicts >= 1,
            "the replicas did race on the status"
        );
        assert_exactly_one(&h, &fx, &pn);
    }
}

#[tokio::test]
async fn racing_recoveries_wait_for_the_attempt_in_flight() {
    // Replica A recorded the intent and "crashed" before buying; replica B sees the intent
    // immediately: it must not buy before the in-flight window has passed.
    let (h, fx, inv) = fresh(AccountMode::BringYourOwn).await;
    let crash = |s: Step| s == Step::Buy;
    assert!(reconcile(&h, &fx, &inv, Some(&crash)).await.is_err());
    let (_, requeue) = reconcile(&h, &fx, &InventoryCache::default(), None)
        .await
        .unwrap();
    assert!(
        h.sim.purchase_log().is_empty(),
        "bought while an attempt may be in flight"
    );
    assert!(requeue.is_some());
    let pn = converge(&h, &fx, &inv, 4).await;
    assert_exactly_one(&h, &fx, &pn);
    assert_eq!(pn.status.unwrap().purchase_intent, None);
}

#[tokio::test]
async fn owned_number_is_adopted_without_a_purchase() {
    let h = harness(AccountMode::BringYourOwn).await;
    // Buy one number outside the operator first.
    let found = h
        .api
        .search_available(&crate::twilio::SearchQuery {
            country: "US".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let number = found[0].phone_number.clone();
    h.sim.assign_number(SID, &number).unwrap();
    let fx = MemoryEffects::new(object(number_spec(&number)), Decimal::ZERO);
    let before = h.sim.purchase_log().len();
    let (pn, _) = reconcile(&h, &fx, &InventoryCache::default(), None)
        .await
        .unwrap();
    let st = pn.status.unwrap();
    assert_eq!(st.phase, Some(Phase::Active));
    assert_eq!(st.phone_number.as_deref(), Some(number.as_str()));
    assert_eq!(h.sim.purchase_log().len(), before, "adopted, not bought");
    assert_eq!(fx.state.lock().unwrap().status_writes, 1);
    assert!(
        fx.state
            .lock()
            .unwrap()
            .events
            .iter()
            .any(|e| e.reason == "Adopted")
    );
}

#[tokio::test]
async fn managed_purchase_without_credits_buys_nothing() {
    let h = harness(AccountMode::Managed).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(100, 2));
    let (pn, _) = reconcile(&h, &fx, &InventoryCache::default(), None)
        .await
        .unwrap();
    let st = pn.status.unwrap();
    assert!(h.sim.purchase_log().is_empty());
    assert!(st.purchase_intent.is_none());
    let stalled = st.conditions.iter().find(|c| c.type_ == "Stalled").unwrap();
    assert_eq!(stalled.reason, "InsufficientCredits");
    assert!(fx.held().is_empty() && fx.settled().is_empty());
}

#[tokio::test]
async fn concurrent_searches_get_distinct_numbers_with_shared_searches() {
    // 12 PhoneNumbers with the same search, reconciled concurrently by one operator.
    let h = Arc::new(harness(AccountMode::BringYourOwn).await);
    h.sim.reset_counters();
    let inv = Arc::new(InventoryCache::default());
    let mut tasks = Vec::new();
    for i in 0..12 {
        let mut o = object(search_spec(Some(415)));
        o.metadata.name = Some(format!("pn{i}"));
        o.metadata.uid = Some(format!("uid-{i}"));
        let fx = Arc::new(MemoryEffects::new(o, Decimal::ZERO));
        let (h, inv) = (h.clone(), inv.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                let _ = reconcile(&h, &fx, &inv, None).await;
                if fx.get().status.and_then(|s| s.sid).is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            fx.get()
                .status
                .and_then(|s| s.phone_number)
                .expect("bought")
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12, "every object has its own number");
    assert_eq!(h.sim.purchase_log().len(), 12);
    let calls = h.sim.counters().total_requests;
    assert!(
        calls <= 2 * 12,
        "Twilio calls {calls} for 12 numbers: {:?}",
        h.sim.counters().requests
    );
}

fn stalled_reason(pn: &PhoneNumber) -> Option<String> {
    pn.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Stalled" && c.status == "True")
        .map(|c| c.reason.clone())
}

#[tokio::test]
async fn a_crash_looping_operator_uses_up_no_attempt_of_a_healthy_object() {
    // Ten restarts, each crashing right after the intent (and, Managed, the hold) was written,
    // before the buy: no buy was ever sent, so no attempt is used up.
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let (h, fx, _) = fresh(mode).await;
        let crash = |s: Step| s == Step::Buy;
        for restart in 0..10 {
            let _ = reconcile(&h, &fx, &InventoryCache::default(), Some(&crash)).await;
            let pn = fx.get();
            assert_ne!(
                stalled_reason(&pn).as_deref(),
                Some("PurchaseFailed"),
                "{mode:?}: restart {restart}: {:?}",
                pn.status
            );
            h.clock.advance(SignedDuration::from_mins(2));
        }
        assert!(h.sim.purchase_log().is_empty());
        let intent = fx.get().status.unwrap().purchase_intent.unwrap();
        assert_eq!(
            intent.attempts, 1,
            "{mode:?}: the first attempt, never sent"
        );
        assert!(
            !fx.state
                .lock()
                .unwrap()
                .events
                .iter()
                .any(|e| e.reason == "PurchaseFailed")
        );
        // The crashes stop: the purchase completes, exactly once.
        let pn = converge(&h, &fx, &InventoryCache::default(), 4).await;
        assert_exactly_one(&h, &fx, &pn);
    }
}

#[tokio::test]
async fn refused_for_credits_writes_no_intent_again_on_restart_or_resync() {
    let h = harness(AccountMode::Managed).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(100, 2));
    // The first refusal comes from the hold (the balance was not read): intent, then abandon.
    reconcile(&h, &fx, &InventoryCache::default(), None)
        .await
        .unwrap();
    assert_eq!(
        stalled_reason(&fx.get()).as_deref(),
        Some("InsufficientCredits")
    );
    let writes = fx.state.lock().unwrap().status_writes;
    h.sim.reset_counters();
    // Restarts and resyncs with the same balance: nothing written, nothing held, no search.
    for _ in 0..4 {
        h.clock.advance(SignedDuration::from_mins(10));
        reconcile_with(
            &h,
            &fx,
            &InventoryCache::default(),
            None,
            Some(fx.available()),
        )
        .await
        .unwrap();
    }
    let writes_now = fx.state.lock().unwrap().status_writes;
    assert_eq!(writes_now, writes, "{:?}", fx.get().status);
    assert_eq!(
        h.sim.counters().total_requests,
        0,
        "{:?}",
        h.sim.counters().requests
    );
    assert!(fx.get().status.unwrap().purchase_intent.is_none());
    assert!(fx.held().is_empty());
    // Topped up: bought at the next reconcile.
    fx.state.lock().unwrap().balance = Decimal::new(1000, 2);
    let (pn, _) = reconcile_with(
        &h,
        &fx,
        &InventoryCache::default(),
        None,
        Some(fx.available()),
    )
    .await
    .unwrap();
    assert_exactly_one(&h, &fx, &pn);
}

#[tokio::test]
async fn above_the_price_limit_no_intent_is_written_on_restart_or_resync() {
    let h = harness(AccountMode::BringYourOwn).await;
    let mut spec = search_spec(None);
    spec.max_monthly_price = Some("1.00".into());
    let fx = MemoryEffects::new(object(spec), Decimal::ZERO);
    for _ in 0..4 {
        reconcile(&h, &fx, &InventoryCache::default(), None)
            .await
            .unwrap();
        h.clock.advance(SignedDuration::from_mins(10));
    }
    assert_eq!(
        stalled_reason(&fx.get()).as_deref(),
        Some("PriceAboveLimit")
    );
    assert_eq!(
        fx.state.lock().unwrap().status_writes,
        1,
        "the refusal, once"
    );
    assert!(h.sim.purchase_log().is_empty());
}
