//! Renewal of Managed numbers, as a pure decision: given what a PhoneNumber's status says and
//! `now`, what must happen now and when to look again. The controller acts on the decision
//! (charging through the credits ledger) and requeues at the exact instants returned here.
//!
//! Periods: period 1 is the purchase period `[p, p + 28 d)`, period k is
//! `[p + (k−1)·28 d, p + k·28 d)`. A number paid up to period k is due at
//! [`due_at`]`(p, k)` = p + k·28 days, for period k+1, charged under
//! `charge_key(uid, k + 1)`. Due dates never shift: a renewal paid late (in grace) keeps the next
//! due date at p + (k+1)·28 d.
//!
//! Boundary rules (all instants inclusive on the side stated):
//! - Active, `now < due` → `NotDue { next_check: due }`.
//! - Active, `now ≥ due` (due exactly now included): auto-renew on → `RenewNow { period: k+1, due }`
//!   (even when the operator was down past the grace window: the customer did nothing wrong);
//!   auto-renew off → `EnterGrace { due, deadline: due + 48 h }`.
//!   When `RenewNow` fails with `InsufficientCredits`, the controller enters grace itself with
//!   `deadline = grace_deadline(due)` (also `due + 48 h`, never shifted by a late check).
//! - GracePeriod, `now ≥ deadline` (deadline exactly now included) → `Lapse`: release the number
//!   permanently, phase Released.
//! - GracePeriod, `now < deadline`: auto-renew on → `RenewNow` (retry; credits may have been
//!   topped up; on InsufficientCredits stay in grace and look again at
//!   [`grace_retry_at`]); auto-renew off → `StillInGrace { deadline }` (look again at the deadline
//!   or when the spec changes).
//! - GracePeriod but already paid (`now < due`, e.g. a crash after the charge but before the phase
//!   was written) → `NotDue`: return to Active.
//! - The deadline is the one recorded in status (`grace_deadline`), or `due + 48 h` when absent.
//!
//! After `RenewNow` succeeds (hold then settle), write `period = k+1`, phase Active,
//! `lastRenewedAt = due`, `nextRenewalAt = due_at(p, k+1)` and clear `graceDeadline` in one
//! status write.

use jiff::{SignedDuration, Timestamp};

/// Length of a Managed renewal period in days.
pub const PERIOD_DAYS: u32 = 28;
/// Length of a Managed renewal period.
pub const PERIOD: SignedDuration = SignedDuration::from_hours(PERIOD_DAYS as i64 * 24);
/// How long a number stays in GracePeriod after its due date before it is released.
pub const GRACE: SignedDuration = SignedDuration::from_hours(48);
/// How often a number in grace with auto-renew on retries a renewal refused for credits.
pub const GRACE_RETRY: SignedDuration = SignedDuration::from_mins(15);

/// The phase of a number as far as renewal is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalPhase {
    Active,
    GracePeriod,
}

/// What the renewal decision needs from a PhoneNumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalInput {
    /// When the number was bought (or adopted).
    pub purchased_at: Timestamp,
    /// The last period paid (1 = the purchase period).
    pub current_period: u32,
    /// `spec.renewal.autoRenew` (default true).
    pub auto_renew: bool,
    pub phase: RenewalPhase,
    /// `status.renewal.graceDeadline`, when in grace.
    pub grace_deadline: Option<Timestamp>,
    /// Length of this number's periods in days (`status.renewal.periodDays`: the period it was
    /// bought under keeps applying to it; [`PERIOD_DAYS`] for a new number).
    pub period_days: u32,
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalDecision {
    /// Paid up: be (or return to) Active; look again at `next_check` (the due date).
    NotDue { next_check: Timestamp },
    /// Charge `period` (hold + settle under `charge_key(uid, period)`), due at `due`.
    RenewNow { period: u32, due: Timestamp },
    /// Auto-renew is off: enter GracePeriod until `deadline`.
    EnterGrace { due: Timestamp, deadline: Timestamp },
    /// In grace, nothing to do before `deadline` (or a spec change).
    StillInGrace { deadline: Timestamp },
    /// The grace window has passed: release the number permanently.
    Lapse,
}

fn saturating_add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// `purchased_at + period_index × 28 days`: the end of period `period_index`, when period
/// `period_index + 1` is due.
pub fn due_at(purchased_at: Timestamp, period_index: u32) -> Timestamp {
    due_at_every(purchased_at, period_index, PERIOD_DAYS)
}

/// `purchased_at + period_index × period_days days` (periods of `period_days`, at least 1).
pub fn due_at_every(purchased_at: Timestamp, period_index: u32, period_days: u32) -> Timestamp {
    saturating_add(
        purchased_at,
        SignedDuration::from_hours(i64::from(period_index) * i64::from(period_days.max(1)) * 24),
    )
}

/// When a number paid up to `period` is next due (same as [`due_at`]).
pub fn next_renewal_at(purchased_at: Timestamp, period: u32) -> Timestamp {
    due_at(purchased_at, period)
}

/// `due + 48 h`.
pub fn grace_deadline(due: Timestamp) -> Timestamp {
    saturating_add(due, GRACE)
}

/// When a number in grace whose renewal was refused for credits looks again:
/// `min(now + GRACE_RETRY, deadline)`.
pub fn grace_retry_at(now: Timestamp, deadline: Timestamp) -> Timestamp {
    saturating_add(now, GRACE_RETRY).min(deadline)
}

/// The renewal decision (rules in the module doc).
pub fn decide(input: &RenewalInput, now: Timestamp) -> RenewalDecision {
    let due = due_at_every(input.purchased_at, input.current_period, input.period_days);
    if now < due {
        return RenewalDecision::NotDue { next_check: due };
    }
    let next = input.current_period.saturating_add(1);
    match input.phase {
        RenewalPhase::Active if input.auto_renew => RenewalDecision::RenewNow { period: next, due },
        RenewalPhase::Active => RenewalDecision::EnterGrace {
            due,
            deadline: grace_deadline(due),
        },
        RenewalPhase::GracePeriod => {
            let deadline = input.grace_deadline.unwrap_or_else(|| grace_deadline(due));
            if now >= deadline {
                RenewalDecision::Lapse
            } else if input.auto_renew {
                RenewalDecision::RenewNow { period: next, due }
            } else {
                RenewalDecision::StillInGrace { deadline }
            }
        }
    }
}
