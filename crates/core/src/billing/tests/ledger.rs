//! The credits ledger: cycles, grants, roll, hold → settle / release.

use super::{dec, ts};
use crate::api::{
    BillingCycleSpec, ChargeKind, ChargeState, CreditGrantSpec, CreditsSpec, CreditsStatus, TopUp,
};
use crate::billing::ledger::{
    Cycle, HoldOutcome, LedgerError, charge_key, check_currency, cycle_bounds, find_charge,
    granted, hold, release_hold, roll, settle, summary, totals,
};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

const DAY: SignedDuration = SignedDuration::from_hours(24);
const SEC: SignedDuration = SignedDuration::from_secs(1);

fn connected() -> Timestamp {
    ts("2026-01-01T00:00:00Z")
}

fn spec(per_cycle: &str, top_ups: &[(&str, &str, &str)]) -> CreditGrantSpec {
    CreditGrantSpec {
        credits: CreditsSpec {
            per_cycle: per_cycle.into(),
            currency: "USD".into(),
            top_ups: top_ups
                .iter()
                .map(|(id, amount, at)| TopUp {
                    id: (*id).into(),
                    amount: (*amount).into(),
                    at: Time(ts(at)),
                })
                .collect(),
        },
        billing_cycle: None,
    }
}

fn fresh(spec: &CreditGrantSpec, now: Timestamp) -> CreditsStatus {
    roll(&CreditsStatus::default(), spec, connected(), now).unwrap()
}

#[test]
fn cycles_are_28_days_from_the_connect_time_by_default() {
    let s = spec("10", &[]);
    let c = cycle_bounds(&s, connected(), connected());
    assert_eq!(
        c,
        Cycle {
            start: connected(),
            end: connected() + DAY * 28
        }
    );
    let c = cycle_bounds(&s, connected(), connected() + DAY * 28 - SEC);
    assert_eq!(c.start, connected());
    let c = cycle_bounds(&s, connected(), connected() + DAY * 28);
    assert_eq!(c.start, connected() + DAY * 28);
    // Before the origin: the cycle before it.
    let c = cycle_bounds(&s, connected(), connected() - SEC);
    assert_eq!(
        c,
        Cycle {
            start: connected() - DAY * 28,
            end: connected()
        }
    );
}

#[test]
fn starts_at_and_length_days_override_the_defaults() {
    let mut s = spec("10", &[]);
    s.billing_cycle = Some(BillingCycleSpec {
        starts_at: Some(Time(ts("2026-02-01T00:00:00Z"))),
        length_days: Some(30),
    });
    let c = cycle_bounds(&s, connected(), ts("2026-03-05T10:00:00Z"));
    assert_eq!(
        c,
        Cycle {
            start: ts("2026-03-03T00:00:00Z"),
            end: ts("2026-04-02T00:00:00Z")
        }
    );
}

#[test]
fn granted_counts_top_ups_in_the_cycle_once_per_id() {
    let s = spec(
        "25.00",
        &[
            ("r1", "10.00", "2026-01-01T00:00:00Z"), // at the start: in
            ("r2", "5.50", "2026-01-28T23:59:59Z"),  // last second: in
            ("r3", "7", "2026-01-29T00:00:00Z"),     // at the end: next cycle
            ("r1", "10.00", "2026-01-05T00:00:00Z"), // duplicate id: ignored
            ("r0", "1", "2025-12-31T23:59:59Z"),     // previous cycle
        ],
    );
    let c = cycle_bounds(&s, connected(), connected());
    assert_eq!(granted(&s, c).unwrap(), dec("40.50"));
    let next = cycle_bounds(&s, connected(), c.end);
    assert_eq!(granted(&s, next).unwrap(), dec("32"));
}

#[test]
fn malformed_spec_amounts_are_named() {
    let c = cycle_bounds(&spec("1", &[]), connected(), connected());
    let e = granted(&spec("1e3", &[]), c).unwrap_err();
    assert!(
        e.to_string().contains("CreditGrant spec.credits.perCycle"),
        "{e}"
    );
    let e = granted(&spec("1", &[("rcpt-9", "-5", "2026-01-02T00:00:00Z")]), c).unwrap_err();
    assert!(matches!(e, LedgerError::InvalidSpec { .. }));
    assert!(e.to_string().contains("topUps[id=rcpt-9].amount"), "{e}");
}

#[test]
fn a_fresh_ledger_shows_the_grant() {
    let st = fresh(&spec("25", &[]), connected() + DAY);
    assert_eq!(st.cycle_start, Some(Time(connected())));
    assert_eq!(st.cycle_end, Some(Time(connected() + DAY * 28)));
    assert_eq!(
        (st.currency.as_str(), st.granted.as_str()),
        ("USD", "25.00")
    );
    assert_eq!((st.spent.as_str(), st.balance.as_str()), ("0.00", "25.00"));
}

#[test]
fn hold_settle_release_and_idempotency() {
    let s = spec("3.00", &[]);
    let now = connected() + DAY;
    let st = fresh(&s, now);
    let k1 = charge_key("uid-1", 1);
    assert_eq!(k1, "uid-1/p1");

    let (st, o) = hold(&st, &k1, "pn-a", dec("1.15"), ChargeKind::Purchase, now).unwrap();
    assert_eq!(o, HoldOutcome::Held);
    assert_eq!((st.spent.as_str(), st.balance.as_str()), ("1.15", "1.85"));
    let (again, o) = hold(&st, &k1, "pn-a", dec("1.15"), ChargeKind::Purchase, now).unwrap();
    assert_eq!((o, &again), (HoldOutcome::AlreadyHeld, &st));

    let (st, changed) = settle(&st, &k1, "+14155550100").unwrap();
    assert!(changed);
    let c = find_charge(&st, &k1).unwrap();
    assert_eq!(
        (c.state, c.number.as_deref()),
        (ChargeState::Settled, Some("+14155550100"))
    );
    let (same, changed) = settle(&st, &k1, "+14155550100").unwrap();
    assert!(!changed && same == st);
    let (_, o) = hold(&st, &k1, "pn-a", dec("1.15"), ChargeKind::Purchase, now).unwrap();
    assert_eq!(o, HoldOutcome::AlreadySettled);
    // No refunds: releasing a settled charge does nothing.
    let (same, changed) = release_hold(&st, &k1).unwrap();
    assert!(!changed && same == st);

    // A failed purchase: held then released, never charged.
    let k2 = charge_key("uid-2", 1);
    let (held, _) = hold(&st, &k2, "pn-b", dec("1.15"), ChargeKind::Purchase, now).unwrap();
    assert_eq!(held.balance, "0.70");
    let (st2, changed) = release_hold(&held, &k2).unwrap();
    assert!(changed);
    assert_eq!(st2, st);
    let (_, changed) = release_hold(&st2, &k2).unwrap();
    assert!(!changed);
    // Settling an unknown key changes nothing.
    let (same, changed) = settle(&st2, "nope/p1", "+1").unwrap();
    assert!(!changed && same == st2);
}

#[test]
fn insufficient_credits_never_go_below_zero() {
    let s = spec("2.30", &[]);
    let now = connected() + DAY;
    let st = fresh(&s, now);
    let (st, _) = hold(&st, "a/p1", "a", dec("1.15"), ChargeKind::Purchase, now).unwrap();
    let (st, _) = hold(&st, "b/p1", "b", dec("1.15"), ChargeKind::Purchase, now).unwrap();
    assert_eq!(st.balance, "0.00");
    let e = hold(&st, "c/p1", "c", dec("1.15"), ChargeKind::Purchase, now).unwrap_err();
    assert_eq!(
        e,
        LedgerError::InsufficientCredits {
            balance: dec("0"),
            needed: dec("1.15")
        }
    );
    assert_eq!(
        e.to_string(),
        "insufficient credits: balance 0.00, needed 1.15"
    );
    // A zero amount still fits, a negative one is refused.
    assert!(hold(&st, "z/p1", "z", dec("0"), ChargeKind::Purchase, now).is_ok());
    assert!(matches!(
        hold(&st, "n/p1", "n", dec("-1"), ChargeKind::Purchase, now),
        Err(LedgerError::NegativeAmount(_))
    ));
}

#[test]
fn a_top_up_mid_cycle_is_counted_after_the_next_roll() {
    let now = connected() + DAY * 3;
    let st = fresh(&spec("1", &[]), now);
    assert!(hold(&st, "a/p1", "a", dec("2"), ChargeKind::Purchase, now).is_err());
    let topped = spec("1", &[("rc-1", "5", "2026-01-03T00:00:00Z")]);
    let st = roll(&st, &topped, connected(), now).unwrap();
    assert_eq!(st.granted, "6.00");
    assert!(hold(&st, "a/p1", "a", dec("2"), ChargeKind::Purchase, now).is_ok());
}

#[test]
fn hold_refuses_an_ended_or_missing_cycle() {
    let s = spec("10", &[]);
    let st = fresh(&s, connected());
    let end = connected() + DAY * 28;
    let e = hold(&st, "a/p1", "a", dec("1"), ChargeKind::Purchase, end).unwrap_err();
    assert_eq!(
        e,
        LedgerError::CycleNotCurrent {
            cycle_end: Some(end),
            now: end
        }
    );
    assert!(hold(&st, "a/p1", "a", dec("1"), ChargeKind::Purchase, end - SEC).is_ok());
    let e = hold(
        &CreditsStatus::default(),
        "a/p1",
        "a",
        dec("1"),
        ChargeKind::Purchase,
        end,
    );
    assert!(matches!(
        e,
        Err(LedgerError::CycleNotCurrent {
            cycle_end: None,
            ..
        })
    ));
}

#[test]
fn roll_summarises_expires_and_carries_holds() {
    let s = spec("10", &[("t", "4", "2026-01-10T00:00:00Z")]);
    let now = connected() + DAY;
    let st = fresh(&s, now);
    let (st, _) = hold(&st, "a/p1", "a", dec("3"), ChargeKind::Purchase, now).unwrap();
    let (st, _) = settle(&st, "a/p1", "+15005550006").unwrap();
    let (st, _) = hold(&st, "b/p1", "b", dec("2"), ChargeKind::Purchase, now).unwrap();
    assert_eq!(st.balance, "9.00");

    // Not yet: one second before the end nothing moves.
    let end = connected() + DAY * 28;
    assert_eq!(roll(&st, &s, connected(), end - SEC).unwrap(), st);

    let rolled = roll(&st, &s, connected(), end).unwrap();
    assert_eq!(rolled.cycle_start, Some(Time(end)));
    assert_eq!(rolled.cycle_end, Some(Time(end + DAY * 28)));
    assert_eq!(rolled.history.len(), 1);
    let h = &rolled.history[0];
    assert_eq!((h.start.0, h.end.0), (connected(), end));
    // The settled 3 was spent; the carried hold is not the old cycle's: 14 − 3 = 11 expired.
    assert_eq!(
        (h.granted.as_str(), h.spent.as_str(), h.expired.as_str()),
        ("14.00", "3.00", "11.00")
    );
    // The in-flight hold moved along, still Held, counted against the new cycle.
    assert_eq!(rolled.charges.len(), 1);
    assert_eq!(
        (rolled.charges[0].key.as_str(), rolled.charges[0].state),
        ("b/p1", ChargeState::Held)
    );
    assert_eq!(
        (
            rolled.granted.as_str(),
            rolled.spent.as_str(),
            rolled.balance.as_str()
        ),
        ("10.00", "2.00", "8.00")
    );
    // Idempotent.
    assert_eq!(roll(&rolled, &s, connected(), end + DAY).unwrap(), rolled);
    // The carried hold can still settle (the purchase succeeded) or be released.
    let (done, changed) = settle(&rolled, "b/p1", "+15005550007").unwrap();
    assert!(changed && done.spent == "2.00");
    let (gone, changed) = release_hold(&rolled, "b/p1").unwrap();
    assert!(changed && gone.balance == "10.00" && gone.charges.is_empty());
}

#[test]
fn carried_holds_larger_than_the_new_grant_show_zero_balance() {
    let big = spec("10", &[("t", "90", "2026-01-02T00:00:00Z")]);
    let now = connected() + DAY * 2;
    let st = fresh(&big, now);
    let (st, _) = hold(&st, "a/p1", "a", dec("50"), ChargeKind::Purchase, now).unwrap();
    let rolled = roll(&st, &big, connected(), connected() + DAY * 28).unwrap();
    assert_eq!(
        (rolled.spent.as_str(), rolled.balance.as_str()),
        ("50.00", "0.00")
    );
    let t = totals(&rolled).unwrap();
    assert_eq!(
        (t.held, t.settled, t.granted),
        (dec("50"), dec("0"), dec("10"))
    );
    assert!(matches!(
        hold(
            &rolled,
            "b/p1",
            "b",
            dec("0.01"),
            ChargeKind::Purchase,
            connected() + DAY * 29
        ),
        Err(LedgerError::InsufficientCredits { .. })
    ));
}

#[test]
fn skipped_cycles_are_summarised_and_history_keeps_six() {
    let s = spec("5", &[("late", "1", "2026-03-01T00:00:00Z")]);
    let st = fresh(&s, connected());
    // Down for 3 cycles: the first (untouched) plus 2 skipped ones appear.
    let later = roll(&st, &s, connected(), connected() + DAY * 28 * 3 + DAY).unwrap();
    assert_eq!(later.history.len(), 3);
    assert_eq!(later.history[2].end.0, connected() + DAY * 84);
    assert_eq!(later.cycle_start, Some(Time(connected() + DAY * 84)));
    // 2026-03-01 is in the third cycle [Feb 26, Mar 26).
    let expired: Vec<_> = later.history.iter().map(|h| h.expired.as_str()).collect();
    assert_eq!(expired, ["5.00", "5.00", "6.00"]);
    // Down for 100 cycles: only the last 6, contiguous, ending where the new cycle starts.
    let much_later = roll(&later, &s, connected(), connected() + DAY * 28 * 103).unwrap();
    assert_eq!(much_later.history.len(), 6);
    assert!(
        much_later
            .history
            .windows(2)
            .all(|w| w[0].end == w[1].start)
    );
    assert_eq!(
        much_later.history[5].end,
        much_later.cycle_start.clone().unwrap()
    );
}

#[test]
fn a_clock_that_goes_back_rolls_nothing_back() {
    let s = spec("5", &[]);
    let st = fresh(&s, connected() + DAY * 30);
    assert_eq!(roll(&st, &s, connected(), connected()).unwrap(), st);
}

#[test]
fn the_anchor_only_matters_the_first_time() {
    let s = spec("5", &[]);
    let st = fresh(&s, connected());
    // Later calls may pass any anchor (e.g. `now`): the ledger keeps its own rhythm.
    let rolled = roll(
        &st,
        &s,
        ts("2026-01-29T13:37:00Z"),
        ts("2026-02-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(rolled.cycle_start, Some(Time(connected() + DAY * 28)));
}

#[test]
fn summary_recomputes_from_the_charges_and_detects_corruption() {
    let s = spec("10", &[]);
    let now = connected();
    let (mut st, _) = hold(
        &fresh(&s, now),
        "a/p1",
        "a",
        dec("1.15"),
        ChargeKind::Renewal,
        now,
    )
    .unwrap();
    st.spent = "999".into();
    st.balance = "-3".into();
    let fixed = summary(&st).unwrap();
    assert_eq!(
        (fixed.spent.as_str(), fixed.balance.as_str()),
        ("1.15", "8.85")
    );
    st.charges[0].amount = "lots".into();
    let e = summary(&st).unwrap_err();
    assert!(e.to_string().contains("charges[key=a/p1].amount"), "{e}");
}

#[test]
fn currency_check() {
    let st = fresh(&spec("1", &[]), connected());
    assert!(check_currency(&st, "USD").is_ok());
    let e = check_currency(&st, "EUR").unwrap_err();
    assert_eq!(e.to_string(), "cannot charge EUR against credits in USD");
}

#[test]
fn a_charge_replayed_across_a_cycle_end_is_not_taken_twice() {
    let s = spec("10.00", &[]);
    let now = connected() + DAY * 27;
    let st = fresh(&s, now);
    let key = charge_key("uid-r", 2);
    let (st, _) = hold(&st, &key, "pn-r", dec("1.15"), ChargeKind::Renewal, now).unwrap();
    let (st, _) = settle(&st, &key, "+14155550100").unwrap();
    // The operator crashes before recording the renewal on the PhoneNumber; the cycle ends.
    let after = connected() + DAY * 28 + SEC;
    let rolled = roll(&st, &s, connected(), after).unwrap();
    assert!(
        find_charge(&rolled, &key).is_none(),
        "settled charges leave with their cycle"
    );
    let (again, outcome) = hold(
        &rolled,
        &key,
        "pn-r",
        dec("1.15"),
        ChargeKind::Renewal,
        after,
    )
    .unwrap();
    assert_eq!(outcome, HoldOutcome::AlreadySettled);
    assert_eq!(again, rolled, "nothing charged in the new cycle");
    assert_eq!(again.balance, "10.00");
    // One more cycle later the key is forgotten (a replay comes right after a restart).
    let later = roll(&rolled, &s, connected(), connected() + DAY * 56 + SEC).unwrap();
    assert!(later.previous_cycle_keys.is_empty());
}
