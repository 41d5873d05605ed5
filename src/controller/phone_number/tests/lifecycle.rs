//! After the purchase: drift against the simulator, lapse, deletion, shared caches.

use super::*;
use crate::controller::pricing::PricingCache;

async fn active(
    mode: AccountMode,
    balance: Decimal,
) -> (Harness, MemoryEffects, InventoryCache, PhoneNumber) {
    let h = harness(mode).await;
    let fx = MemoryEffects::new(object(search_spec(None)), balance);
    let inv = InventoryCache::default();
    let pn = converge(&h, &fx, &inv, 3).await;
    (h, fx, inv, pn)
}

#[tokio::test]
async fn drift_is_put_back_and_a_lost_number_is_reported_not_rebought() {
    let (h, fx, _, pn) = active(AccountMode::BringYourOwn, Decimal::ZERO).await;
    let number = pn.status.as_ref().unwrap().phone_number.clone().unwrap();
    assert!(h.sim.update_out_of_band(
        SID,
        &number,
        Some("changed outside"),
        Some("https://evil.example/")
    ));
    // A new resync: a fresh snapshot (new cache = one paged list).
    h.clock.advance(SignedDuration::from_mins(10));
    reconcile(&h, &fx, &InventoryCache::default(), None)
        .await
        .unwrap();
    let owned = h.sim.owned_numbers(SID);
    assert_eq!(owned[0].friendly_name, "Support line");
    assert_eq!(owned[0].voice_url, "https://example.com/voice");

    assert!(h.sim.release_out_of_band(SID, &number));
    h.clock.advance(SignedDuration::from_mins(10));
    let (pn, _) = reconcile(&h, &fx, &InventoryCache::default(), None)
        .await
        .unwrap();
    let st = pn.status.unwrap();
    let ready = st.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "NumberLost")
    );
    for _ in 0..3 {
        h.clock.advance(SignedDuration::from_mins(10));
        reconcile(&h, &fx, &InventoryCache::default(), None)
            .await
            .unwrap();
    }
    assert_eq!(
        h.sim.purchase_log().len(),
        1,
        "a lost number is never bought again"
    );
}

#[tokio::test]
async fn managed_renews_then_lapses_and_releases_when_credits_run_out() {
    // 10.00 of credits at 1.15 per period: the purchase and 7 renewals, then grace and lapse.
    let (h, fx, inv, _) = active(AccountMode::Managed, Decimal::new(1000, 2)).await;
    let mut last = None;
    for _ in 0..40 {
        h.clock.advance(SignedDuration::from_hours(24 * 7));
        let (pn, _) = reconcile(&h, &fx, &inv, None).await.unwrap();
        last = pn.status.clone();
        if last.as_ref().unwrap().phase == Some(Phase::Released) {
            break;
        }
    }
    let st = last.unwrap();
    assert_eq!(st.phase, Some(Phase::Released));
    assert_eq!(fx.settled().len(), 8, "{:?}", fx.settled());
    assert!(h.sim.owned_numbers(SID).is_empty(), "released at Twilio");
    assert_eq!(h.sim.purchase_log().len(), 1, "never bought again");
    let events: Vec<String> = fx
        .state
        .lock()
        .unwrap()
        .events
        .iter()
        .map(|e| e.reason.to_string())
        .collect();
    assert!(
        events.contains(&"Renewed".to_string())
            && events.contains(&"GracePeriod".to_string())
            && events.contains(&"Lapsed".to_string()),
        "{events:?}"
    );
}

#[tokio::test]
async fn deletion_releases_and_a_second_release_is_fine() {
    let (h, fx, inv, _) = active(AccountMode::BringYourOwn, Decimal::ZERO).await;
    cleanup(&h, &fx, &inv).await.unwrap();
    assert!(h.sim.owned_numbers(SID).is_empty());
    // Already gone (404) is fine.
    cleanup(&h, &fx, &inv).await.unwrap();
}

#[tokio::test]
async fn deletion_during_a_purchase_in_flight_releases_what_was_bought() {
    let h = harness(AccountMode::Managed).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(1000, 2));
    let inv = InventoryCache::default();
    let crash = |s: Step| s == Step::Settle;
    assert!(reconcile(&h, &fx, &inv, Some(&crash)).await.is_err());
    assert_eq!(h.sim.owned_numbers(SID).len(), 1);
    cleanup(&h, &fx, &inv).await.unwrap();
    assert!(h.sim.owned_numbers(SID).is_empty());
}

#[tokio::test]
async fn inventory_and_pricing_caches_make_one_call_per_account() {
    let h = harness(AccountMode::BringYourOwn).await;
    h.sim.reset_counters();
    let inv = std::sync::Arc::new(InventoryCache::default());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (inv, api) = (inv.clone(), h.api.clone());
        tasks.push(tokio::spawn(async move {
            inv.snapshot(&api, Duration::from_secs(60))
                .await
                .map(|s| s.len())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(inv.lists_made(), 1, "single-flight");
    let prices = PricingCache::default();
    for _ in 0..5 {
        let p = prices
            .country(&h.api, "US", Duration::from_secs(3600), h.clock.now())
            .await
            .unwrap();
        assert!(p.for_type(crate::api::NumberType::Local).is_some());
    }
    // One paged list + (number prices + voice prices) once.
    assert_eq!(
        h.sim.counters().total_requests,
        3,
        "{:?}",
        h.sim.counters().requests
    );
}

#[tokio::test]
async fn a_number_recreated_right_after_its_release_is_bought_without_spinning() {
    // Twilio lets a released number be bought again at once.
    let h = harness_with(AccountMode::BringYourOwn, |c| {
        c.settings.quarantine_days = 0
    })
    .await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::ZERO);
    let inv = InventoryCache::default();
    let pn = converge(&h, &fx, &inv, 3).await;
    let number = pn.status.unwrap().phone_number.unwrap();
    assert_eq!(
        inv.reservations(),
        0,
        "the purchase is recorded: no reservation"
    );
    cleanup(&h, &fx, &inv).await.unwrap();
    assert!(h.sim.owned_numbers(SID).is_empty());
    // Re-created at once (a new object, a new uid) for the same number, same operator.
    let mut again = object(number_spec(&number));
    again.metadata.uid = Some("uid-2".into());
    let fx2 = MemoryEffects::new(again, Decimal::ZERO);
    let (pn2, requeue) = reconcile(&h, &fx2, &inv, None).await.unwrap();
    let st = pn2.status.clone().unwrap_or_default();
    assert_eq!(st.phase, Some(Phase::Active), "{st:?}");
    assert_eq!(st.phone_number.as_deref(), Some(number.as_str()));
    assert_eq!(h.sim.purchase_log().len(), 2);
    // Not the "too many rounds, look again now" of a spinning reconcile.
    assert_ne!(requeue, Some(h.clock.now()));
    assert_eq!(
        fx2.state.lock().unwrap().status_writes,
        2,
        "intent + Active"
    );
    assert_eq!(inv.reservations(), 0);
}

#[tokio::test]
async fn a_snapshot_listed_just_before_the_purchase_is_no_proof_of_loss() {
    // Another cache (another replica, or the account controller's list) listed the account at
    // 12:00:00.200, before this operator bought a number at 12:00:00.500.
    let h = harness(AccountMode::BringYourOwn).await;
    let clock: crate::clock::SharedClock = std::sync::Arc::new(h.clock.clone());
    h.clock.set("2026-03-01T12:00:00.2Z".parse().unwrap());
    let other = InventoryCache::with_clock(clock.clone());
    let listed = other
        .snapshot(&h.api, Duration::from_secs(300))
        .await
        .unwrap();
    assert!(listed.is_empty());
    h.clock.set("2026-03-01T12:00:00.5Z".parse().unwrap());
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::ZERO);
    let (pn, _) = reconcile(&h, &fx, &InventoryCache::with_clock(clock), None)
        .await
        .unwrap();
    assert_eq!(pn.status.as_ref().unwrap().phase, Some(Phase::Active));
    // The next resync reads the older snapshot, which cannot hold the number: not a loss.
    h.clock.set("2026-03-01T12:00:00.9Z".parse().unwrap());
    let (pn, _) = reconcile(&h, &fx, &other, None).await.unwrap();
    let st = pn.status.unwrap();
    let ready = st.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str(), st.phase),
        ("True", "Active", Some(Phase::Active)),
        "{st:?}"
    );
    assert!(
        !fx.state
            .lock()
            .unwrap()
            .events
            .iter()
            .any(|e| e.reason == "NumberLost")
    );
}
