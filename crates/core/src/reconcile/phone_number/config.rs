//! The Twilio configuration a PhoneNumber declares, and its difference from what Twilio holds.
//!
//! Only what the spec sets is managed: a field the spec leaves out is left as it is at Twilio
//! (an adopted number keeps its webhooks until the spec names them). Twilio returns `null` or
//! `""` for unset fields; both read as unset (the client parses them to `None`). The fields, how
//! each is read from the spec and how its values compare are listed once, in
//! [`crate::twilio::FIELDS`].

use crate::api::PhoneNumberSpec;
use crate::twilio::{FIELDS, IncomingNumber, NumberConfig};

/// The configuration the spec declares (sent with the purchase and on drift).
pub fn desired(spec: &PhoneNumberSpec) -> NumberConfig {
    NumberConfig::from_fn(|f| (f.spec().desired)(spec))
}

/// The update that brings `current` to what the spec declares; empty when in sync.
pub fn diff(spec: &PhoneNumberSpec, current: &IncomingNumber) -> NumberConfig {
    let mut want = desired(spec);
    // Methods compare case-insensitively (Twilio answers upper case).
    for f in FIELDS
        .iter()
        .filter(|s| s.case_insensitive)
        .map(|s| s.field)
    {
        if let (Some(a), Some(b)) = (want.get(f), current.config.get(f))
            && a.eq_ignore_ascii_case(b)
        {
            want[f] = None;
        }
    }
    current.drift(&want)
}

/// Names of the fields an update changes, for messages and events.
pub fn field_names(c: &NumberConfig) -> Vec<&'static str> {
    c.form_fields().into_iter().map(|(k, _)| k).collect()
}
