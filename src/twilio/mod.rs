//! Typed Twilio REST client (v2010 accounts and numbers, Pricing v1/v2) for the operator: HTTP
//! Basic auth, per-account concurrency and rate limits, retries with jittered backoff that never
//! repeat a create whose outcome is unknown, and secrets that cannot leak through `Debug` or logs.
//!
//! Entry points: [`TwilioClient::account`] / [`TwilioClient::subaccount`] give an [`AccountApi`].
//! Errors carry an [`ErrorClass`] telling the caller whether to retry, give up, or check the
//! inventory first.
//!
//! Twilio's data model (numbers, accounts, searches, the synced-field table, `TwilioError`) lives
//! in the core, `telephony_core::twilio`, and is re-exported here.

mod client;
mod config;
mod limits;
mod paths;
mod port;
mod pricing;
mod secret;
mod transport;

pub use client::{AccountApi, ClientStats, TwilioClient};
pub use config::{Routing, TwilioClientConfig};
pub use port::{AccountPort, TwilioConnector, TwilioPort};
pub use pricing::{
    NumberPrice, NumberPrices, OutboundNumberPrice, OutboundPrefixPrice, VoiceNumberPrice,
    VoicePrices,
};
pub use secret::{Credentials, Secret};
use telephony_core::twilio::wire;
pub use telephony_core::twilio::{
    Account, AvailableNumber, Balance, Capabilities, ConfigField, ErrorClass, FIELDS, FieldSpec,
    IncomingFilter, IncomingNumber, NumberConfig, NumberKind, PurchaseRequest, SearchQuery,
    TwilioError, codes,
};
