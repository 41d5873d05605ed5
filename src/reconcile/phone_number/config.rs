//! The Twilio configuration a PhoneNumber declares, and its difference from what Twilio holds.
//!
//! Only what the spec sets is managed: a field the spec leaves out is left as it is at Twilio
//! (an adopted number keeps its webhooks until the spec names them). Twilio returns `null` or
//! `""` for unset fields; both read as unset (the client parses them to `None`).

use crate::api::{HttpMethod, PhoneNumberSpec};
use crate::twilio::{IncomingNumber, NumberConfig};

fn method(m: Option<HttpMethod>) -> String {
    match m.unwrap_or_default() {
        HttpMethod::Get => "GET".into(),
        HttpMethod::Post => "POST".into(),
    }
}

/// The configuration the spec declares (sent with the purchase and on drift).
pub fn desired(spec: &PhoneNumberSpec) -> NumberConfig {
    let mut c = NumberConfig {
        friendly_name: spec.friendly_name.clone(),
        ..Default::default()
    };
    if let Some(v) = &spec.voice {
        c.voice_url = v.url.clone();
        c.voice_method = v.url.as_ref().map(|_| method(v.method));
        c.voice_fallback_url = v.fallback_url.clone();
        c.voice_fallback_method = v.fallback_url.as_ref().map(|_| method(v.fallback_method));
        c.status_callback = v.status_callback.clone();
        c.voice_application_sid = v.application_sid.clone();
        c.trunk_sid = v.trunk_sid.clone();
    }
    if let Some(s) = &spec.sms {
        c.sms_url = s.url.clone();
        c.sms_method = s.url.as_ref().map(|_| method(s.method));
        c.sms_fallback_url = s.fallback_url.clone();
        c.sms_application_sid = s.application_sid.clone();
    }
    if let Some(k) = &spec.compliance {
        c.address_sid = k.address_sid.clone();
        c.bundle_sid = k.bundle_sid.clone();
        c.identity_sid = k.identity_sid.clone();
        c.emergency_address_sid = k.emergency_address_sid.clone();
    }
    c
}

/// The update that brings `current` to what the spec declares; empty when in sync.
pub fn diff(spec: &PhoneNumberSpec, current: &IncomingNumber) -> NumberConfig {
    let mut want = desired(spec);
    // Methods compare case-insensitively (Twilio answers upper case).
    let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if eq(&want.voice_method, &current.voice_method) {
        want.voice_method = None;
    }
    if eq(&want.voice_fallback_method, &current.voice_fallback_method) {
        want.voice_fallback_method = None;
    }
    if eq(&want.sms_method, &current.sms_method) {
        want.sms_method = None;
    }
    current.drift(&want)
}

/// Names of the fields an update changes, for messages and events.
pub fn field_names(c: &NumberConfig) -> Vec<&'static str> {
    c.form_fields().into_iter().map(|(k, _)| k).collect()
}
