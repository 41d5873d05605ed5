//! One number, one owner, through the engine: a number another PhoneNumber claims (of another
//! namespace, over the same Twilio account) is neither adopted nor bought, nor confirmed after
//! a crash; a search skips it; the claim of the number kept is the only one left, and it goes
//! with the number.

use super::*;
use crate::twilio::SearchQuery;

fn reason_and_message(pn: &PhoneNumber) -> (String, String) {
    let c = pn
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Stalled" && c.status == "True")
        .expect("Stalled");
    (c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn a_number_claimed_by_another_namespace_is_not_adopted() {
    let h = harness(AccountMode::BringYourOwn).await;
    h.sim.assign_number(SID, "+14155550123").unwrap();
    let fx = MemoryEffects::new(object(number_spec("+14155550123")), Decimal::ZERO);
    fx.claimed_elsewhere(SID, "+14155550123");
    let inv = InventoryCache::default();

    let (pn, _) = reconcile(&h, &fx, &inv, None).await.unwrap();
    let (reason, message) = reason_and_message(&pn);
    assert_eq!(reason, "NumberClaimed");
    assert!(message.contains("another namespace"), "{message}");
    assert!(
        !message.contains("elsewhere"),
        "another namespace is not named: {message}"
    );
    assert!(pn.status.as_ref().unwrap().sid.is_none(), "not adopted");

    // Once the other claim is gone, the number is adopted and claimed by this object alone.
    fx.state.lock().unwrap().claims.clear();
    h.clock.advance(SignedDuration::from_mins(2));
    let pn = converge(&h, &fx, &inv, 3).await;
    assert!(pn.status.as_ref().unwrap().sid.is_some());
    assert_eq!(
        fx.claims(),
        [(
            SID.to_string(),
            "+14155550123".to_string(),
            "uid-1".to_string()
        )]
    );
    assert!(h.sim.purchase_log().is_empty(), "adopted, not bought");
}

#[tokio::test]
async fn a_search_skips_a_number_claimed_elsewhere_and_keeps_one_claim() {
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let h = harness(mode).await;
        let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(1000, 2));
        let inv = InventoryCache::default();
        let offered = h
            .api
            .search_available(&SearchQuery {
                country: "US".into(),
                number_type: crate::twilio::NumberKind::Local,
                ..Default::default()
            })
            .await
            .unwrap();
        let first = offered[0].phone_number.clone();
        fx.claimed_elsewhere(SID, &first);

        let pn = converge(&h, &fx, &inv, 3).await;
        assert_exactly_one(&h, &fx, &pn);
        let bought = pn.status.clone().unwrap().phone_number.unwrap();
        assert_ne!(bought, first, "the claimed number is skipped");
        let mine: Vec<_> = fx.claims().into_iter().filter(|c| c.2 == "uid-1").collect();
        assert_eq!(
            mine,
            [(SID.to_string(), bought.clone(), "uid-1".to_string())]
        );

        // Deleting it releases the number and its claim.
        cleanup(&h, &fx, &inv).await.unwrap();
        assert!(
            fx.claims().iter().all(|c| c.2 != "uid-1"),
            "{:?}",
            fx.claims()
        );
    }
}

#[tokio::test]
async fn a_number_found_after_a_crash_is_confirmed_only_for_its_claimant() {
    let h = harness(AccountMode::BringYourOwn).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::ZERO);
    let inv = InventoryCache::default();
    // Crash right after the buy: the intent is recorded, the number bought.
    let crash = |s: Step| s == Step::WriteActive;
    let _ = reconcile(&h, &fx, &inv, Some(&crash)).await;
    let intent = fx.get().status.unwrap().purchase_intent.expect("intent");
    assert_eq!(h.sim.purchase_log().len(), 1);
    // Recovery finds the number, still claimed by this object: confirmed, nothing re-bought.
    h.clock.advance(SignedDuration::from_mins(2));
    let pn = converge(&h, &fx, &inv, 3).await;
    assert_exactly_one(&h, &fx, &pn);
    assert_eq!(
        pn.status.unwrap().phone_number.as_deref(),
        Some(intent.phone_number.as_str())
    );
    assert_eq!(fx.claims().len(), 1);
}

/// Issue: two replicas without a lease confirmed a number found in the account for whoever had
/// an intent for it. An intent (recorded before claims existed, or by a replica that lost the
/// claim race) for a number another PhoneNumber holds the claim on is dropped and the search
/// goes on: the number is never confirmed for two objects.
#[tokio::test]
async fn an_intent_for_a_number_claimed_elsewhere_is_dropped_not_confirmed() {
    let h = harness(AccountMode::BringYourOwn).await;
    let taken = "+14155550177";
    h.sim.assign_number(SID, taken).unwrap(); // bought by the other PhoneNumber
    let mut pn = object(search_spec(None));
    pn.status = Some(
        serde_json::from_value(serde_json::json!({
            "phase": "Purchasing",
            "purchaseIntent": {"phoneNumber": taken, "accountSid": SID,
                               "startedAt": "2026-03-01T11:00:00Z", "attempts": 1, "buySent": true}
        }))
        .unwrap(),
    );
    let fx = MemoryEffects::new(pn, Decimal::ZERO);
    fx.claimed_elsewhere(SID, taken);
    let inv = InventoryCache::default();
    let pn = converge(&h, &fx, &inv, 4).await;
    let bought = pn.status.unwrap().phone_number.unwrap();
    assert_ne!(
        bought, taken,
        "the other object's number is not confirmed for this one"
    );
    assert_eq!(
        h.sim.purchase_log().len(),
        1,
        "this object bought its own number"
    );
}
