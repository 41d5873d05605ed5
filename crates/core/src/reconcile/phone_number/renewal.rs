//! Renewal timelines of a number. Managed: a 28-day period from purchase, charged to credits at
//! each due date; when autoRenew is off or the credits are short, a 48-hour grace window; after
//! it, a permanent release. BringYourOwn: Twilio bills monthly on the purchase day; the status
//! only shows the next billing date.
//!
//! The arithmetic is the billing module's (`crate::billing::renewal`, `twilio_next_billing_date`);
//! this module only shapes it into `status.renewal`.

use super::status::micro;
use crate::api::{RenewalPolicy, RenewalStatus};
use jiff::Timestamp;

pub use crate::billing::renewal::{GRACE, PERIOD_DAYS};
pub use crate::billing::twilio_next_billing_date;

/// The Managed renewal status of a number bought (or last renewed) at `last`, period `period`,
/// with periods of `period_days` days (what `status.renewal.periodDays` records and later
/// renewals read back).
pub fn managed(last: Timestamp, period: u32, auto_renew: bool, period_days: u32) -> RenewalStatus {
    RenewalStatus {
        policy: RenewalPolicy::Managed,
        period_days: Some(period_days),
        last_renewed_at: Some(micro(last)),
        next_renewal_at: Some(micro(crate::billing::renewal::due_at_every(
            last,
            1,
            period_days,
        ))),
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
        next_renewal_at: Some(micro(twilio_next_billing_date(purchased_at, now))),
        grace_deadline: None,
        auto_renew: None,
        period: None,
    }
}
