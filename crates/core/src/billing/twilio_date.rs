//! Twilio's billing date for BringYourOwn numbers (twilio-api-notes §10): monthly on the purchase
//! day of month, in UTC. When that day does not exist in a month, the last day of the month is
//! used and becomes the new anchor: bought 31 Oct → 30 Nov → 30 Dec → 28 Feb (29 in a leap
//! year) → then the 28th (29th) every month. The time of day of the purchase is kept.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// The first Twilio billing instant strictly after `now` for a number bought at `purchased_at`
/// (the purchase month itself is paid at purchase, so the earliest result is one month after it).
pub fn twilio_next_billing_date(purchased_at: Timestamp, now: Timestamp) -> Timestamp {
    let start = purchased_at.to_zoned(TimeZone::UTC).datetime();
    let time = start.time();
    let mut anchor = start.day();
    let (mut year, mut month) = (start.year(), start.month());
    loop {
        // Next month.
        if month == 12 {
            month = 1;
            year = match year.checked_add(1) {
                Some(y) if y <= 9999 => y,
                _ => return Timestamp::MAX,
            };
        } else {
            month += 1;
        }
        let Ok(first) = Date::new(year, month, 1) else {
            return Timestamp::MAX;
        };
        let day = anchor.min(first.days_in_month());
        anchor = day;
        let Ok(date) = Date::new(year, month, day) else {
            return Timestamp::MAX;
        };
        let Ok(ts) = DateTime::from_parts(date, time)
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
        else {
            return Timestamp::MAX;
        };
        if ts > now {
            return ts;
        }
    }
}
