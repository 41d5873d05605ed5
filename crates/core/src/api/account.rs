//! `TelephonyAccount` (short name `tacct`): how a workspace (namespace) reaches Twilio.

use super::common::{Conditions, conditions_schema};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube_derive::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// How a workspace reaches Twilio: with its own Twilio account (BringYourOwn) or through a
/// subaccount of the platform's master account (Managed).
///
/// The mode is permanent once the account has connected: the operator records it in
/// `status.mode` and refuses a different one unless an administrator sets the annotation
/// `telephony.agni.ai/mode-change-approved`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "telephony.agni.ai",
    version = "v1alpha1",
    kind = "TelephonyAccount",
    namespaced,
    shortname = "tacct",
    status = "TelephonyAccountStatus",
    doc = "How a workspace reaches Twilio: its own account (BringYourOwn) or a platform-managed subaccount (Managed).",
    printcolumn = r#"{"name":"MODE","type":"string","jsonPath":".spec.mode"}"#,
    printcolumn = r#"{"name":"ACCOUNT SID","type":"string","jsonPath":".status.accountSid","priority":1}"#,
    printcolumn = r#"{"name":"STATUS","type":"string","jsonPath":".status.accountStatus"}"#,
    printcolumn = r#"{"name":"NUMBERS","type":"integer","jsonPath":".status.inventory.managed"}"#,
    printcolumn = r#"{"name":"CREDITS","type":"string","jsonPath":".status.credits.balance"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"REASON","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("self.mode != 'BringYourOwn' || has(self.credentialsSecretRef)").message("credentialsSecretRef is required when mode is BringYourOwn").reason(Reason::FieldValueRequired))]
#[x_kube(validation = Rule::new("self.mode != 'BringYourOwn' || has(self.friendlyName)").message("friendlyName is required when mode is BringYourOwn").reason(Reason::FieldValueRequired))]
#[x_kube(validation = Rule::new("self.mode != 'Managed' || has(self.managed)").message("managed is required when mode is Managed").reason(Reason::FieldValueRequired))]
#[serde(rename_all = "camelCase")]
pub struct TelephonyAccountSpec {
    /// `BringYourOwn` (the workspace's own Twilio account, credentials in a Secret) or `Managed`
    /// (a subaccount of the platform's account, paid with prepaid credits). Permanent once the
    /// account has connected.
    pub mode: AccountMode,
    /// Display name of the integration (required for BringYourOwn; for Managed it names the
    /// subaccount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub friendly_name: Option<String>,
    /// BringYourOwn: the Secret in this namespace holding the Account SID and either an Auth
    /// Token or an API key SID (SK…) and secret. Rotation is picked up without a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,
    /// Managed: accepted terms, prepaid credits and the billing cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedSpec>,
    /// Twilio region for API calls (for example `ie1`, `au1`); default `us1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}[0-9]$"))]
    pub region: Option<String>,
    /// Twilio edge location (for example `dublin`, `sydney`); an edge without a region uses `us1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z-]{2,32}$"))]
    pub edge: Option<String>,
}

/// How the account reaches Twilio.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountMode {
    /// The workspace's own Twilio account; credentials in a Secret; Twilio bills the workspace.
    BringYourOwn,
    /// A subaccount of the platform's Twilio account, paid with prepaid credits.
    Managed,
}

impl std::fmt::Display for AccountMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AccountMode::BringYourOwn => "BringYourOwn",
            AccountMode::Managed => "Managed",
        })
    }
}

/// Where the BringYourOwn credentials are: a Secret in the account's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Name of the Secret, in the TelephonyAccount's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key holding the Account SID (AC…). Default `accountSid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid_key: Option<String>,
    /// Key holding the Auth Token. Default `authToken`. Used when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_key: Option<String>,
    /// Key holding an API key SID (SK…). Default `apiKeySid`. Used with `apiKeySecretKey` when no
    /// Auth Token is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_sid_key: Option<String>,
    /// Key holding the API key secret. Default `apiKeySecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret_key: Option<String>,
}

impl CredentialsSecretRef {
    pub fn account_sid_key(&self) -> &str {
        self.account_sid_key.as_deref().unwrap_or("accountSid")
    }
    pub fn auth_token_key(&self) -> &str {
        self.auth_token_key.as_deref().unwrap_or("authToken")
    }
    pub fn api_key_sid_key(&self) -> &str {
        self.api_key_sid_key.as_deref().unwrap_or("apiKeySid")
    }
    pub fn api_key_secret_key(&self) -> &str {
        self.api_key_secret_key.as_deref().unwrap_or("apiKeySecret")
    }
}

/// Managed mode: the platform's terms. Credits and the billing cycle are granted by the platform
/// in a cluster-scoped `CreditGrant`, never in the tenant's own object.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[x_kube(validation = Rule::new("!has(self.credits) && !has(self.billingCycle)").message("spec.managed.credits and spec.managed.billingCycle were removed: credits are granted by the platform in a cluster-scoped CreditGrant named <namespace>.<account> (platform administrators only); the ledger is in status.credits").reason(Reason::FieldValueForbidden))]
#[serde(rename_all = "camelCase")]
pub struct ManagedSpec {
    /// Whether the workspace accepted the platform's terms (permanent number selection; prepaid
    /// credits that expire at the end of each billing cycle; numbers renewed every 28 days and
    /// released permanently when not renewed within 48 hours; no refunds). Nothing is bought
    /// until this is true with the current `termsVersion`.
    #[serde(default)]
    pub terms_accepted: bool,
    /// Version of the terms that were accepted; must equal the version the operator is
    /// configured with.
    #[serde(default)]
    pub terms_version: String,
    /// Removed: credits come from the account's CreditGrant. Kept in the schema only so that a
    /// manifest still setting it is refused with that message instead of being pruned silently.
    #[serde(default, rename = "credits", skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "removed_field")]
    pub removed_credits: Option<serde_json::Value>,
    /// Removed: the billing cycle comes from the account's CreditGrant (see `credits`).
    #[serde(
        default,
        rename = "billingCycle",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "removed_field")]
    pub removed_billing_cycle: Option<serde_json::Value>,
}

/// A removed field: any value, refused by the parent's rule with a message saying where it went.
fn removed_field(_: &mut schemars::generate::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Removed (see the rule on spec.managed): set credits in a CreditGrant.",
        // Typed, so the parent's rule (`!has(self.credits)`) compiles on the real API server.
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// Prepaid credits of a Managed account (in its `CreditGrant`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct CreditsSpec {
    /// Credits granted at the start of each billing cycle, a decimal string (`"25.00"`).
    #[schemars(regex(pattern = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"))]
    pub per_cycle: String,
    /// ISO 4217 currency of the credits (`USD`).
    #[serde(default = "default_currency")]
    #[schemars(regex(pattern = r"^[A-Z]{3}$"))]
    pub currency: String,
    /// One-off top-ups; each counts in the billing cycle its `at` falls in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["id".into()]))]
    pub top_ups: Vec<TopUp>,
}

fn default_currency() -> String {
    "USD".into()
}

/// A one-off top-up of credits.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct TopUp {
    /// Unique id of the top-up (a receipt number); a top-up is counted once per id.
    #[schemars(length(min = 1, max = 128))]
    pub id: String,
    /// Amount, a decimal string (`"10.00"`).
    #[schemars(regex(pattern = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"))]
    pub amount: String,
    /// When the top-up was made (RFC 3339); it counts in the cycle this falls in.
    pub at: Time,
}

/// Billing cycle of a Managed account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct BillingCycleSpec {
    /// Start of the first cycle (RFC 3339). Default: when the account first connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Time>,
    /// Length of a cycle in days. Default 28.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 366))]
    pub length_days: Option<u32>,
}

/// Observed state of a TelephonyAccount.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
// `{}` when absent, so the server defaults `observedGeneration` of an object never reconciled.
#[schemars(extend("default" = {}))]
pub struct TelephonyAccountStatus {
    /// The mode the account first connected with; the operator refuses a different `spec.mode`
    /// without administrative approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<AccountMode>,
    /// The Twilio account (BringYourOwn) or subaccount (Managed) SID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    /// Twilio account status: `active`, `suspended` or `closed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_status: Option<String>,
    /// Twilio account type: `Trial` or `Full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Twilio balance (BringYourOwn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Balance>,
    /// When the operator last fetched the account from Twilio (verifying its credentials and its
    /// status). A restarted operator trusts this status until the re-verification period after
    /// that time has passed, as a running one trusts its own memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Time>,
    /// Prepaid credits ledger (Managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<CreditsStatus>,
    /// Numbers in the Twilio account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryStatus>,
    /// Numbers whose PhoneNumber was deleted, held by this account until `releaseAt` before they
    /// are released at Twilio (the operator's `--release-quarantine-seconds`): a new PhoneNumber
    /// of this account naming one in `spec.number` before then adopts it and cancels the release.
    /// Deleting the account releases them at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_numbers: Vec<HeldNumber>,
    /// kstatus conditions: Ready, Reconciling, Stalled, CredentialsValid, TermsAccepted, ModeLocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Conditions,
    /// The `metadata.generation` this status describes; -1 until the operator has reconciled the
    /// object once (a new object reads as in progress to Flux, Argo CD and `kubectl wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = -1))]
    pub observed_generation: Option<i64>,
}

/// A number held by its account after its PhoneNumber was deleted (a rename or prune in Git must
/// not lose a customer-facing number): released at `releaseAt` unless a PhoneNumber of the same
/// account names it in `spec.number` first, which adopts it.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct HeldNumber {
    /// The E.164 number.
    pub phone_number: String,
    /// Twilio's SID of the number (`PN…`).
    pub sid: String,
    /// The Twilio account (or subaccount) SID it is in.
    pub account_sid: String,
    /// The PhoneNumber whose deletion put it on hold.
    pub deleted_from: String,
    /// When it was put on hold.
    pub held_since: MicroTime,
    /// When it is released at Twilio unless adopted first. For a Managed number, never later
    /// than the end of its paid period (no renewal is charged while it is held).
    pub release_at: MicroTime,
    /// Managed: when the number was bought (its renewal cycle runs from there), carried to the
    /// PhoneNumber that adopts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchased_at: Option<MicroTime>,
    /// Managed: the paid period it was in (1 = the purchase period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    /// Managed: the length of its renewal periods in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_days: Option<u32>,
    /// The account has started releasing it: it can no longer be adopted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub releasing: bool,
}

/// A money amount with its currency.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Decimal string.
    pub amount: String,
    /// ISO 4217 currency.
    pub currency: String,
}

/// The credits ledger of a Managed account for the current cycle.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct CreditsStatus {
    /// Start of the current billing cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_start: Option<Time>,
    /// End of the current billing cycle; unused credits expire then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_end: Option<Time>,
    /// Currency of every amount below.
    #[serde(default)]
    pub currency: String,
    /// perCycle plus the top-ups of this cycle.
    #[serde(default)]
    pub granted: String,
    /// Sum of this cycle's charges (held and settled).
    #[serde(default)]
    pub spent: String,
    /// granted − spent; never negative.
    #[serde(default)]
    pub balance: String,
    /// Charges of this cycle, each with its idempotency key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
    /// Summaries of a few past cycles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<CycleSummary>,
    /// Idempotency keys settled in the previous cycle. A charge replayed after a crash that
    /// spans a cycle end is recognised by its key and never taken twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_cycle_keys: Vec<String>,
}

/// One charge against the credits.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    /// Idempotency key: the PhoneNumber's UID and the period (`<uid>/p<k>`). A key is charged
    /// at most once.
    pub key: String,
    /// Name of the PhoneNumber charged for.
    pub phone_number: String,
    /// The E.164 number, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Amount, a decimal string.
    pub amount: String,
    /// `Purchase` or `Renewal`.
    pub kind: ChargeKind,
    /// `Held` while the purchase is in flight, `Settled` once done.
    pub state: ChargeState,
    /// When the charge was made.
    pub at: Time,
}

/// Why a charge was taken.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeKind {
    Purchase,
    Renewal,
}

/// Lifecycle of a charge: held before the purchase, settled after it.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeState {
    Held,
    Settled,
}

/// Summary of a finished billing cycle.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct CycleSummary {
    pub start: Time,
    pub end: Time,
    pub granted: String,
    pub spent: String,
    /// Credits that expired unused at the end of the cycle.
    pub expired: String,
}

/// Numbers in the Twilio account, as seen by the last inventory sweep.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[serde(rename_all = "camelCase")]
pub struct InventoryStatus {
    /// Numbers owned by the account and claimed by a PhoneNumber.
    #[serde(default)]
    pub managed: u32,
    /// Numbers owned by the account that no PhoneNumber claims (and the account does not hold:
    /// see `heldNumbers`).
    #[serde(default)]
    pub unclaimed: u32,
    /// Up to 20 of the unclaimed numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unclaimed_numbers: Vec<String>,
    /// Monthly cost of the managed numbers, a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_cost: Option<String>,
    /// Currency of `monthlyCost`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// When the inventory was listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<Time>,
}
