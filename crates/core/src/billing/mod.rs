//! Money rules as pure functions: the Managed rate card, the prepaid credits ledger, renewal and
//! billing-date arithmetic. Decimal amounts only, never floats; time is always passed in by the
//! caller (`jiff::Timestamp`), and nothing here does I/O except reading a rate card file.
//!
//! - [`money`]: parse/format the API's decimal strings.
//! - [`rate_card`]: Managed prices (`RateCard::price_for`), built-in card in
//!   `default-rate-card.yaml`.
//! - [`ledger`]: credits cycles, hold → settle / release, idempotent by [`charge_key`].
//! - [`renewal`]: 28-day renewal and 48-hour grace decisions for Managed numbers.
//! - [`twilio_next_billing_date`]: BringYourOwn billing dates.

pub mod ledger;
pub mod money;
pub mod rate_card;
pub mod renewal;
mod twilio_date;

pub use ledger::{
    Cycle, HoldOutcome, LedgerError, Totals, charge_key, cycle_bounds, find_charge, granted, hold,
    release_hold, roll, settle, summary, totals,
};
pub use money::{MoneyError, format_money, parse_money};
pub use rate_card::{DEFAULT_RATE_CARD_YAML, RateCard, RateCardError, RatePrices};
pub use renewal::{RenewalDecision, RenewalInput, RenewalPhase};
pub use twilio_date::twilio_next_billing_date;

#[cfg(test)]
mod tests;
