//! `PhoneNumber` (short name `pn`): one number in one account.

use super::common::{AccountRef, Conditions, conditions_schema};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube_derive::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// One phone number in one TelephonyAccount: bought (or adopted), configured, renewed and
/// released by the operator.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "telephony.agni.ai",
    version = "v1alpha1",
    kind = "PhoneNumber",
    namespaced,
    shortname = "pn",
    status = "PhoneNumberStatus",
    doc = "One phone number in one TelephonyAccount: bought or adopted, configured, renewed and released by the operator.",
    printcolumn = r#"{"name":"NUMBER","type":"string","jsonPath":".status.phoneNumber"}"#,
    printcolumn = r#"{"name":"ACCOUNT","type":"string","jsonPath":".spec.accountRef.name"}"#,
    printcolumn = r#"{"name":"PHASE","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"MONTHLY","type":"string","jsonPath":".status.pricing.monthlyFee"}"#,
    printcolumn = r#"{"name":"RENEWS","type":"string","jsonPath":".status.renewal.nextRenewalAt"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"REASON","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"SID","type":"string","jsonPath":".status.sid","priority":1}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("has(self.number) != has(self.search)").message("exactly one of number or search must be set").reason(Reason::FieldValueInvalid))]
#[x_kube(validation = Rule::new("has(self.number) == has(oldSelf.number) && (!has(self.number) || self.number == oldSelf.number)").message("number is immutable: create a new PhoneNumber to get another number").reason(Reason::FieldValueForbidden))]
#[x_kube(validation = Rule::new("has(self.search) == has(oldSelf.search) && (!has(self.search) || self.search == oldSelf.search)").message("search is immutable: create a new PhoneNumber to get another number").reason(Reason::FieldValueForbidden))]
#[x_kube(validation = Rule::new("self.accountRef == oldSelf.accountRef").message("accountRef is immutable").reason(Reason::FieldValueForbidden))]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumberSpec {
    /// The TelephonyAccount (same namespace) that owns the number. Immutable.
    pub account_ref: AccountRef,
    /// An E.164 number to buy, or to adopt when the account already owns it. Exactly one of
    /// `number` and `search`; immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub number: Option<String>,
    /// Search for an available number and buy the first match. Exactly one of `number` and
    /// `search`; immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<NumberSearch>,
    /// Friendly name at Twilio (at most 64 characters). Kept in sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub friendly_name: Option<String>,
    /// Voice configuration, kept in sync with Twilio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceConfig>,
    /// SMS configuration, kept in sync with Twilio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<Box<SmsConfig>>,
    /// Regulatory fields passed to Twilio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Box<Compliance>>,
    /// Price guard: never buy when the monthly fee exceeds this decimal string (`"2.00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"))]
    pub max_monthly_price: Option<String>,
    /// Renewal (Managed accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<RenewalSpec>,
    /// What deleting this object does at Twilio: `Release` (default) releases the number,
    /// `Retain` keeps it in the account.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// What to search for.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct NumberSearch {
    /// ISO 3166-1 alpha-2 country (`US`, `GB`).
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: String,
    /// `Local`, `TollFree` or `Mobile`.
    pub r#type: NumberType,
    /// Area code (US/CA), for example `415`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 200, max = 999))]
    pub area_code: Option<u16>,
    /// Digits or letters the number must contain; `*` matches one character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+?[0-9A-Za-z*%]{2,16}\$?$"))]
    pub contains: Option<String>,
    /// Two-letter state or province (US/CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub in_region: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub in_locality: Option<String>,
    /// Postal code (US/CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 16))]
    pub in_postal_code: Option<String>,
    /// A number the result should be near (US/CA), E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub near_number: Option<String>,
    /// Capabilities the number must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<CapabilityFilter>,
}

/// The kind of number.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NumberType {
    Local,
    TollFree,
    Mobile,
}

impl std::fmt::Display for NumberType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NumberType::Local => "Local",
            NumberType::TollFree => "TollFree",
            NumberType::Mobile => "Mobile",
        })
    }
}

/// Capabilities a searched number must have (`true` = required; absent or `false` = don't care).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct CapabilityFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mms: Option<bool>,
}

/// HTTP method Twilio uses for a webhook.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
}

/// Voice configuration of the number (inbound calls and caller ID).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct VoiceConfig {
    /// Webhook Twilio calls on an incoming call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = crate::reconcile::phone_number::validate::webhook_url_rule())]
    pub url: Option<String>,
    /// `GET` or `POST` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Webhook called when `url` fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = crate::reconcile::phone_number::validate::webhook_url_rule())]
    pub fallback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_method: Option<HttpMethod>,
    /// Status callback URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = crate::reconcile::phone_number::validate::webhook_url_rule())]
    pub status_callback: Option<String>,
    /// TwiML application (AP…); overrides the URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^AP[0-9a-fA-F]{32}$"))]
    pub application_sid: Option<String>,
    /// SIP trunk (TK…); overrides the URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^TK[0-9a-fA-F]{32}$"))]
    pub trunk_sid: Option<String>,
}

/// SMS configuration of the number.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct SmsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = crate::reconcile::phone_number::validate::webhook_url_rule())]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = crate::reconcile::phone_number::validate::webhook_url_rule())]
    pub fallback_url: Option<String>,
    /// Messaging application (AP…); overrides the URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^AP[0-9a-fA-F]{32}$"))]
    pub application_sid: Option<String>,
}

/// Regulatory fields, passed through to Twilio.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct Compliance {
    /// Address (AD…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^AD[0-9a-fA-F]{32}$"))]
    pub address_sid: Option<String>,
    /// Regulatory bundle (BU…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^BU[0-9a-fA-F]{32}$"))]
    pub bundle_sid: Option<String>,
    /// Identity (RI…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^RI[0-9a-fA-F]{32}$"))]
    pub identity_sid: Option<String>,
    /// Emergency address (AD…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^AD[0-9a-fA-F]{32}$"))]
    pub emergency_address_sid: Option<String>,
}

/// Renewal settings (Managed accounts).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct RenewalSpec {
    /// Renew every 28 days from the credits (default true). When false, the number enters its
    /// 48-hour grace period at the next due date and is then released permanently.
    #[serde(default = "default_true")]
    pub auto_renew: bool,
}

fn default_true() -> bool {
    true
}

/// What deleting the PhoneNumber does at Twilio.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum DeletionPolicy {
    /// Release the number at Twilio (default).
    #[default]
    Release,
    /// Keep the number in the Twilio account.
    Retain,
}

/// Lifecycle phase of a PhoneNumber.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum Phase {
    #[default]
    Pending,
    Purchasing,
    Active,
    GracePeriod,
    Released,
    Failed,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Observed state of a PhoneNumber.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
// `{}` when absent, so the server defaults `observedGeneration` of an object never reconciled.
#[schemars(extend("default" = {}))]
pub struct PhoneNumberStatus {
    /// Pending, Purchasing, Active, GracePeriod, Released or Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The E.164 number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Twilio's SID of the number (PN…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The Twilio account or subaccount that owns the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    /// ISO country of the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Local, TollFree or Mobile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<NumberType>,
    /// What the number can do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When the number was bought (when Twilio's answer arrived, to the microsecond) or adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchased_at: Option<MicroTime>,
    /// Prices of the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// Renewal deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<RenewalStatus>,
    /// A purchase in flight, recorded before Twilio is called so that a crash or a lost response
    /// never buys twice. Cleared once the purchase is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_intent: Option<Box<PurchaseIntent>>,
    /// kstatus conditions: Ready, Reconciling, Stalled, Purchased, ConfigSynced, RenewalDue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// The `metadata.generation` this status describes; -1 until the operator has reconciled the
    /// object once (a new object reads as in progress to Flux, Argo CD and `kubectl wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = -1))]
    pub observed_generation: Option<i64>,
    /// A short human-readable summary of the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a number can do.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
}

/// Prices of a number.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// ISO 4217 currency.
    pub currency: String,
    /// Monthly fee, a decimal string.
    pub monthly_fee: String,
    /// Inbound voice price per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_per_minute: Option<String>,
    /// Outbound voice price per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_per_minute: Option<String>,
    /// `TwilioPricingAPI` (BringYourOwn) or `RateCard` (Managed).
    pub source: String,
    /// When these prices were read (a later read of the same prices keeps this time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<Time>,
}

/// Who bills the number's renewal.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenewalPolicy {
    /// Renewed every 28 days from the account's prepaid credits.
    Managed,
    /// Billed monthly by Twilio on the purchase day (BringYourOwn).
    BilledByTwilio,
}

/// Renewal deadlines of a number.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct RenewalStatus {
    pub policy: RenewalPolicy,
    /// Length of a renewal period in days (28 for Managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_days: Option<u32>,
    /// Start of the current paid period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_renewed_at: Option<MicroTime>,
    /// When the next renewal (or Twilio's next billing) is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_renewal_at: Option<MicroTime>,
    /// In GracePeriod: when the number is released if not renewed (due + 48 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_deadline: Option<MicroTime>,
    /// Whether the number renews itself (Managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew: Option<bool>,
    /// Index of the current paid period (1 = the purchase period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
}

/// A purchase recorded before Twilio is called.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct PurchaseIntent {
    /// The E.164 number about to be bought.
    pub phone_number: String,
    /// The account SID it is bought in.
    pub account_sid: String,
    /// When the intent was recorded.
    pub started_at: Time,
    /// The purchase attempt in progress (1 = the first). An attempt counts toward the limit only
    /// once its buy was sent to Twilio: a crash between recording the intent and the buy does not
    /// use one up.
    #[serde(default)]
    pub attempts: u32,
    /// The buy of this attempt was sent to Twilio and its outcome is not known yet (it is looked
    /// up before any further attempt).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub buy_sent: bool,
}
