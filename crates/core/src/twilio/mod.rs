//! Twilio's data model, as the decisions see it: the numbers, accounts and searches the REST API
//! speaks of (`types`), the one table of synced number-configuration fields (`fields`), the error
//! a call ends with and its classification (`error`), and the lenient decoding of Twilio's JSON
//! (`wire`). Plain data: the HTTP client that produces and consumes it is the operator's
//! `twilio` module.

mod error;
mod fields;
mod types;
pub mod wire;

pub use error::{ErrorClass, TwilioError, codes};
pub use fields::{ConfigField, FIELDS, FieldSpec};
pub use types::{
    Account, AvailableNumber, Balance, Capabilities, IncomingFilter, IncomingNumber, NumberConfig,
    NumberKind, PurchaseRequest, SearchQuery, kind_of,
};
