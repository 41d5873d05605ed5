//! Typed requests and responses of the v2010 calls the operator makes (accounts, balance, number
//! search, owned numbers). Response types are parsed leniently: Twilio mixes `null` and `""` for
//! unset fields and upper/lower case capability keys (see the API notes §5, §6).

use rust_decimal::Decimal;
use serde::Deserialize;

use super::fields::ConfigField;
use super::wire;

/// A Twilio account or subaccount. The `auth_token` field of the response is never kept.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// `AC…` SID.
    pub sid: String,
    /// Parent SID, or the account's own SID for a main account.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub owner_account_sid: String,
    /// Display name.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub friendly_name: String,
    /// `active`, `suspended` or `closed`.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub status: String,
    /// `Trial` or `Full`.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub r#type: String,
    /// Creation time.
    #[serde(default, deserialize_with = "wire::rfc2822_opt")]
    pub date_created: Option<jiff::Timestamp>,
}

/// An account's balance (shared by the parent and its subaccounts).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Balance {
    /// Account the balance belongs to.
    pub account_sid: String,
    /// Amount (may lag real time).
    #[serde(deserialize_with = "wire::decimal")]
    pub balance: Decimal,
    /// ISO 4217 currency, e.g. `USD`.
    pub currency: String,
}

/// Number type, as used in search paths and pricing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NumberKind {
    /// Geographic number.
    #[default]
    Local,
    /// Toll-free number.
    TollFree,
    /// Mobile number.
    Mobile,
}

impl NumberKind {
    /// Path segment of `AvailablePhoneNumbers/{Country}/{segment}.json`.
    pub fn path_segment(self) -> &'static str {
        match self {
            NumberKind::Local => "Local",
            NumberKind::TollFree => "TollFree",
            NumberKind::Mobile => "Mobile",
        }
    }

    /// `number_type` as written by the Pricing API (`local`, `toll free`, `mobile`).
    pub fn pricing_name(self) -> &'static str {
        match self {
            NumberKind::Local => "local",
            NumberKind::TollFree => "toll free",
            NumberKind::Mobile => "mobile",
        }
    }
}

/// Converts the CRD's number type to Twilio's.
pub fn kind_of(t: crate::api::NumberType) -> NumberKind {
    use crate::api::NumberType;
    match t {
        NumberType::Local => NumberKind::Local,
        NumberType::TollFree => NumberKind::TollFree,
        NumberType::Mobile => NumberKind::Mobile,
    }
}

/// Filters of an available-number search (`AvailablePhoneNumbers/{country}/{type}.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Number type.
    pub number_type: NumberKind,
    /// US/CA area code.
    pub area_code: Option<u16>,
    /// Pattern the number must contain.
    pub contains: Option<String>,
    /// Region (state/province).
    pub in_region: Option<String>,
    /// City.
    pub in_locality: Option<String>,
    /// Postal code.
    pub in_postal_code: Option<String>,
    /// Near this E.164 number.
    pub near_number: Option<String>,
    /// Must have voice.
    pub voice: Option<bool>,
    /// Must have SMS.
    pub sms: Option<bool>,
    /// Must have MMS.
    pub mms: Option<bool>,
    /// Page size (Twilio returns at most ~30 whatever this says).
    pub page_size: Option<u32>,
}

/// Capabilities of a number. Parsed case-insensitively (`SMS` and `sms`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Voice calls.
    pub voice: bool,
    /// SMS.
    pub sms: bool,
    /// MMS.
    pub mms: bool,
    /// Fax.
    pub fax: bool,
}

/// A number offered by a search. Not a reservation.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AvailableNumber {
    /// E.164 number.
    pub phone_number: String,
    /// Formatted number.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub friendly_name: String,
    /// City.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub locality: Option<String>,
    /// Region (state/province).
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub postal_code: Option<String>,
    /// ISO country.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub iso_country: String,
    /// Rate center.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub rate_center: Option<String>,
    /// Latitude (string or number on the wire).
    #[serde(default, deserialize_with = "wire::opt_f64")]
    pub latitude: Option<f64>,
    /// Longitude (string or number on the wire).
    #[serde(default, deserialize_with = "wire::opt_f64")]
    pub longitude: Option<f64>,
    /// Capabilities.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// `none`, `any`, `local` or `foreign`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub address_requirements: Option<String>,
}

/// Configuration of an owned number, sent on purchase and update, one value per [`ConfigField`]
/// (the fields are listed once, in [`FIELDS`](super::FIELDS)). `None` leaves a field as it is,
/// `Some("")` clears it. Read and write values with `config[ConfigField::VoiceUrl]`,
/// [`NumberConfig::get`] or [`NumberConfig::with`].
#[derive(Clone, PartialEq, Eq)]
pub struct NumberConfig {
    values: [Option<String>; ConfigField::COUNT],
}

impl Default for NumberConfig {
    fn default() -> Self {
        Self::from_fn(|_| None)
    }
}

impl NumberConfig {
    /// A configuration with `value(field)` for every field.
    pub fn from_fn(mut value: impl FnMut(ConfigField) -> Option<String>) -> Self {
        let mut c = Self {
            values: std::array::from_fn(|_| None),
        };
        for f in ConfigField::all() {
            c[f] = value(f);
        }
        c
    }

    /// This configuration with `field` set to `value` (`""` clears it at Twilio).
    pub fn with(mut self, field: ConfigField, value: impl Into<String>) -> Self {
        self[field] = Some(value.into());
        self
    }

    /// The value of `field`, if set.
    pub fn get(&self, field: ConfigField) -> Option<&str> {
        self[field].as_deref()
    }

    /// `(field, value)` of every set field, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (ConfigField, &str)> {
        ConfigField::all().filter_map(|f| self.get(f).map(|v| (f, v)))
    }

    /// `true` when no field is set (an update would send nothing).
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// `(PascalCase name, value)` of every set field, in a stable order.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        self.iter().map(|(f, v)| (f.form_name(), v)).collect()
    }

    /// The configuration Twilio reports in an `IncomingPhoneNumber` (snake_case names; `null`,
    /// `""` or missing → `None`, or `Some("")` for a field Twilio always reports).
    fn from_response(obj: &serde_json::Map<String, serde_json::Value>) -> Self {
        Self::from_fn(|f| {
            let v = wire::value_opt_string(obj.get(f.json_name()));
            if f.spec().always_reported {
                Some(v.unwrap_or_default())
            } else {
                v
            }
        })
    }
}

impl std::ops::Index<ConfigField> for NumberConfig {
    type Output = Option<String>;
    fn index(&self, field: ConfigField) -> &Option<String> {
        &self.values[field as usize]
    }
}

impl std::ops::IndexMut<ConfigField> for NumberConfig {
    fn index_mut(&mut self, field: ConfigField) -> &mut Option<String> {
        &mut self.values[field as usize]
    }
}

/// Set fields only, by form name.
impl std::fmt::Debug for NumberConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("NumberConfig");
        for (field, v) in self.iter() {
            d.field(field.form_name(), &v);
        }
        d.finish()
    }
}

/// Reads the configuration fields of an `IncomingPhoneNumber` object (used flattened into
/// [`IncomingNumber`]); other keys are ignored.
impl<'de> Deserialize<'de> for NumberConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let obj = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        Ok(Self::from_response(&obj))
    }
}

/// A purchase: either a specific number or any number in an area code (US/CA).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurchaseRequest {
    /// E.164 number to buy.
    pub phone_number: Option<String>,
    /// Area code; Twilio picks a number.
    pub area_code: Option<u16>,
    /// Configuration applied at purchase.
    pub config: NumberConfig,
}

/// Filters for listing owned numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncomingFilter {
    /// `PhoneNumber` (E.164, partial digits allowed).
    pub phone_number: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// Page size (default 1000, the maximum).
    pub page_size: Option<u32>,
}

/// A number owned by an account (`IncomingPhoneNumbers`). Unset fields (`null` or `""`) are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct IncomingNumber {
    /// `PN…` SID.
    pub sid: String,
    /// Owning account.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub account_sid: String,
    /// E.164 number.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub phone_number: String,
    /// Capabilities.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// e.g. `in-use`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub status: Option<String>,
    /// e.g. `local` (the `type` field).
    #[serde(default, rename = "type", deserialize_with = "wire::opt_string")]
    pub number_type: Option<String>,
    /// Purchase time.
    #[serde(default, deserialize_with = "wire::rfc2822_opt")]
    pub date_created: Option<jiff::Timestamp>,
    /// Last update.
    #[serde(default, deserialize_with = "wire::rfc2822_opt")]
    pub date_updated: Option<jiff::Timestamp>,
    /// `none`, `any`, `local` or `foreign`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub address_requirements: Option<String>,
    /// The number's configuration (the friendly name is always `Some`).
    #[serde(flatten)]
    pub config: NumberConfig,
}

impl IncomingNumber {
    /// Display name (`""` when Twilio reports none).
    pub fn friendly_name(&self) -> &str {
        self.config
            .get(ConfigField::FriendlyName)
            .unwrap_or_default()
    }

    /// The fields of `desired` that differ from this number (`Some("")` in `desired` differs from
    /// a set field and equals an unset one). Empty when in sync.
    pub fn drift(&self, desired: &NumberConfig) -> NumberConfig {
        NumberConfig::from_fn(|f| match (&desired[f], &self.config[f]) {
            (None, _) => None,
            (Some(w), have) if w.is_empty() => have.as_ref().map(|_| String::new()),
            (Some(w), Some(h)) if h == w => None,
            (Some(w), _) => Some(w.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_lists_only_differences() {
        let n: IncomingNumber = serde_json::from_value(serde_json::json!({
            "sid": "PN1", "friendly_name": "line", "voice_url": "https://a/v", "sms_url": ""
        }))
        .unwrap();
        let want = NumberConfig::default()
            .with(ConfigField::FriendlyName, "line")
            .with(ConfigField::VoiceUrl, "https://a/v2")
            .with(ConfigField::SmsUrl, "")
            .with(ConfigField::TrunkSid, "");
        let d = n.drift(&want);
        assert_eq!(
            d,
            NumberConfig::default().with(ConfigField::VoiceUrl, "https://a/v2")
        );
        let clear = NumberConfig::default().with(ConfigField::VoiceUrl, "");
        assert_eq!(n.drift(&clear), clear);
        assert!(n.drift(&n.config).is_empty());
        assert_eq!(
            want.form_fields(),
            vec![
                ("FriendlyName", "line"),
                ("VoiceUrl", "https://a/v2"),
                ("TrunkSid", ""),
                ("SmsUrl", "")
            ]
        );
    }
}
