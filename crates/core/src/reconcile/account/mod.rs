//! Pure decisions for `TelephonyAccount`: whether an account may be used, what to do next, and
//! the status to write. No I/O; the operator's account controller (`controller::account`) performs.
//!
//! - `gate`: mode lock and Managed terms, checked before any Twilio call;
//! - `subaccount`: the deterministic FriendlyName and the choice among listed subaccounts;
//! - `decide`: status, conditions and events from what was observed;
//! - `inventory`: the inventory summary; `deletion`: the finalizer's steps;
//! - `usable`: whether PhoneNumbers may act through the account;
//! - `recorded`: what a restarted operator takes from status instead of asking Twilio again.

mod decide;
mod deletion;
mod gate;
mod inventory;
mod recorded;
mod subaccount;
mod usable;

pub use decide::{
    Connected, Connection, Decision, Event, Observation, Requeue,
    SUMMARY_EVERY_WHILE_NUMBERS_CHANGE, account_changed, adopt_mode_change, classify_twilio_error,
    decide, summaries_due,
};
pub use deletion::{DeletionStep, deletion_step, numbers_to_delete};
pub use gate::{Gate, Terms, gate, terms, terms_summary};
pub use inventory::{
    AccountNumbers, Claim, MAX_UNCLAIMED_LISTED, claims_of, referencing, summarize, without_held,
};
pub use recorded::recorded_connection;
pub use subaccount::{MAX_FRIENDLY_NAME, duplicates, pick_subaccount, subaccount_friendly_name};
pub use usable::{NotUsable, mode_change_approved, releasable, same_twilio_account, usable};
