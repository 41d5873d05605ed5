//! Renewal decisions at the boundaries (module doc of `billing::renewal`).

use super::ts;
use crate::billing::renewal::{
    GRACE, PERIOD, PERIOD_DAYS, RenewalDecision as D, RenewalInput, RenewalPhase, decide, due_at,
    grace_deadline, grace_retry_at, next_renewal_at,
};
use jiff::{SignedDuration, Timestamp};

const SEC: SignedDuration = SignedDuration::from_secs(1);

fn bought() -> Timestamp {
    ts("2026-01-01T12:00:00Z")
}

fn input(
    period: u32,
    auto: bool,
    phase: RenewalPhase,
    deadline: Option<Timestamp>,
) -> RenewalInput {
    RenewalInput {
        purchased_at: bought(),
        current_period: period,
        auto_renew: auto,
        phase,
        grace_deadline: deadline,
        period_days: PERIOD_DAYS,
    }
}

#[test]
fn due_dates_are_purchase_plus_k_periods() {
    assert_eq!(due_at(bought(), 0), bought());
    assert_eq!(due_at(bought(), 1), ts("2026-01-29T12:00:00Z"));
    assert_eq!(due_at(bought(), 2), ts("2026-02-26T12:00:00Z"));
    assert_eq!(next_renewal_at(bought(), 13), bought() + PERIOD * 13);
    assert_eq!(
        grace_deadline(ts("2026-01-29T12:00:00Z")),
        ts("2026-01-31T12:00:00Z")
    );
    assert_eq!(due_at(ts("9999-12-01T00:00:00Z"), u32::MAX), Timestamp::MAX);
}

#[test]
fn active_number_renews_exactly_at_due_not_a_second_before() {
    let due = due_at(bought(), 1);
    let i = input(1, true, RenewalPhase::Active, None);
    assert_eq!(decide(&i, due - SEC), D::NotDue { next_check: due });
    assert_eq!(decide(&i, due), D::RenewNow { period: 2, due });
    assert_eq!(decide(&i, due + SEC), D::RenewNow { period: 2, due });
    // Operator down past the whole window: still renewed (the customer did nothing wrong).
    assert_eq!(
        decide(&i, due + GRACE + SEC),
        D::RenewNow { period: 2, due }
    );
}

#[test]
fn no_auto_renew_enters_grace_at_due_with_deadline_due_plus_48h() {
    let due = due_at(bought(), 1);
    let i = input(1, false, RenewalPhase::Active, None);
    assert_eq!(decide(&i, due - SEC), D::NotDue { next_check: due });
    let deadline = due + GRACE;
    assert_eq!(decide(&i, due), D::EnterGrace { due, deadline });
    // Entered late, the deadline is still due + 48 h (not shifted by the late check).
    assert_eq!(
        decide(&i, due + SignedDuration::from_hours(30)),
        D::EnterGrace { due, deadline }
    );
}

#[test]
fn grace_lapses_exactly_at_the_deadline() {
    let due = due_at(bought(), 1);
    let deadline = grace_deadline(due);
    let i = input(1, false, RenewalPhase::GracePeriod, Some(deadline));
    assert_eq!(decide(&i, due), D::StillInGrace { deadline });
    assert_eq!(decide(&i, deadline - SEC), D::StillInGrace { deadline });
    assert_eq!(decide(&i, deadline), D::Lapse);
    assert_eq!(decide(&i, deadline + SEC), D::Lapse);
    // Without a recorded deadline: due + 48 h.
    let i = input(1, false, RenewalPhase::GracePeriod, None);
    assert_eq!(decide(&i, deadline - SEC), D::StillInGrace { deadline });
    assert_eq!(decide(&i, deadline), D::Lapse);
}

#[test]
fn grace_with_auto_renew_retries_until_the_deadline() {
    let due = due_at(bought(), 3);
    let deadline = grace_deadline(due);
    let i = input(3, true, RenewalPhase::GracePeriod, Some(deadline));
    assert_eq!(decide(&i, deadline - SEC), D::RenewNow { period: 4, due });
    assert_eq!(decide(&i, deadline), D::Lapse);
    assert_eq!(
        grace_retry_at(due, deadline),
        due + SignedDuration::from_mins(15)
    );
    assert_eq!(grace_retry_at(deadline - SEC, deadline), deadline);
}

#[test]
fn renewed_in_grace_returns_to_active_with_unshifted_due_date() {
    let due2 = due_at(bought(), 1);
    // Paid period 2 late, 47 h into the window: the next due date is still purchase + 2×28 d.
    let paid_late = due2 + SignedDuration::from_hours(47);
    let after = input(
        2,
        true,
        RenewalPhase::GracePeriod,
        Some(grace_deadline(due2)),
    );
    let next = due_at(bought(), 2);
    assert_eq!(next, ts("2026-02-26T12:00:00Z"));
    assert_eq!(decide(&after, paid_late), D::NotDue { next_check: next });
    let active = input(2, true, RenewalPhase::Active, None);
    assert_eq!(decide(&active, next - SEC), D::NotDue { next_check: next });
    assert_eq!(
        decide(&active, next),
        D::RenewNow {
            period: 3,
            due: next
        }
    );
}

#[test]
fn a_year_of_renewals_lands_on_the_28_day_grid() {
    let mut i = input(1, true, RenewalPhase::Active, None);
    let mut now = bought();
    let mut dues = Vec::new();
    while dues.len() < 13 {
        match decide(&i, now) {
            D::NotDue { next_check } => now = next_check,
            D::RenewNow { period, due } => {
                dues.push(due);
                i.current_period = period;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(dues[12], bought() + PERIOD * 13);
    assert!(dues.windows(2).all(|w| w[1].duration_since(w[0]) == PERIOD));
}
