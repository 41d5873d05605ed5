//! The optional IncomingPhoneNumber fields shared by purchase and update: validation and a partial
//! apply (only sent fields change; an empty value clears).

use super::Params;
use crate::error::ApiError;
use crate::model::OwnedNumber;
use chrono::{DateTime, Utc};

fn invalid(name: &str, v: &str) -> ApiError {
    ApiError::bad_request(20001, format!("Invalid value '{v}' for parameter {name}"))
}

fn method(name: &str, v: &str) -> Result<String, ApiError> {
    if v.is_empty() {
        return Ok("POST".into());
    }
    let up = v.to_ascii_uppercase();
    if up == "GET" || up == "POST" {
        Ok(up)
    } else {
        Err(invalid(name, v))
    }
}

fn url(name: &str, v: &str) -> Result<String, ApiError> {
    if v.is_empty() {
        return Ok(String::new());
    }
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(v.to_string()),
        _ => Err(ApiError::bad_request(
            21502,
            format!("{name} '{v}' is not a valid URL"),
        )),
    }
}

fn sid(name: &str, prefix: &str, v: &str) -> Result<String, ApiError> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let ok =
        v.len() == 34 && v.starts_with(prefix) && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(name, v))
    }
}

/// Applies the sent optional fields to `n`. With `updated = Some(now)`, `date_updated` is set.
pub(crate) fn apply_fields(
    n: &mut OwnedNumber,
    form: &Params,
    updated: Option<DateTime<Utc>>,
) -> Result<(), ApiError> {
    let mut m = n.clone();
    for (k, v) in &form.0 {
        let v = v.as_str();
        match k.as_str() {
            "FriendlyName" => {
                if v.chars().count() > 64 {
                    return Err(ApiError::bad_request(
                        20001,
                        "FriendlyName is longer than 64 characters",
                    ));
                }
                m.friendly_name = if v.is_empty() {
                    crate::util::friendly_number(&m.phone_number)
                } else {
                    v.to_string()
                };
            }
            "VoiceUrl" => m.voice_url = url(k, v)?,
            "VoiceMethod" => m.voice_method = method(k, v)?,
            "VoiceFallbackUrl" => m.voice_fallback_url = url(k, v)?,
            "VoiceFallbackMethod" => m.voice_fallback_method = method(k, v)?,
            "VoiceCallerIdLookup" => {
                m.voice_caller_id_lookup = match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" | "" => false,
                    _ => return Err(invalid(k, v)),
                }
            }
            "VoiceApplicationSid" => {
                m.voice_application_sid = sid(k, "AP", v)?;
                if !v.is_empty() {
                    m.trunk_sid.clear();
                }
            }
            "TrunkSid" => {
                m.trunk_sid = sid(k, "TK", v)?;
                if !v.is_empty() {
                    m.voice_application_sid.clear();
                }
            }
            "VoiceReceiveMode" => {
                m.voice_receive_mode = match v {
                    "" | "voice" => "voice".into(),
                    "fax" => "fax".into(),
                    _ => return Err(invalid(k, v)),
                }
            }
            "SmsUrl" => m.sms_url = url(k, v)?,
            "SmsMethod" => m.sms_method = method(k, v)?,
            "SmsFallbackUrl" => m.sms_fallback_url = url(k, v)?,
            "SmsFallbackMethod" => m.sms_fallback_method = method(k, v)?,
            "SmsApplicationSid" => m.sms_application_sid = sid(k, "AP", v)?,
            "StatusCallback" => m.status_callback = url(k, v)?,
            "StatusCallbackMethod" => m.status_callback_method = method(k, v)?,
            "ApiVersion" => {
                m.api_version = match v {
                    "" | "2010-04-01" => "2010-04-01".into(),
                    "2008-08-01" => v.into(),
                    _ => return Err(invalid(k, v)),
                }
            }
            "AddressSid" => m.address_sid = sid(k, "AD", v)?,
            "BundleSid" => m.bundle_sid = sid(k, "BU", v)?,
            "IdentitySid" => m.identity_sid = sid(k, "RI", v)?,
            "EmergencyStatus" => {
                m.emergency_status = match v {
                    "Active" | "Inactive" => v.into(),
                    "" => "Inactive".into(),
                    _ => return Err(invalid(k, v)),
                }
            }
            "EmergencyAddressSid" => m.emergency_address_sid = sid(k, "AD", v)?,
            // PhoneNumber/AreaCode (create), AccountSid (update) are handled by the caller; other
            // unknown parameters are ignored, as Twilio does (warning 20001).
            _ => {}
        }
    }
    if let Some(now) = updated {
        m.date_updated = now;
    }
    *n = m;
    Ok(())
}
