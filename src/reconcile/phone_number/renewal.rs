//! Renewal timelines of a number. Managed: a 28-day period from purchase, charged to credits at
//! each due date; when autoRenew is off or the credits are short, a 48-hour grace window; after
//! it, a permanent release. BringYourOwn: Twilio bills monthly on the purchase day; the status
//! only shows the next billing date.
//!
//! The arithmetic is the billing module's (`crate::billing`); until it lands, the same rules are
//! implemented here in `arith` (period 28 days, grace 48 h, Twilio's month-end anchor rule).

use crate::api::{RenewalPolicy, RenewalStatus};
use crate::controller::conditions::time;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// Days in a Managed renewal period.
pub const PERIOD_DAYS: u32 = 28;
/// Length of the grace window after a missed renewal.
pub const GRACE: SignedDuration = SignedDuration::from_hours(48);

/// Renewal arithmetic (mirrors `billing::renewal`).
pub mod arith {
    use super::*;

    /// Due date of the period after the one starting at `start`.
    pub fn next_due(start: Timestamp) -> Timestamp {
        start
            .checked_add(SignedDuration::from_hours(24 * PERIOD_DAYS as i64))
            .unwrap_or(Timestamp::MAX)
    }

    /// End of the grace window of a renewal due at `due`.
    pub fn grace_deadline(due: Timestamp) -> Timestamp {
        due.checked_add(GRACE).unwrap_or(Timestamp::MAX)
    }

    /// Twilio's next monthly billing date after `now` for a number bought at `purchased_at`:
    /// same day of month (UTC), or the month's last day when that day does not exist.
    pub fn twilio_next_billing_date(purchased_at: Timestamp, now: Timestamp) -> Timestamp {
        // Month by month from the previous billing date: adding a month clamps to the month's
        // last day, and that clamped day is the anchor from then on (31 Oct → 30 Nov → 30 Dec).
        let mut cur = purchased_at.to_zoned(jiff::tz::TimeZone::UTC);
        for _ in 0..1200 {
            let Ok(next) = cur.checked_add(1.month()) else {
                return Timestamp::MAX;
            };
            cur = next;
            if cur.timestamp() > now {
                break;
            }
        }
        cur.timestamp()
    }
}

/// The Managed renewal status of a number bought (or last renewed) at `last`, period `period`.
pub fn managed(last: Timestamp, period: u32, auto_renew: bool) -> RenewalStatus {
    RenewalStatus {
        policy: RenewalPolicy::Managed,
        period_days: Some(PERIOD_DAYS),
        last_renewed_at: Some(time(last)),
        next_renewal_at: Some(time(arith::next_due(last))),
        grace_deadline: None,
        auto_renew: Some(auto_renew),
        period: Some(period),
    }
}

/// The BringYourOwn renewal status: billed by Twilio on the next billing date.
pub fn billed_by_twilio(purchased_at: Timestamp, now: Timestamp) -> RenewalStatus {
    RenewalStatus {
        policy: RenewalPolicy::BilledByTwilio,
        period_days: None,
        last_renewed_at: None,
        next_renewal_at: Some(time(arith::twilio_next_billing_date(purchased_at, now))),
        grace_deadline: None,
        auto_renew: None,
        period: None,
    }
}

#[cfg(test)]
mod tests {
    use super::arith::*;
    use jiff::Timestamp;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn managed_periods_and_grace() {
        assert_eq!(
            next_due(ts("2026-01-01T10:00:00Z")),
            ts("2026-01-29T10:00:00Z")
        );
        assert_eq!(
            grace_deadline(ts("2026-01-29T10:00:00Z")),
            ts("2026-01-31T10:00:00Z")
        );
    }

    #[test]
    fn twilio_billing_day_clamps_to_month_end() {
        let bought = ts("2026-01-31T12:00:00Z");
        assert_eq!(
            twilio_next_billing_date(bought, ts("2026-02-01T00:00:00Z")),
            ts("2026-02-28T12:00:00Z")
        );
        assert_eq!(
            twilio_next_billing_date(bought, ts("2026-03-01T00:00:00Z")),
            ts("2026-03-28T12:00:00Z")
        );
        assert_eq!(
            twilio_next_billing_date(ts("2026-01-15T00:00:00Z"), ts("2026-01-15T00:00:00Z")),
            ts("2026-02-15T00:00:00Z")
        );
    }
}
