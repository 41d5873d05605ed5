//! Purchase path: validation, account states, adoption, search, price guard, intent, recovery.

use super::*;
use crate::api::condition::{PURCHASED, READY, RECONCILING, STALLED};
use crate::api::{Phase, PurchaseIntent};
use crate::conditions::time;
use crate::reconcile::phone_number::status::micro;

fn stalled_reason(d: &Decision) -> Option<&str> {
    match cond(&d.status, STALLED) {
        Some(("True", r)) => Some(r),
        _ => None,
    }
}

#[test]
fn validation_failures_stall_with_specific_reasons() {
    let o = obs(AccountMode::BringYourOwn);
    let mut both = spec_search("US");
    both.number = Some("+14155550100".into());
    assert_eq!(
        stalled_reason(&decide(&pn(both, None), &o)),
        Some("InvalidSelection")
    );
    let mut neither = spec_number("+14155550100");
    neither.number = None;
    assert_eq!(
        stalled_reason(&decide(&pn(neither, None), &o)),
        Some("InvalidSelection")
    );
    assert_eq!(
        stalled_reason(&decide(&pn(spec_number("4155550100"), None), &o)),
        Some("InvalidNumber")
    );
    let d = decide(&pn(spec_search("UK"), None), &o);
    assert_eq!(stalled_reason(&d), Some("UnsupportedCountry"));
    assert!(d.status.message.unwrap().contains("GB"));
    let mut bad_money = spec_number("+14155550100");
    bad_money.max_monthly_price = Some("-1".into());
    assert_eq!(
        stalled_reason(&decide(&pn(bad_money, None), &o)),
        Some("InvalidPrice")
    );
    let d = decide(&pn(spec_search("UK"), None), &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert_eq!(d.status.observed_generation, Some(1));
}

#[test]
fn account_states() {
    let p = pn(spec_number("+14155550100"), None);
    // An account not created yet resolves itself (GitOps order): Reconciling, not Stalled.
    let d = decide(&p, &Observed::new(t0(), AccountView::Missing));
    assert_eq!(stalled_reason(&d), None);
    assert_eq!(
        cond(&d.status, "Reconciling"),
        Some(("True", "AccountNotFound"))
    );
    assert_eq!(d.status.phase, Some(Phase::Pending));
    assert!(d.status.message.as_deref().unwrap().contains("team-a"));
    let why = crate::conditions::ReasonMessage::new(
        crate::conditions::Reason::SecretNotFound,
        "Secret team-a/twilio was not found",
    );
    let d = decide(
        &p,
        &Observed::new(
            t0(),
            AccountView::NotUsable {
                why: why.clone(),
                transient: false,
                first_look_due: None,
            },
        ),
    );
    assert_eq!(stalled_reason(&d), Some("SecretNotFound"));
    let d = decide(
        &p,
        &Observed::new(
            t0(),
            AccountView::NotUsable {
                why,
                transient: true,
                first_look_due: None,
            },
        ),
    );
    assert_eq!(
        cond(&d.status, RECONCILING),
        Some(("True", "WaitingForAccount"))
    );
    assert_eq!(d.action, Action::Wait);
}

#[test]
fn exact_number_needs_ownership_then_records_intent() {
    let p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::BringYourOwn);
    assert_eq!(
        decide(&p, &o).action,
        Action::Lookup {
            number: "+14155550100".into()
        }
    );
    o.owned = not_owned(t0(), false);
    let d = decide(&p, &o);
    assert_eq!(
        d.action,
        Action::RecordIntent {
            number: "+14155550100".into(),
            charge: None
        }
    );
    assert_eq!(d.status.phase, Some(Phase::Purchasing));
    let intent = d.status.purchase_intent.clone().unwrap();
    assert_eq!(
        intent,
        Box::new(PurchaseIntent {
            phone_number: "+14155550100".into(),
            account_sid: ACC.into(),
            started_at: time(t0()),
            attempts: 1,
            buy_sent: false,
        })
    );
    assert_eq!(cond(&d.status, RECONCILING), Some(("True", "Purchasing")));
}

#[test]
fn owned_number_is_adopted_not_bought() {
    let p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = owned(incoming("+14155550100"), t0(), false);
    let d = decide(&p, &o);
    assert!(matches!(
        d.action,
        Action::Confirm {
            adopted: true,
            settle: false,
            ..
        }
    ));
    assert_eq!(d.status.phase, Some(Phase::Active));
    assert_eq!(
        d.status.sid.as_deref(),
        Some("PN0123456789abcdef0123456789abcdef")
    );
    assert_eq!(d.status.country.as_deref(), Some("US"));
    assert_eq!(d.status.r#type, Some(NumberType::Local));
    assert_eq!(cond(&d.status, READY), Some(("True", "Active")));
    assert_eq!(d.event.unwrap().reason, "Adopted");
}

#[test]
fn number_claimed_by_another_object_is_refused() {
    let p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = owned(incoming("+14155550100"), t0(), false);
    o.claimed_by = Some("other".into());
    assert_eq!(stalled_reason(&decide(&p, &o)), Some("NumberClaimed"));
}

#[test]
fn price_guard_refuses_and_buys_nothing() {
    let mut s = spec_number("+14155550100");
    s.max_monthly_price = Some("1.00".into());
    let p = pn(s.clone(), None);
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), false);
    let d = decide(&p, &o);
    assert_eq!(stalled_reason(&d), Some("PriceAboveLimit"));
    assert_eq!(d.action, Action::Wait);
    assert!(d.status.purchase_intent.is_none());
    assert!(d.status.message.as_deref().unwrap().contains("1.15 USD"));
    assert_eq!(d.event.unwrap().reason, "PriceAboveLimit");
    // Exactly at the limit is fine.
    s.max_monthly_price = Some("1.15".into());
    assert!(matches!(
        decide(&pn(s.clone(), None), &o).action,
        Action::RecordIntent { .. }
    ));
    // Unknown price with a limit: refuse.
    o.price = None;
    assert_eq!(
        stalled_reason(&decide(&pn(s, None), &o)),
        Some("PriceUnknown")
    );
}

#[test]
fn managed_holds_the_rate_card_fee_and_needs_a_price() {
    let p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::Managed);
    o.owned = not_owned(t0(), false);
    assert_eq!(
        decide(&p, &o).action,
        Action::RecordIntent {
            number: "+14155550100".into(),
            charge: Some(Decimal::new(115, 2))
        }
    );
    o.price = None;
    assert_eq!(stalled_reason(&decide(&p, &o)), Some("NotOnRateCard"));
}

#[test]
fn search_then_intent_with_first_unclaimed_result() {
    let p = pn(spec_search("US"), None);
    let mut o = obs(AccountMode::BringYourOwn);
    match decide(&p, &o).action {
        Action::Search(q) => assert_eq!((q.country.as_str(), q.area_code), ("US", None)),
        other => panic!("{other:?}"),
    }
    o.search = Some(vec![available("+14155550101"), available("+14155550102")]);
    o.claimed_numbers = vec!["+14155550101".into()].into();
    assert!(
        matches!(decide(&p, &o).action, Action::RecordIntent { ref number, .. } if number == "+14155550102")
    );
    o.search = Some(vec![]);
    let d = decide(&p, &o);
    assert_eq!(stalled_reason(&d), Some("NoNumbersAvailable"));
    assert!(d.status.purchase_intent.is_none());
}

fn purchasing(number: &str, attempts: u32, at: Timestamp) -> PhoneNumberStatus {
    PhoneNumberStatus {
        phase: Some(Phase::Purchasing),
        purchase_intent: Some(Box::new(PurchaseIntent {
            phone_number: number.into(),
            account_sid: ACC.into(),
            started_at: time(at),
            attempts,
            // The attempt's buy was sent (its outcome is what the tests vary).
            buy_sent: true,
        })),
        ..Default::default()
    }
}

#[test]
fn buy_success_confirms_active() {
    let mut p = pn(spec_search("US"), Some(purchasing("+14155550100", 1, t0())));
    let mut o = obs(AccountMode::BringYourOwn);
    o.search = Some(vec![available("+14155550100")]);
    o.owned = owned(incoming("+14155550100"), t0(), true);
    let d = step(&mut p, &o);
    assert!(matches!(
        d.action,
        Action::Confirm {
            adopted: false,
            settle: false,
            ..
        }
    ));
    let st = &d.status;
    assert_eq!(st.phase, Some(Phase::Active));
    assert!(st.purchase_intent.is_none());
    assert_eq!(st.locality.as_deref(), Some("San Francisco"));
    assert_eq!(st.pricing.as_ref().unwrap().source, "TwilioPricingAPI");
    assert_eq!(st.pricing.as_ref().unwrap().monthly_fee, "1.15");
    let r = st.renewal.as_ref().unwrap();
    assert_eq!(r.policy, crate::api::RenewalPolicy::BilledByTwilio);
    assert_eq!(r.next_renewal_at, Some(micro(ts("2026-04-01T12:00:00Z"))));
    assert_eq!(cond(st, PURCHASED), Some(("True", "Purchased")));
    assert_eq!(d.event.unwrap().reason, "Purchased");
    // Same facts again: nothing to do, identical status (no write).
    let again = decide(&p, &o);
    assert_eq!(again.action, Action::Wait);
    assert_eq!(Some(&again.status), p.status.as_ref());
}

#[test]
fn intent_is_recovered_by_lookup_never_by_blind_rebuy() {
    let p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", 1, t0())),
    );
    let mut o = obs(AccountMode::Managed);
    // A snapshot saying "not owned" is not enough: look it up.
    o.owned = not_owned(t0(), false);
    assert_eq!(
        decide(&p, &o).action,
        Action::Lookup {
            number: "+14155550100".into()
        }
    );
    // Found: confirm (and settle the Managed hold).
    o.owned = owned(incoming("+14155550100"), t0(), true);
    assert!(matches!(
        decide(&p, &o).action,
        Action::Confirm {
            settle: true,
            adopted: false,
            ..
        }
    ));
    // Not found, attempt still possibly in flight: wait until it settles.
    o.owned = not_owned(t0(), true);
    o.now = t0().checked_add(SignedDuration::from_secs(10)).unwrap();
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(
        d.requeue_at,
        Some(t0().checked_add(DEFAULT_INTENT_SETTLE).unwrap())
    );
    assert_eq!(
        cond(&d.status, RECONCILING),
        Some(("True", "PurchaseInFlight"))
    );
    // After it: claim attempt 2 (status write first), then buy again.
    o.now = t0().checked_add(SignedDuration::from_mins(2)).unwrap();
    let d = decide(&p, &o);
    assert_eq!(
        d.action,
        Action::RetryBuy {
            number: "+14155550100".into(),
            charge: Some(Decimal::new(115, 2))
        }
    );
    assert_eq!(d.status.purchase_intent.as_ref().unwrap().attempts, 2);
}

#[test]
fn too_many_attempts_give_up_and_release_the_hold() {
    let p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", MAX_PURCHASE_ATTEMPTS, t0())),
    );
    let mut o = obs(AccountMode::Managed);
    o.owned = not_owned(t0(), true);
    o.now = t0().checked_add(SignedDuration::from_hours(1)).unwrap();
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Abandon { release_hold: true });
    assert_eq!(stalled_reason(&d), Some("PurchaseFailed"));
    assert!(d.status.purchase_intent.is_none());
}

#[test]
fn refusals_map_to_reasons_and_release_the_hold() {
    let p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", 1, t0())),
    );
    let mut o = obs(AccountMode::Managed);
    o.owned = not_owned(t0(), true);
    o.buy_failure = Some(BuyFailure::Refused {
        code: Some(21422),
        message: "not available".into(),
    });
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Abandon { release_hold: true });
    assert_eq!(stalled_reason(&d), Some("NumberUnavailable"));
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert!(d.status.purchase_intent.is_none());
    // 21422 without a fresh lookup: maybe it's ours already → look it up first.
    o.owned = not_owned(t0(), false);
    assert_eq!(
        decide(&p, &o).action,
        Action::Lookup {
            number: "+14155550100".into()
        }
    );
    o.owned = not_owned(t0(), true);
    for (code, reason) in [
        (21452, "NoNumbersAvailable"),
        (21631, "AddressRequired"),
        (21649, "BundleRequired"),
        (20003, "AuthenticationFailed"),
        (99999, "PurchaseRefused"),
    ] {
        o.buy_failure = Some(BuyFailure::Refused {
            code: Some(code),
            message: "x".into(),
        });
        assert_eq!(stalled_reason(&decide(&p, &o)), Some(reason), "code {code}");
    }
    // A searched number taken meanwhile: search again, not stalled.
    let p = pn(spec_search("US"), Some(purchasing("+14155550100", 1, t0())));
    o.buy_failure = Some(BuyFailure::Refused {
        code: Some(21422),
        message: "gone".into(),
    });
    let d = decide(&p, &o);
    assert_eq!(d.status.phase, Some(Phase::Pending));
    assert_eq!(stalled_reason(&d), None);
    assert_eq!(cond(&d.status, RECONCILING), Some(("True", "NumberTaken")));
}

#[test]
fn purchase_flow_end_to_end_writes_only_intent_and_active() {
    // Finalizer (by kube's helper) + these two writes = 3 Kubernetes writes per number.
    let mut p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), false);
    let mut writes = 0;
    let d = step(&mut p, &o);
    assert!(matches!(d.action, Action::RecordIntent { .. }));
    writes += 1;
    o.owned = owned(incoming("+14155550100"), t0(), true);
    let d = step(&mut p, &o);
    assert!(matches!(d.action, Action::Confirm { .. }));
    writes += 1;
    let before = p.status.clone();
    let d = step(&mut p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(
        p.status, before,
        "no-op reconcile must not change the status"
    );
    assert_eq!(writes, 2);
}

#[test]
fn all_results_claimed_means_search_again_not_stalled() {
    let p = pn(spec_search("US"), None);
    let mut o = obs(AccountMode::BringYourOwn);
    o.search = Some(vec![available("+14155550101")]);
    o.claimed_numbers = vec!["+14155550101".into()].into();
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(stalled_reason(&d), None);
    assert_eq!(
        d.status,
        PhoneNumberStatus::default(),
        "transient: no status write"
    );
    assert_eq!(d.event.as_ref().unwrap().reason, "WaitingForNumbers");
    assert_eq!(
        d.requeue_at,
        Some(t0().checked_add(SignedDuration::from_secs(2)).unwrap())
    );
    o.search = Some(vec![]);
    o.search_contended = true;
    assert_eq!(decide(&p, &o).event.unwrap().reason, "WaitingForNumbers");
}

#[test]
fn a_searched_number_another_object_bought_is_not_adopted() {
    let p = pn(spec_search("US"), Some(purchasing("+14155550100", 1, t0())));
    let mut o = obs(AccountMode::BringYourOwn);
    o.buy_failure = Some(BuyFailure::Refused {
        code: Some(21422),
        message: "owned".into(),
    });
    o.owned = owned(incoming("+14155550100"), t0(), true);
    o.claimed_numbers = vec!["+14155550100".into()].into();
    let d = decide(&p, &o);
    assert!(matches!(d.action, Action::Abandon { .. }), "{:?}", d.action);
    assert_eq!(cond(&d.status, RECONCILING), Some(("True", "NumberTaken")));
    assert!(d.status.sid.is_none());
    // Nobody else claims it: an earlier attempt of ours landed late → ours.
    o.claimed_numbers.clear();
    assert!(matches!(decide(&p, &o).action, Action::Confirm { .. }));
}

#[test]
fn a_refusal_only_a_spec_change_can_cure_holds_until_the_spec_changes() {
    let mut p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", 1, t0())),
    );
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), true);
    o.buy_failure = Some(BuyFailure::Refused {
        code: Some(21422),
        message: "not available".into(),
    });
    let d = step(&mut p, &o);
    assert_eq!(stalled_reason(&d), Some("NumberUnavailable"));

    // The next resync: the same generation, the number still not ours.
    let mut later = obs(AccountMode::BringYourOwn);
    later.now = t0().checked_add(SignedDuration::from_mins(5)).unwrap();
    later.owned = not_owned(later.now, false);
    let d = decide(&p, &later);
    assert_eq!(d.action, Action::Wait, "no new intent, no Twilio call");
    assert_eq!(Some(&d.status), p.status.as_ref(), "nothing written");
    assert_eq!(stalled_reason(&d), Some("NumberUnavailable"));

    // A spec change (a new generation) tries again.
    p.metadata.generation = Some(2);
    let d = decide(&p, &later);
    assert!(
        matches!(d.action, Action::RecordIntent { .. }),
        "{:?}",
        d.action
    );
}

#[test]
fn a_refusal_the_account_can_cure_is_retried_at_the_next_resync() {
    let mut p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", 1, t0())),
    );
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), true);
    o.buy_failure = Some(BuyFailure::Refused {
        code: Some(20003),
        message: "authenticate".into(),
    });
    step(&mut p, &o);
    let mut later = obs(AccountMode::BringYourOwn);
    later.owned = not_owned(later.now, false);
    assert!(matches!(
        decide(&p, &later).action,
        Action::RecordIntent { .. }
    ));
}

/// An intent recorded, then a crash before the buy, over and over: no attempt is used up, so a
/// crash-looping operator never drives a healthy object to PurchaseFailed.
#[test]
fn a_crash_between_the_intent_and_the_buy_uses_up_no_attempt() {
    let mut st = purchasing("+14155550100", MAX_PURCHASE_ATTEMPTS, t0());
    st.purchase_intent.as_mut().unwrap().buy_sent = false;
    let p = pn(spec_number("+14155550100"), Some(st));
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), true);
    o.now = t0().checked_add(SignedDuration::from_hours(1)).unwrap();
    let d = decide(&p, &o);
    assert_eq!(
        d.action,
        Action::RetryBuy {
            number: "+14155550100".into(),
            charge: None
        },
        "{:?}",
        d.status.conditions
    );
    let intent = d.status.purchase_intent.clone().unwrap();
    assert_eq!(
        intent.attempts, MAX_PURCHASE_ATTEMPTS,
        "the same attempt again"
    );
    assert!(!intent.buy_sent);
    assert_eq!(stalled_reason(&d), None);
}

/// A buy sent with an unknown outcome counts: the wait that follows records it (so a restart
/// still counts it), and the next attempt is the next number.
#[test]
fn a_buy_sent_counts_and_is_recorded_with_the_wait() {
    let mut st = purchasing("+14155550100", 1, t0());
    st.purchase_intent.as_mut().unwrap().buy_sent = false;
    let mut p = pn(spec_number("+14155550100"), Some(st));
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), true);
    o.buy_sent = true;
    o.now = t0().checked_add(SignedDuration::from_secs(1)).unwrap();
    let d = step(&mut p, &o);
    assert_eq!(d.action, Action::Wait);
    assert!(d.status.purchase_intent.as_ref().unwrap().buy_sent);
    // A restarted operator (nothing seen in this reconcile) after the in-flight window.
    o.buy_sent = false;
    o.now = t0().checked_add(SignedDuration::from_mins(2)).unwrap();
    let d = decide(&p, &o);
    assert!(
        matches!(d.action, Action::RetryBuy { .. }),
        "{:?}",
        d.action
    );
    let intent = d.status.purchase_intent.unwrap();
    assert_eq!((intent.attempts, intent.buy_sent), (2, false));
}

/// Managed: the ledger's balance cannot pay the fee: Stalled InsufficientCredits without an
/// intent (no write, no hold, no search), until the balance covers it.
#[test]
fn short_credits_refuse_before_any_intent_until_the_balance_covers_the_fee() {
    for spec in [spec_number("+14155550100"), spec_search("US")] {
        let p = pn(spec.clone(), None);
        let mut o = obs(AccountMode::Managed);
        o.owned = not_owned(t0(), false);
        o.search = Some(vec![available("+14155550100")]);
        o.credits_balance = Some(Decimal::new(100, 2));
        let d = decide(&p, &o);
        assert_eq!(d.action, Action::Wait, "{spec:?}");
        assert_eq!(stalled_reason(&d), Some("InsufficientCredits"));
        assert!(d.status.purchase_intent.is_none());
        // The same facts again (a restart, a resync): the same status, so nothing is written.
        let mut again = p.clone();
        again.status = Some(d.status.clone());
        assert_eq!(decide(&again, &o).status, d.status);
        // Topped up: the purchase goes ahead.
        o.credits_balance = Some(Decimal::new(115, 2));
        assert!(
            matches!(decide(&again, &o).action, Action::RecordIntent { .. }),
            "{spec:?}"
        );
    }
}

/// PurchaseFailed (every attempt sent, nothing arrived) is not retried on the next resync; a
/// spec change (new generation) tries again.
#[test]
fn purchase_failed_writes_no_new_intent_until_the_spec_changes() {
    let p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", MAX_PURCHASE_ATTEMPTS, t0())),
    );
    let mut o = obs(AccountMode::BringYourOwn);
    o.owned = not_owned(t0(), true);
    o.now = t0().checked_add(SignedDuration::from_hours(1)).unwrap();
    let mut p2 = p.clone();
    let d = step(&mut p2, &o);
    assert_eq!(stalled_reason(&d), Some("PurchaseFailed"));
    o.owned = not_owned(o.now, false);
    let d = decide(&p2, &o);
    assert_eq!(d.action, Action::Wait);
    assert!(d.status.purchase_intent.is_none());
    p2.metadata.generation = Some(2);
    assert!(matches!(
        decide(&p2, &o).action,
        Action::RecordIntent { .. }
    ));
}

/// Managed, the rate card lost the number's price while an attempt was recorded (not found
/// after its window): the intent is given up, not replaced by a new one at every resync.
#[test]
fn no_price_for_another_attempt_abandons_instead_of_recording_one() {
    let p = pn(
        spec_number("+14155550100"),
        Some(purchasing("+14155550100", 1, t0())),
    );
    let mut o = obs(AccountMode::Managed);
    o.price = None;
    o.owned = not_owned(t0(), true);
    o.now = t0().checked_add(SignedDuration::from_mins(2)).unwrap();
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Abandon { release_hold: true });
    assert_eq!(stalled_reason(&d), Some("NotOnRateCard"));
    assert!(d.status.purchase_intent.is_none());
}

/// A Managed number adopted after its paid period (bought more than 28 days ago, e.g. kept by an
/// administrator's skip-release and re-adopted): the adoption records the number, and the next
/// decision charges its renewal at once — re-adopting never keeps a number for free.
#[test]
fn a_managed_number_adopted_after_its_period_is_recorded_then_renewed_at_once() {
    let p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::Managed);
    let mut old = incoming("+14155550100");
    old.date_created = Some(t0() - jiff::SignedDuration::from_hours(40 * 24));
    o.owned = owned(old, t0(), false);
    let d = decide(&p, &o);
    assert!(
        matches!(d.action, Action::Confirm { adopted: true, .. }),
        "{:?}",
        d.action
    );
    assert_eq!(
        d.status.sid.as_deref(),
        Some("PN0123456789abcdef0123456789abcdef")
    );
    assert_eq!(d.status.phone_number.as_deref(), Some("+14155550100"));

    // The engine writes that status; the next round renews.
    let recorded = pn(spec_number("+14155550100"), Some(d.status.clone()));
    let mut o2 = obs(AccountMode::Managed);
    o2.owned = owned(incoming("+14155550100"), t0(), true);
    let next = decide(&recorded, &o2);
    assert!(
        matches!(next.action, Action::Renew { .. }),
        "{:?}",
        next.action
    );
}

/// Issue 14: a Managed number deleted in period 3 and re-declared under a new name within the
/// quarantine window is adopted with the same renewal cycle: no renewal is charged for the
/// periods the deleted PhoneNumber already paid, and the next one falls when it would have.
#[test]
fn a_held_managed_number_is_adopted_with_its_paid_period() {
    use crate::api::{HeldNumber, RenewalPolicy};
    use crate::reconcile::phone_number::status::{micro, micro_ts};
    let bought = t0() - SignedDuration::from_hours(60 * 24);
    let mut old = incoming("+14155550100");
    old.date_created = Some(bought);
    let paid_until = crate::billing::renewal::due_at_every(bought, 3, 28);
    let hold = HeldNumber {
        phone_number: "+14155550100".into(),
        sid: old.sid.clone(),
        account_sid: ACC.into(),
        deleted_from: "old-name".into(),
        held_since: micro(t0()),
        release_at: micro(t0() + SignedDuration::from_hours(1)),
        purchased_at: Some(micro(bought)),
        period: Some(3),
        period_days: Some(28),
        releasing: false,
    };
    let p = pn(spec_number("+14155550100"), None);
    let mut o = obs(AccountMode::Managed);
    o.owned = owned(old.clone(), t0(), true);
    // Without the hold, the number's age would charge renewals at once (see above).
    o.held = Some(hold.clone());
    let d = decide(&p, &o);
    assert!(
        matches!(d.action, Action::Confirm { adopted: true, .. }),
        "{:?}",
        d.action
    );
    assert_eq!(d.event.as_ref().unwrap().reason, "HeldNumberAdopted");
    let r = d.status.renewal.clone().expect("renewal recorded");
    assert_eq!((r.policy, r.period), (RenewalPolicy::Managed, Some(3)));
    assert_eq!(r.next_renewal_at.as_ref().map(micro_ts), Some(paid_until));

    // The next reconcile of the adopted number charges nothing before the paid period ends.
    let recorded = pn(spec_number("+14155550100"), Some(d.status.clone()));
    let mut o2 = obs(AccountMode::Managed);
    o2.owned = owned(old.clone(), t0(), true);
    let next = decide(&recorded, &o2);
    assert!(
        !matches!(next.action, Action::Renew { .. }),
        "{:?}",
        next.action
    );
    // A hold of another SID (the number was released and bought again) is not adopted from.
    let mut other = hold;
    other.sid = "PN-other".into();
    o.held = Some(other);
    assert_eq!(decide(&p, &o).event.unwrap().reason, "Adopted");
}
