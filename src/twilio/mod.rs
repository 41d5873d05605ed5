//! Typed Twilio REST client (v2010 accounts and numbers, Pricing v1/v2) for the operator: HTTP
//! Basic auth, per-account concurrency and rate limits, retries with jittered backoff that never
//! repeat a create whose outcome is unknown, and secrets that cannot leak through `Debug` or logs.
//!
//! Entry points: [`TwilioClient::account`] / [`TwilioClient::subaccount`] give an [`AccountApi`].
//! Errors carry an [`ErrorClass`] telling the caller whether to retry, give up, or check the
//! inventory first.

mod client;
mod config;
mod error;
mod fields;
mod limits;
mod paths;
mod pricing;
mod secret;
mod transport;
mod types;
mod wire;

pub use client::{AccountApi, ClientStats, TwilioClient};
pub use config::{Routing, TwilioClientConfig};
pub use error::{ErrorClass, TwilioError, codes};
pub use fields::{ConfigField, FIELDS, FieldSpec};
pub use pricing::{
    NumberPrice, NumberPrices, OutboundNumberPrice, OutboundPrefixPrice, VoiceNumberPrice,
    VoicePrices,
};
pub use secret::{Credentials, Secret};
pub use types::{
    Account, AvailableNumber, Balance, Capabilities, IncomingFilter, IncomingNumber, NumberConfig,
    NumberKind, PurchaseRequest, SearchQuery,
};
