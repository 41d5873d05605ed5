//! Decisions as pure functions: given the spec, the observed state (Kubernetes and Twilio) and
//! the time, decide the next action and the status to write. No I/O here; most tests live here.

pub mod account;
pub mod number_search;
pub mod phone_number;
pub mod quarantine;
