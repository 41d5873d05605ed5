//! The one table of the Twilio number-configuration fields the operator keeps in sync.
//!
//! Each field used to be written out in half a dozen places (the update type, its form body, the
//! response type, the drift comparison, the desired value from the spec, the case-insensitive
//! method comparison), so adding one meant about ten edits that had to agree. Now [`FIELDS`] says,
//! once per field, how it is named in the request form and in the response JSON, how its values
//! compare, and how the desired value is read from a [`PhoneNumberSpec`]; [`NumberConfig`]
//! (values keyed by [`ConfigField`]), its form body, the parsing of `IncomingPhoneNumber`
//! responses, the drift comparison and the desired configuration are all derived from it.
//!
//! Adding a synced field: the spec field (`crate::api`), a [`ConfigField`] variant and its entry
//! here (same position, checked at compile time; a new last variant also goes into the length
//! check below the table), the simulator, a test.
//!
//! The table reads the spec (API types) so that the list exists once; nothing here does I/O.
//!
//! [`NumberConfig`]: super::NumberConfig

use crate::api::{Compliance, HttpMethod, PhoneNumberSpec, SmsConfig, VoiceConfig};

/// A number-configuration field, in the order of [`FIELDS`] (and of the request form).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigField {
    FriendlyName,
    VoiceUrl,
    VoiceMethod,
    VoiceFallbackUrl,
    VoiceFallbackMethod,
    StatusCallback,
    VoiceApplicationSid,
    TrunkSid,
    SmsUrl,
    SmsMethod,
    SmsFallbackUrl,
    SmsApplicationSid,
    AddressSid,
    BundleSid,
    IdentitySid,
    EmergencyAddressSid,
}

/// How one field is named, compared and declared.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// The field (its position in [`FIELDS`] is `field as usize`).
    pub field: ConfigField,
    /// PascalCase name in the request form (`VoiceUrl`).
    pub form: &'static str,
    /// snake_case name in Twilio's responses (`voice_url`).
    pub json: &'static str,
    /// Values compare case-insensitively against Twilio's (HTTP methods: Twilio answers `POST`).
    pub case_insensitive: bool,
    /// Twilio always reports a value: unset (`null`, `""`, missing) reads as `Some("")`, not
    /// `None` (the friendly name).
    pub always_reported: bool,
    /// The value the spec declares (`None`: not managed, left as it is at Twilio).
    pub desired: fn(&PhoneNumberSpec) -> Option<String>,
}

fn voice(s: &PhoneNumberSpec) -> Option<&VoiceConfig> {
    s.voice.as_ref()
}

fn sms(s: &PhoneNumberSpec) -> Option<&SmsConfig> {
    s.sms.as_deref()
}

fn compliance(s: &PhoneNumberSpec) -> Option<&Compliance> {
    s.compliance.as_deref()
}

/// A method is sent only with its URL; unset means POST.
fn method(url: &Option<String>, m: Option<HttpMethod>) -> Option<String> {
    url.as_ref().map(|_| {
        match m.unwrap_or_default() {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
        .to_owned()
    })
}

/// Every synced field, in [`ConfigField`] order (the order of the request form).
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        field: ConfigField::FriendlyName,
        form: "FriendlyName",
        json: "friendly_name",
        case_insensitive: false,
        always_reported: true,
        desired: |s| s.friendly_name.clone(),
    },
    FieldSpec {
        field: ConfigField::VoiceUrl,
        form: "VoiceUrl",
        json: "voice_url",
        case_insensitive: false,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| v.url.clone()),
    },
    FieldSpec {
        field: ConfigField::VoiceMethod,
        form: "VoiceMethod",
        json: "voice_method",
        case_insensitive: true,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| method(&v.url, v.method)),
    },
    FieldSpec {
        field: ConfigField::VoiceFallbackUrl,
        form: "VoiceFallbackUrl",
        json: "voice_fallback_url",
        case_insensitive: false,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| v.fallback_url.clone()),
    },
    FieldSpec {
        field: ConfigField::VoiceFallbackMethod,
        form: "VoiceFallbackMethod",
        json: "voice_fallback_method",
        case_insensitive: true,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| method(&v.fallback_url, v.fallback_method)),
    },
    FieldSpec {
        field: ConfigField::StatusCallback,
        form: "StatusCallback",
        json: "status_callback",
        case_insensitive: false,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| v.status_callback.clone()),
    },
    FieldSpec {
        field: ConfigField::VoiceApplicationSid,
        form: "VoiceApplicationSid",
        json: "voice_application_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| v.application_sid.clone()),
    },
    FieldSpec {
        field: ConfigField::TrunkSid,
        form: "TrunkSid",
        json: "trunk_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| voice(s).and_then(|v| v.trunk_sid.clone()),
    },
    FieldSpec {
        field: ConfigField::SmsUrl,
        form: "SmsUrl",
        json: "sms_url",
        case_insensitive: false,
        always_reported: false,
        desired: |s| sms(s).and_then(|m| m.url.clone()),
    },
    FieldSpec {
        field: ConfigField::SmsMethod,
        form: "SmsMethod",
        json: "sms_method",
        case_insensitive: true,
        always_reported: false,
        desired: |s| sms(s).and_then(|m| method(&m.url, m.method)),
    },
    FieldSpec {
        field: ConfigField::SmsFallbackUrl,
        form: "SmsFallbackUrl",
        json: "sms_fallback_url",
        case_insensitive: false,
        always_reported: false,
        desired: |s| sms(s).and_then(|m| m.fallback_url.clone()),
    },
    FieldSpec {
        field: ConfigField::SmsApplicationSid,
        form: "SmsApplicationSid",
        json: "sms_application_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| sms(s).and_then(|m| m.application_sid.clone()),
    },
    FieldSpec {
        field: ConfigField::AddressSid,
        form: "AddressSid",
        json: "address_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| compliance(s).and_then(|k| k.address_sid.clone()),
    },
    FieldSpec {
        field: ConfigField::BundleSid,
        form: "BundleSid",
        json: "bundle_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| compliance(s).and_then(|k| k.bundle_sid.clone()),
    },
    FieldSpec {
        field: ConfigField::IdentitySid,
        form: "IdentitySid",
        json: "identity_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| compliance(s).and_then(|k| k.identity_sid.clone()),
    },
    FieldSpec {
        field: ConfigField::EmergencyAddressSid,
        form: "EmergencyAddressSid",
        json: "emergency_address_sid",
        case_insensitive: false,
        always_reported: false,
        desired: |s| compliance(s).and_then(|k| k.emergency_address_sid.clone()),
    },
];

// Entry `i` of the table describes the variant with discriminant `i`, so a field's entry is found
// by indexing and `NumberConfig` can hold its values in an array.
const _: () = {
    let mut i = 0;
    while i < FIELDS.len() {
        assert!(
            FIELDS[i].field as usize == i,
            "FIELDS must list the ConfigField variants in declaration order"
        );
        i += 1;
    }
    assert!(
        ConfigField::EmergencyAddressSid as usize + 1 == FIELDS.len(),
        "every ConfigField variant needs its FIELDS entry (the last variant is checked here)"
    );
};

impl ConfigField {
    /// Number of fields.
    pub const COUNT: usize = FIELDS.len();

    /// The field's table entry.
    pub fn spec(self) -> &'static FieldSpec {
        &FIELDS[self as usize]
    }

    /// PascalCase name in the request form.
    pub fn form_name(self) -> &'static str {
        self.spec().form
    }

    /// snake_case name in Twilio's responses.
    pub fn json_name(self) -> &'static str {
        self.spec().json
    }

    /// Every field, in table order.
    pub fn all() -> impl Iterator<Item = ConfigField> {
        FIELDS.iter().map(|s| s.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twilio::{IncomingNumber, NumberConfig};

    #[test]
    fn desired_methods_follow_their_url_and_default_to_post() {
        let spec: PhoneNumberSpec = serde_json::from_value(serde_json::json!({
            "accountRef": {"name": "a"},
            "voice": {"url": "https://a/v", "fallbackMethod": "GET"},
            "sms": {"url": "https://a/s", "method": "GET"},
        }))
        .unwrap();
        let c = NumberConfig::from_fn(|f| (f.spec().desired)(&spec));
        assert_eq!(
            c.form_fields(),
            vec![
                ("VoiceUrl", "https://a/v"),
                ("VoiceMethod", "POST"),
                ("SmsUrl", "https://a/s"),
                ("SmsMethod", "GET"),
            ]
        );
    }

    #[test]
    fn response_names_and_unset_values() {
        let n: IncomingNumber = serde_json::from_value(serde_json::json!({
            "sid": "PN1", "friendly_name": null, "emergency_address_sid": "AD1", "sms_method": ""
        }))
        .unwrap();
        assert_eq!(n.config.get(ConfigField::FriendlyName), Some(""));
        assert_eq!(n.config.get(ConfigField::EmergencyAddressSid), Some("AD1"));
        assert_eq!(n.config.get(ConfigField::SmsMethod), None);
        // The two names of a field are the same words.
        for s in FIELDS {
            let snake: String = s
                .form
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
                    sep.into_iter()
                        .chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect();
            assert_eq!(s.field.json_name(), snake);
        }
    }
}
