//! `NumberSearch` (short name `nsearch`): review available numbers and their prices before buying.
//!
//! The Rust type of the object is [`NumberSearchResource`]: `NumberSearch` is already the name of
//! the search criteria (`PhoneNumber.spec.search`), which this kind reuses unchanged.

use super::common::{AccountRef, Conditions, conditions_schema};
use super::phone_number::{Capabilities, NumberSearch};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube_derive::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// Annotation that asks for a new search without changing the spec: any new value (for example
/// a timestamp) runs the search again once.
pub const REFRESH_ANNOTATION: &str = "telephony.agni.ai/refresh";

/// Default number of candidates.
pub const DEFAULT_LIMIT: u32 = 10;
/// Most candidates a search returns.
pub const MAX_LIMIT: u32 = 50;

/// A search of the numbers available to a TelephonyAccount, with each candidate's monthly fee and
/// per-minute rates, so a person can review them before writing a PhoneNumber. Searched once per
/// spec generation (or when the `telephony.agni.ai/refresh` annotation changes) and deleted by the
/// operator after a while (`status.expiresAt`). Nothing is reserved or bought.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "telephony.agni.ai",
    version = "v1alpha1",
    kind = "NumberSearch",
    root = "NumberSearchResource",
    namespaced,
    shortname = "nsearch",
    status = "NumberSearchStatus",
    doc = "A search of available numbers with their prices, for review before buying (nothing is reserved or bought); deleted by the operator after a while.",
    printcolumn = r#"{"name":"ACCOUNT","type":"string","jsonPath":".spec.accountRef.name"}"#,
    printcolumn = r#"{"name":"COUNTRY","type":"string","jsonPath":".spec.search.country"}"#,
    printcolumn = r#"{"name":"TYPE","type":"string","jsonPath":".spec.search.type"}"#,
    printcolumn = r#"{"name":"FOUND","type":"integer","jsonPath":".status.found"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"REASON","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"VALID UNTIL","type":"date","jsonPath":".status.validUntil","priority":1}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct NumberSearchSpec {
    /// The TelephonyAccount (same namespace) whose Twilio account is searched: the account's own
    /// credentials (BringYourOwn) or the platform's (Managed).
    pub account_ref: AccountRef,
    /// What to search for: the same criteria as `PhoneNumber.spec.search`.
    pub search: NumberSearch,
    /// Most candidates to return (default 10, at most 50).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: u32,
}

fn default_limit() -> u32 {
    DEFAULT_LIMIT
}

/// One available number, with what it would cost.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The E.164 number (write it in `PhoneNumber.spec.number` to buy exactly this one).
    pub phone_number: String,
    /// The number as Twilio formats it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// What the number can do.
    pub capabilities: Capabilities,
    /// Address Twilio requires to buy it: `none`, `any`, `local` or `foreign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_requirements: Option<String>,
    /// Monthly fee, a decimal string (absent when no price is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_fee: Option<String>,
    /// Inbound voice price per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_per_minute: Option<String>,
    /// Outbound voice price per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_per_minute: Option<String>,
    /// ISO 4217 currency of the prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// Observed state of a NumberSearch.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
// `{}` when absent, so the server defaults `observedGeneration` of an object never reconciled.
#[schemars(extend("default" = {}))]
pub struct NumberSearchStatus {
    /// The numbers found (at most `spec.limit`), each with its prices. Available now, not
    /// reserved: another buyer can take one at any time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// How many candidates were found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<u32>,
    /// When Twilio was searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched_at: Option<Time>,
    /// Until when the candidates are likely to stay available (a hint: numbers are not reserved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Time>,
    /// When the operator deletes this object (the operator's `--number-search-ttl-seconds` after
    /// the last search, or after creation while nothing was searched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Time>,
    /// `TwilioPricingAPI` (BringYourOwn) or `RateCard` (Managed): where the prices come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_source: Option<String>,
    /// The spec generation the candidates (or the refusal) answer; a new generation is searched
    /// again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched_generation: Option<i64>,
    /// The value of the `telephony.agni.ai/refresh` annotation the last search answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// kstatus conditions: Ready, Reconciling, Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// The `metadata.generation` this status describes; -1 until the operator has reconciled the
    /// object once (a new object reads as in progress to Flux, Argo CD and `kubectl wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = -1))]
    pub observed_generation: Option<i64>,
}
