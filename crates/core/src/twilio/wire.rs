//! Lenient decoding of Twilio's JSON: `null`/`""` as unset, decimal strings or numbers, RFC 2822
//! dates, latitude/longitude as strings or numbers, capability keys in any case (notes §5, §6, §11).

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::str::FromStr;

use super::types::Capabilities;

/// `null`, missing or `""` → `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(value_opt_string(v.as_ref()))
}

/// [`opt_string`] of an already parsed value (a field looked up by name).
pub fn value_opt_string(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// `null` or missing → `""`.
pub fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

fn value_to_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .ok(),
        Value::Number(n) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .or_else(|_| Decimal::from_scientific(&s))
                .ok()
        }
        _ => None,
    }
}

/// A decimal given as a string (`"0.0085"`) or a JSON number.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_decimal(&v).ok_or_else(|| serde::de::Error::custom(format!("not a decimal: {v}")))
}

/// Like [`decimal`], `null`/missing/`""` → `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(v) => value_to_decimal(&v)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a decimal: {v}"))),
    }
}

/// A float given as a string or a number; unparsable → `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(Value::Number(n)) => n.as_f64(),
        _ => None,
    })
}

/// Parses an RFC 2822 timestamp (`Thu, 30 Jul 2015 23:19:04 +0000`), or ISO 8601 as a fallback.
pub fn parse_timestamp(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s)
        .ok()
        .or_else(|| s.parse::<jiff::Timestamp>().ok())
}

/// RFC 2822 date; `null`, missing or unparsable → `None`.
pub fn rfc2822_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<jiff::Timestamp>, D::Error> {
    Ok(opt_string(d)?.as_deref().and_then(parse_timestamp))
}

/// `null` or missing list → empty.
pub fn vec_or_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_i64().is_some_and(|i| i != 0),
        _ => false,
    }
}

impl<'de> Deserialize<'de> for Capabilities {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Option::<serde_json::Map<String, Value>>::deserialize(d)?;
        let mut caps = Capabilities::default();
        for (k, v) in v.iter().flatten() {
            let on = truthy(v);
            match k.to_ascii_lowercase().as_str() {
                "voice" => caps.voice = on,
                "sms" => caps.sms = on,
                "mms" => caps.mms = on,
                "fax" => caps.fax = on,
                _ => {}
            }
        }
        Ok(caps)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::ConfigField;
    use super::super::types::{AvailableNumber, IncomingNumber};
    use super::*;

    #[test]
    fn available_number_upper_case_caps_and_string_coords() {
        let n: AvailableNumber = serde_json::from_str(
            r#"{"friendly_name": "(808) 925-1571", "phone_number": "+18089251571",
            "lata": "834", "rate_center": "HILO", "latitude": "19.720000", "longitude": -155.09,
            "locality": "Hilo", "region": "HI", "postal_code": "96720", "iso_country": "US",
            "address_requirements": "none", "beta": false,
            "capabilities": {"voice": true, "SMS": true, "MMS": false}}"#,
        )
        .unwrap();
        assert!(n.capabilities.voice && n.capabilities.sms && !n.capabilities.mms);
        assert_eq!(n.latitude, Some(19.72));
        assert_eq!(n.longitude, Some(-155.09));
        assert_eq!(n.locality.as_deref(), Some("Hilo"));
    }

    #[test]
    fn incoming_number_empty_and_null_are_unset() {
        let n: IncomingNumber = serde_json::from_str(
            r#"{"sid": "PN1", "account_sid": "AC1", "phone_number": "+18089255327",
            "friendly_name": "(808) 925-5327",
            "capabilities": {"voice": true, "sms": false, "mms": true, "fax": false},
            "status": "in-use", "type": "local",
            "date_created": "Thu, 30 Jul 2015 23:19:04 +0000", "voice_url": null,
            "voice_method": "POST", "voice_application_sid": "", "sms_url": "",
            "trunk_sid": null, "address_requirements": "none"}"#,
        )
        .unwrap();
        assert_eq!(n.config[ConfigField::VoiceUrl], None);
        assert_eq!(n.config[ConfigField::SmsUrl], None);
        assert_eq!(n.config[ConfigField::VoiceApplicationSid], None);
        assert_eq!(n.config[ConfigField::VoiceMethod].as_deref(), Some("POST"));
        assert_eq!(n.number_type.as_deref(), Some("local"));
        assert_eq!(n.date_created.unwrap().to_string(), "2015-07-30T23:19:04Z");
        assert!(n.capabilities.voice && n.capabilities.mms && !n.capabilities.sms);
    }

    #[derive(Deserialize)]
    struct D {
        #[serde(deserialize_with = "decimal")]
        a: Decimal,
        #[serde(default, deserialize_with = "opt_decimal")]
        b: Option<Decimal>,
    }

    #[test]
    fn decimals_from_strings_and_numbers() {
        let d: D = serde_json::from_str(r#"{"a": "0.0085", "b": 1.15}"#).unwrap();
        assert_eq!(d.a.to_string(), "0.0085");
        assert_eq!(d.b.unwrap().to_string(), "1.15");
        let d: D = serde_json::from_str(r#"{"a": 2, "b": null}"#).unwrap();
        assert_eq!(d.a, Decimal::from(2));
        assert_eq!(d.b, None);
    }
}
