//! Purchase path: validation, account states, adoption, search, price guard, intent, recovery.

use super::*;
use crate::api::condition::{PURCHASED, READY, RECONCILING, STALLED};
use crate::api::{Phase, PurchaseIntent};
use crate::conditions::time;

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
    let d = decide(&p, &Observed::new(t0(), AccountView::Missing));
    assert_eq!(stalled_reason(&d), Some("AccountNotFound"));
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
        PurchaseIntent {
            phone_number: "+14155550100".into(),
            account_sid: ACC.into(),
            started_at: time(t0()),
            attempts: 1
        }
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
    o.claimed_numbers = vec!["+14155550101".into()];
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
        purchase_intent: Some(PurchaseIntent {
            phone_number: number.into(),
            account_sid: ACC.into(),
            started_at: time(at),
            attempts,
        }),
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
    assert_eq!(r.next_renewal_at, Some(time(ts("2026-04-01T12:00:00Z"))));
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
    o.claimed_numbers = vec!["+14155550101".into()];
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
    o.claimed_numbers = vec!["+14155550100".into()];
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
