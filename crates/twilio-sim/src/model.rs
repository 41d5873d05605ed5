//! Public data types returned by the simulator's inspection API: owned numbers, purchase records
//! and request counters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Capabilities of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub fax: bool,
}

/// A number owned by an account (an IncomingPhoneNumber). Text fields use `""` for "unset".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedNumber {
    pub sid: String,
    pub account_sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    pub iso_country: String,
    /// `local`, `toll-free` or `mobile`.
    pub number_type: String,
    pub capabilities: Capabilities,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub voice_url: String,
    pub voice_method: String,
    pub voice_fallback_url: String,
    pub voice_fallback_method: String,
    pub voice_caller_id_lookup: bool,
    pub voice_application_sid: String,
    pub voice_receive_mode: String,
    pub trunk_sid: String,
    pub sms_url: String,
    pub sms_method: String,
    pub sms_fallback_url: String,
    pub sms_fallback_method: String,
    pub sms_application_sid: String,
    pub status_callback: String,
    pub status_callback_method: String,
    pub api_version: String,
    pub address_sid: String,
    pub bundle_sid: String,
    pub identity_sid: String,
    pub emergency_status: String,
    pub emergency_address_sid: String,
    pub address_requirements: String,
    /// `twilio` (bought) or `hosted`.
    pub origin: String,
    pub beta: bool,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
    /// Next monthly renewal charge (day-of-month of the purchase).
    pub next_billing_at: DateTime<Utc>,
}

/// One successful purchase (also those whose response was then lost by a fault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRecord {
    pub account_sid: String,
    pub phone_number: String,
    pub sid: String,
}

/// Injected fault counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    pub dropped_connections: u64,
    pub rate_limited_429: u64,
    pub errors_5xx: u64,
    pub commit_then_fail: u64,
    /// 429s from `SimSettings::max_concurrent_requests` (not from `rate_429`).
    pub concurrency_429: u64,
}

/// Request counters: per endpoint (`METHOD /route/template`), totals, purchases and releases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests received per endpoint, including those answered by an injected fault or an error.
    pub requests: BTreeMap<String, u64>,
    /// Sum of `requests`.
    pub total_requests: u64,
    /// Successful purchases (committed), including commit-then-fail ones.
    pub purchases: u64,
    /// Monthly renewal charges made (see `SimSettings::monthly_billing`).
    pub renewal_charges: u64,
    /// Releases (API deletes, out-of-band releases and numbers released by closing an account).
    pub releases: u64,
    pub faults: FaultCounts,
    /// Highest number of concurrent in-flight API requests seen per account (credentials' account).
    pub max_in_flight: BTreeMap<String, u64>,
    /// API requests received per account (the credentials' account), including failed ones.
    #[serde(default)]
    pub requests_by_account: BTreeMap<String, u64>,
}
