//! Deletion decisions.

use super::*;
use crate::api::{DeletionPolicy, Phase, PurchaseIntent, SKIP_RELEASE_ANNOTATION};
use crate::conditions::time;
use jiff::SignedDuration;

fn active_status() -> PhoneNumberStatus {
    PhoneNumberStatus {
        phase: Some(Phase::Active),
        phone_number: Some("+14155550100".into()),
        sid: Some("PN1".into()),
        ..Default::default()
    }
}

fn cobs() -> CleanupObserved {
    CleanupObserved::new(
        usable(AccountMode::BringYourOwn),
        t0(),
        SignedDuration::ZERO,
    )
}

#[test]
fn release_retain_skip() {
    let p = pn(spec_number("+14155550100"), Some(active_status()));
    assert_eq!(
        decide_cleanup(&p, &cobs()),
        CleanupAction::Release {
            sid: "PN1".into(),
            number: "+14155550100".into()
        }
    );
    let mut o = cobs();
    o.released = true;
    assert!(matches!(
        decide_cleanup(&p, &o),
        CleanupAction::Done {
            release_hold: false,
            event: Some(_)
        }
    ));

    let mut s = spec_number("+14155550100");
    s.deletion_policy = DeletionPolicy::Retain;
    assert!(
        matches!(decide_cleanup(&pn(s, Some(active_status())), &cobs()), CleanupAction::Done { event: Some((ref r, _)), .. } if r == "Retained")
    );

    let mut p2 = p.clone();
    p2.metadata.annotations =
        Some([(SKIP_RELEASE_ANNOTATION.to_string(), "true".to_string())].into());
    let o = CleanupObserved::new(AccountView::Missing, t0(), SignedDuration::ZERO);
    assert!(
        matches!(decide_cleanup(&p2, &o), CleanupAction::Done { event: Some((ref r, _)), .. } if r == "ReleaseSkipped")
    );
    // Without the annotation, a missing account blocks and says how to unblock.
    match decide_cleanup(&p, &o) {
        CleanupAction::Blocked(why) => assert!(why.message.contains(SKIP_RELEASE_ANNOTATION)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nothing_bought_nothing_to_release() {
    let p = pn(spec_number("+14155550100"), None);
    assert_eq!(
        decide_cleanup(&p, &cobs()),
        CleanupAction::Done {
            release_hold: false,
            event: None
        }
    );
    let released = PhoneNumberStatus {
        phase: Some(Phase::Released),
        ..active_status()
    };
    assert!(matches!(
        decide_cleanup(&pn(spec_number("+14155550100"), Some(released)), &cobs()),
        CleanupAction::Done { .. }
    ));
}

#[test]
fn purchase_in_flight_is_looked_up_then_released_or_hold_dropped() {
    let st = PhoneNumberStatus {
        phase: Some(Phase::Purchasing),
        purchase_intent: Some(Box::new(PurchaseIntent {
            phone_number: "+14155550100".into(),
            account_sid: ACC.into(),
            started_at: time(t0()),
            attempts: 1,
            buy_sent: false,
        })),
        ..Default::default()
    };
    let p = pn(spec_number("+14155550100"), Some(st));
    assert_eq!(
        decide_cleanup(&p, &cobs()),
        CleanupAction::Lookup {
            number: "+14155550100".into()
        }
    );
    let mut o = cobs();
    o.owned = owned(incoming("+14155550100"), t0(), true);
    assert!(matches!(
        decide_cleanup(&p, &o),
        CleanupAction::Release { .. }
    ));
    o.owned = not_owned(t0(), true);
    assert_eq!(
        decide_cleanup(&p, &o),
        CleanupAction::Done {
            release_hold: true,
            event: None
        }
    );
}

/// Issue: a Managed tenant kept numbers at the platform's cost with `deletionPolicy: Retain` or
/// the skip-release annotation. A Managed account's numbers are released when their PhoneNumber
/// goes; skip-release only applies while the account cannot be reached.
#[test]
fn a_managed_number_is_never_kept_after_its_phone_number_goes() {
    let managed = || CleanupObserved::new(usable(AccountMode::Managed), t0(), SignedDuration::ZERO);
    let release = CleanupAction::Release {
        sid: "PN1".into(),
        number: "+14155550100".into(),
    };
    let mut retain = spec_number("+14155550100");
    retain.deletion_policy = DeletionPolicy::Retain;
    let kept = pn(retain.clone(), Some(active_status()));
    assert_eq!(decide_cleanup(&kept, &managed()), release);
    let mut done = managed();
    done.released = true;
    match decide_cleanup(&kept, &done) {
        CleanupAction::Done {
            event: Some((r, note)),
            ..
        } => {
            assert_eq!(r, "Released");
            assert!(note.contains("Managed"), "{note}");
        }
        other => panic!("{other:?}"),
    }

    let mut skipped = pn(spec_number("+14155550100"), Some(active_status()));
    skipped.metadata.annotations =
        Some([(SKIP_RELEASE_ANNOTATION.to_string(), "true".to_string())].into());
    assert_eq!(decide_cleanup(&skipped, &managed()), release);
    // The escape hatch still works when the account cannot be reached at all.
    let unreachable = CleanupObserved::new(AccountView::Missing, t0(), SignedDuration::ZERO);
    assert!(matches!(
        decide_cleanup(&skipped, &unreachable),
        CleanupAction::Done { event: Some((ref r, _)), .. } if r == "ReleaseSkipped"
    ));

    // A purchase in flight when a Managed Retain object was deleted: released if it happened.
    let in_flight_status: PhoneNumberStatus = serde_json::from_value(serde_json::json!({
        "phase": "Purchasing",
        "purchaseIntent": {"phoneNumber": "+14155550100", "accountSid": ACC,
                           "startedAt": "2026-01-01T00:00:00Z", "attempts": 1}
    }))
    .unwrap();
    let in_flight = pn(retain, Some(in_flight_status));
    let mut found = managed();
    found.owned = owned(incoming("+14155550100"), t0(), true);
    assert!(matches!(
        decide_cleanup(&in_flight, &found),
        CleanupAction::Release { .. }
    ));
}

/// Issue 14: a rename must not lose a number. With a quarantine window, deleting a number that
/// would be released hands it to the account instead; once held, the PhoneNumber goes with an
/// event saying until when and how to keep it.
#[test]
fn a_released_number_is_held_by_its_account_first() {
    let p = pn(spec_number("+14155550100"), Some(active_status()));
    let mut o = CleanupObserved::new(
        usable(AccountMode::BringYourOwn),
        t0(),
        SignedDuration::from_hours(1),
    );
    let hold = match decide_cleanup(&p, &o) {
        CleanupAction::Hold(h) => h,
        other => panic!("expected a hold, got {other:?}"),
    };
    assert_eq!(
        (hold.phone_number.as_str(), hold.sid.as_str()),
        ("+14155550100", "PN1")
    );
    assert_eq!(
        hold.account_sid, ACC,
        "the account's SID when the status records none"
    );
    assert_eq!(hold.deleted_from, "pn1");
    o.held = Some(hold);
    match decide_cleanup(&p, &o) {
        CleanupAction::Done {
            release_hold: false,
            event: Some((r, note)),
        } => {
            assert_eq!(r, "NumberHeld");
            assert!(note.contains("spec.number"), "{note}");
        }
        other => panic!("{other:?}"),
    }
    // Retain and skip-release are not holds: nothing would be released.
    let mut s = spec_number("+14155550100");
    s.deletion_policy = DeletionPolicy::Retain;
    let o = CleanupObserved::new(
        usable(AccountMode::BringYourOwn),
        t0(),
        SignedDuration::from_hours(1),
    );
    assert!(matches!(
        decide_cleanup(&pn(s, Some(active_status())), &o),
        CleanupAction::Done { event: Some((ref r, _)), .. } if r == "Retained"
    ));
    // A purchase in flight is released at once when found (it was never in use).
    let in_flight: PhoneNumberStatus = serde_json::from_value(serde_json::json!({
        "phase": "Purchasing",
        "purchaseIntent": {"phoneNumber": "+14155550100", "accountSid": ACC,
                           "startedAt": "2026-01-01T00:00:00Z", "attempts": 1}
    }))
    .unwrap();
    let mut found = o.clone();
    found.owned = owned(incoming("+14155550100"), t0(), true);
    assert!(matches!(
        decide_cleanup(&pn(spec_number("+14155550100"), Some(in_flight)), &found),
        CleanupAction::Release { .. }
    ));
    // Another PhoneNumber claims the number: neither held nor released.
    let mut elsewhere = o.clone();
    elsewhere.claimed_elsewhere = true;
    assert!(matches!(
        decide_cleanup(&p, &elsewhere),
        CleanupAction::Done { event: Some((ref r, _)), .. } if r == "ReleaseSkipped"
    ));
}
