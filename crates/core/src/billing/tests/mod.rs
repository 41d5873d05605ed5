//! Unit tests of the billing module, one file per submodule.

mod ledger;
mod rate_card;
mod renewal;
mod twilio_date;

use jiff::Timestamp;
use rust_decimal::Decimal;

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub(super) fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}
