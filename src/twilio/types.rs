//! Typed requests and responses of the v2010 calls the operator makes (accounts, balance, number
//! search, owned numbers). Response types are parsed leniently: Twilio mixes `null` and `""` for
//! unset fields and upper/lower case capability keys (see the API notes §5, §6).

use rust_decimal::Decimal;
use serde::Deserialize;

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

/// Configuration of an owned number, sent on purchase and update. `None` leaves a field as it is,
/// `Some("")` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NumberConfig {
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// `VoiceUrl`.
    pub voice_url: Option<String>,
    /// `VoiceMethod`.
    pub voice_method: Option<String>,
    /// `VoiceFallbackUrl`.
    pub voice_fallback_url: Option<String>,
    /// `VoiceFallbackMethod`.
    pub voice_fallback_method: Option<String>,
    /// `StatusCallback`.
    pub status_callback: Option<String>,
    /// `VoiceApplicationSid`.
    pub voice_application_sid: Option<String>,
    /// `TrunkSid`.
    pub trunk_sid: Option<String>,
    /// `SmsUrl`.
    pub sms_url: Option<String>,
    /// `SmsMethod`.
    pub sms_method: Option<String>,
    /// `SmsFallbackUrl`.
    pub sms_fallback_url: Option<String>,
    /// `SmsApplicationSid`.
    pub sms_application_sid: Option<String>,
    /// `AddressSid`.
    pub address_sid: Option<String>,
    /// `BundleSid`.
    pub bundle_sid: Option<String>,
    /// `IdentitySid`.
    pub identity_sid: Option<String>,
    /// `EmergencyAddressSid`.
    pub emergency_address_sid: Option<String>,
}

impl NumberConfig {
    /// `true` when no field is set (an update would send nothing).
    pub fn is_empty(&self) -> bool {
        self.form_fields().is_empty()
    }

    /// `(PascalCase name, value)` of every set field, in a stable order.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        let fields: [(&'static str, &Option<String>); 16] = [
            ("FriendlyName", &self.friendly_name),
            ("VoiceUrl", &self.voice_url),
            ("VoiceMethod", &self.voice_method),
            ("VoiceFallbackUrl", &self.voice_fallback_url),
            ("VoiceFallbackMethod", &self.voice_fallback_method),
            ("StatusCallback", &self.status_callback),
            ("VoiceApplicationSid", &self.voice_application_sid),
            ("TrunkSid", &self.trunk_sid),
            ("SmsUrl", &self.sms_url),
            ("SmsMethod", &self.sms_method),
            ("SmsFallbackUrl", &self.sms_fallback_url),
            ("SmsApplicationSid", &self.sms_application_sid),
            ("AddressSid", &self.address_sid),
            ("BundleSid", &self.bundle_sid),
            ("IdentitySid", &self.identity_sid),
            ("EmergencyAddressSid", &self.emergency_address_sid),
        ];
        fields
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .collect()
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
    /// Display name.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub friendly_name: String,
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
    /// `VoiceUrl`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub voice_url: Option<String>,
    /// `VoiceMethod`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub voice_method: Option<String>,
    /// `VoiceFallbackUrl`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub voice_fallback_url: Option<String>,
    /// `VoiceFallbackMethod`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub voice_fallback_method: Option<String>,
    /// `StatusCallback`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub status_callback: Option<String>,
    /// `VoiceApplicationSid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub voice_application_sid: Option<String>,
    /// `TrunkSid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub trunk_sid: Option<String>,
    /// `SmsUrl`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub sms_url: Option<String>,
    /// `SmsMethod`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub sms_method: Option<String>,
    /// `SmsFallbackUrl`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub sms_fallback_url: Option<String>,
    /// `SmsApplicationSid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub sms_application_sid: Option<String>,
    /// `AddressSid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub address_sid: Option<String>,
    /// `BundleSid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub bundle_sid: Option<String>,
    /// `IdentitySid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub identity_sid: Option<String>,
    /// `EmergencyAddressSid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub emergency_address_sid: Option<String>,
}

impl IncomingNumber {
    /// The number's current configuration, in the shape of an update (unset fields are `None`;
    /// the friendly name is always `Some`).
    pub fn config(&self) -> NumberConfig {
        NumberConfig {
            friendly_name: Some(self.friendly_name.clone()),
            voice_url: self.voice_url.clone(),
            voice_method: self.voice_method.clone(),
            voice_fallback_url: self.voice_fallback_url.clone(),
            voice_fallback_method: self.voice_fallback_method.clone(),
            status_callback: self.status_callback.clone(),
            voice_application_sid: self.voice_application_sid.clone(),
            trunk_sid: self.trunk_sid.clone(),
            sms_url: self.sms_url.clone(),
            sms_method: self.sms_method.clone(),
            sms_fallback_url: self.sms_fallback_url.clone(),
            sms_application_sid: self.sms_application_sid.clone(),
            address_sid: self.address_sid.clone(),
            bundle_sid: self.bundle_sid.clone(),
            identity_sid: self.identity_sid.clone(),
            emergency_address_sid: self.emergency_address_sid.clone(),
        }
    }

    /// The fields of `desired` that differ from this number (`Some("")` in `desired` differs from
    /// a set field and equals an unset one). Empty when in sync.
    pub fn drift(&self, desired: &NumberConfig) -> NumberConfig {
        let current = self.config();
        fn pick(want: &Option<String>, have: &Option<String>) -> Option<String> {
            match want {
                None => None,
                Some(w) if w.is_empty() => have.as_ref().map(|_| String::new()),
                Some(w) if have.as_deref() == Some(w.as_str()) => None,
                Some(w) => Some(w.clone()),
            }
        }
        NumberConfig {
            friendly_name: pick(&desired.friendly_name, &current.friendly_name),
            voice_url: pick(&desired.voice_url, &current.voice_url),
            voice_method: pick(&desired.voice_method, &current.voice_method),
            voice_fallback_url: pick(&desired.voice_fallback_url, &current.voice_fallback_url),
            voice_fallback_method: pick(
                &desired.voice_fallback_method,
                &current.voice_fallback_method,
            ),
            status_callback: pick(&desired.status_callback, &current.status_callback),
            voice_application_sid: pick(
                &desired.voice_application_sid,
                &current.voice_application_sid,
            ),
            trunk_sid: pick(&desired.trunk_sid, &current.trunk_sid),
            sms_url: pick(&desired.sms_url, &current.sms_url),
            sms_method: pick(&desired.sms_method, &current.sms_method),
            sms_fallback_url: pick(&desired.sms_fallback_url, &current.sms_fallback_url),
            sms_application_sid: pick(&desired.sms_application_sid, &current.sms_application_sid),
            address_sid: pick(&desired.address_sid, &current.address_sid),
            bundle_sid: pick(&desired.bundle_sid, &current.bundle_sid),
            identity_sid: pick(&desired.identity_sid, &current.identity_sid),
            emergency_address_sid: pick(
                &desired.emergency_address_sid,
                &current.emergency_address_sid,
            ),
        }
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
        let want = NumberConfig {
            friendly_name: Some("line".into()),
            voice_url: Some("https://a/v2".into()),
            sms_url: Some(String::new()),
            trunk_sid: Some(String::new()),
            ..Default::default()
        };
        let d = n.drift(&want);
        assert_eq!(
            d,
            NumberConfig {
                voice_url: Some("https://a/v2".into()),
                ..Default::default()
            }
        );
        let clear = NumberConfig {
            voice_url: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(n.drift(&clear), clear);
        assert!(n.drift(&n.config()).is_empty());
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
