//! A rename must not lose a number (issue 14), through the engine: deleting a bought number with
//! a quarantine window hands it to the account (no Twilio release), a repeat after a crash
//! changes nothing, and a new PhoneNumber naming the number adopts it from the hold — nothing
//! bought again, nothing charged again.

use super::*;
use crate::reconcile::phone_number::EventType;

/// A PhoneNumber of the same account, under another name (the renamed manifest).
fn renamed(number: &str) -> PhoneNumber {
    let mut p = object(number_spec(number));
    p.metadata.name = Some("pn-renamed".into());
    p.metadata.uid = Some("uid-2".into());
    p
}

#[tokio::test]
async fn a_deleted_number_is_held_then_adopted_by_its_new_name() {
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let h = harness(mode).await;
        let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(1000, 2));
        let inv = InventoryCache::default();
        let pn = converge(&h, &fx, &inv, 3).await;
        assert_exactly_one(&h, &fx, &pn);
        let number = pn.status.clone().unwrap().phone_number.unwrap();

        // Deleted with a 1-hour window: held by the account, not released.
        let window = SignedDuration::from_hours(1);
        cleanup_held(&h, &fx, &inv, window).await.unwrap();
        assert!(
            h.sim
                .owned_numbers(SID)
                .iter()
                .any(|n| n.phone_number == number),
            "{mode:?}: not released at Twilio"
        );
        let holder =
            |fx: &MemoryEffects| fx.claims().into_iter().find(|c| c.1 == number).map(|c| c.2);
        assert_eq!(holder(&fx).as_deref(), Some("account:account-uid-1"));
        let held = fx
            .state
            .lock()
            .unwrap()
            .holds
            .values()
            .next()
            .cloned()
            .unwrap();
        assert_eq!(held.deleted_from, "pn1");
        let events = fx.state.lock().unwrap().events.clone();
        assert!(
            events
                .iter()
                .any(|e| e.reason == "NumberHeld" && e.type_() == EventType::Normal),
            "{events:?}"
        );
        // The finalizer's work repeated after a crash: the same hold, still no release.
        cleanup_held(&h, &fx, &inv, window).await.unwrap();
        assert_eq!(fx.state.lock().unwrap().holds.len(), 1);
        assert!(
            h.sim
                .owned_numbers(SID)
                .iter()
                .any(|n| n.phone_number == number)
        );

        // The renamed manifest names the number: adopted from the hold.
        let fx2 = MemoryEffects::new(renamed(&number), Decimal::new(1000, 2));
        {
            let s = fx.state.lock().unwrap();
            let mut s2 = fx2.state.lock().unwrap();
            s2.claims = s.claims.clone();
            s2.holds = s.holds.clone();
            s2.ledger = s.ledger.clone();
        }
        let adopted = converge(&h, &fx2, &inv, 3).await;
        let st = adopted.status.clone().unwrap();
        assert_eq!(st.phone_number.as_deref(), Some(number.as_str()));
        assert_eq!(
            h.sim.purchase_log().len(),
            1,
            "{mode:?}: adopted, not bought again"
        );
        assert_eq!(
            holder(&fx2).as_deref(),
            Some("uid-2"),
            "the claim is the new object's"
        );
        assert!(
            fx2.state.lock().unwrap().holds.is_empty(),
            "the hold is gone"
        );
        let events = fx2.state.lock().unwrap().events.clone();
        assert!(
            events.iter().any(|e| e.reason == "HeldNumberAdopted"),
            "{events:?}"
        );
        if mode == AccountMode::Managed {
            assert_eq!(
                fx2.settled(),
                vec![("uid-1/p1".to_string(), Decimal::new(115, 2))],
                "charged once, by the purchase"
            );
        }
    }
}

#[tokio::test]
async fn without_a_window_the_number_is_released_at_once() {
    let h = harness(AccountMode::BringYourOwn).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::ZERO);
    let inv = InventoryCache::default();
    let pn = converge(&h, &fx, &inv, 3).await;
    let number = pn.status.clone().unwrap().phone_number.unwrap();
    cleanup(&h, &fx, &inv).await.unwrap();
    assert!(
        !h.sim
            .owned_numbers(SID)
            .iter()
            .any(|n| n.phone_number == number)
    );
    assert!(fx.state.lock().unwrap().holds.is_empty());
    assert!(fx.claims().is_empty(), "the claim went with the number");
}

#[tokio::test]
async fn a_hold_being_released_is_not_adopted() {
    let h = harness(AccountMode::BringYourOwn).await;
    let fx = MemoryEffects::new(object(search_spec(None)), Decimal::ZERO);
    let inv = InventoryCache::default();
    let number = converge(&h, &fx, &inv, 3)
        .await
        .status
        .unwrap()
        .phone_number
        .unwrap();
    cleanup_held(&h, &fx, &inv, SignedDuration::from_hours(1))
        .await
        .unwrap();
    // The account has started releasing it (its window ended).
    for hold in fx.state.lock().unwrap().holds.values_mut() {
        hold.releasing = true;
    }
    let fx2 = MemoryEffects::new(renamed(&number), Decimal::ZERO);
    {
        let s = fx.state.lock().unwrap();
        let mut s2 = fx2.state.lock().unwrap();
        s2.claims = s.claims.clone();
        s2.holds = s.holds.clone();
    }
    let err = reconcile(&h, &fx2, &inv, None).await.unwrap_err();
    assert!(err.to_string().contains("being released"), "{err}");
    let st = fx2.get().status.unwrap_or_default();
    assert!(st.sid.is_none(), "not adopted: {st:?}");
    assert_eq!(h.sim.purchase_log().len(), 1, "nothing bought either");
}
