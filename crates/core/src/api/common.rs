//! Schema pieces shared by both kinds: conditions, money, references.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A money amount as a decimal string (`"1.15"`). Never a float: parse with `rust_decimal`.
pub const MONEY_PATTERN: &str = r"^[0-9]{1,12}(\.[0-9]{1,6})?$";
/// An E.164 phone number: `+`, country code, subscriber number, at most 15 digits.
pub const E164_PATTERN: &str = r"^\+[1-9][0-9]{6,14}$";
/// An ISO 3166-1 alpha-2 country code.
pub const COUNTRY_PATTERN: &str = r"^[A-Z]{2}$";
/// An ISO 4217 currency code.
pub const CURRENCY_PATTERN: &str = r"^[A-Z]{3}$";

/// Condition types written by the operator (kstatus: `Ready`, `Reconciling`, `Stalled`, plus
/// domain conditions).
pub mod condition {
    pub const READY: &str = "Ready";
    pub const RECONCILING: &str = "Reconciling";
    pub const STALLED: &str = "Stalled";
    pub const PURCHASED: &str = "Purchased";
    pub const CONFIG_SYNCED: &str = "ConfigSynced";
    pub const RENEWAL_DUE: &str = "RenewalDue";
    pub const CREDENTIALS_VALID: &str = "CredentialsValid";
    pub const TERMS_ACCEPTED: &str = "TermsAccepted";
    pub const MODE_LOCKED: &str = "ModeLocked";
}

/// Reference to a TelephonyAccount in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountRef {
    /// Name of the TelephonyAccount, in the PhoneNumber's own namespace (references never cross
    /// namespaces).
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// The list of conditions in a status, with the schema the API server expects
/// (`x-kubernetes-list-type: map` keyed by `type`).
pub type Conditions = Vec<Condition>;

pub(crate) fn conditions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = generator.subschema_for::<Vec<Condition>>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}
