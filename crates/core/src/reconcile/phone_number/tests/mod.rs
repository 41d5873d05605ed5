//! Decision tests: every phase transition, the price guard, adoption, config diffs, drift,
//! renewal timelines, cleanup. Fixtures build objects and observations in a few lines.

mod active;
mod cleanup;
mod purchase;

use super::*;
use crate::api::{
    AccountRef, NumberSearch, NumberType, PhoneNumber, PhoneNumberSpec, PhoneNumberStatus,
};
use crate::conditions::get_condition;
use crate::twilio::{AvailableNumber, IncomingNumber};
use rust_decimal::Decimal;

pub const ACC: &str = "AC11111111111111111111111111111111";

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn t0() -> Timestamp {
    ts("2026-03-01T12:00:00Z")
}

pub fn spec_number(n: &str) -> PhoneNumberSpec {
    serde_json::from_value(serde_json::json!({"accountRef": {"name": "acct"}, "number": n}))
        .unwrap()
}

pub fn spec_search(country: &str) -> PhoneNumberSpec {
    PhoneNumberSpec {
        account_ref: AccountRef {
            name: "acct".into(),
        },
        number: None,
        search: Some(NumberSearch {
            country: country.into(),
            r#type: NumberType::Local,
            area_code: None,
            contains: None,
            in_region: None,
            in_locality: None,
            in_postal_code: None,
            near_number: None,
            capabilities: None,
        }),
        ..spec_number("+14155550100")
    }
}

pub fn pn(spec: PhoneNumberSpec, status: Option<PhoneNumberStatus>) -> PhoneNumber {
    let mut p = PhoneNumber::new("pn1", spec);
    p.metadata.namespace = Some("team-a".into());
    p.metadata.generation = Some(1);
    p.metadata.uid = Some("uid-1".into());
    p.status = status;
    p
}

pub fn incoming(e164: &str) -> IncomingNumber {
    serde_json::from_value(serde_json::json!({
        "sid": "PN0123456789abcdef0123456789abcdef",
        "account_sid": ACC,
        "phone_number": e164,
        "friendly_name": "(415) 555-0100",
        "capabilities": {"voice": true, "sms": true, "mms": false},
        "type": "local",
        "date_created": "Sun, 01 Mar 2026 12:00:00 +0000",
        "voice_url": null,
        "sms_url": "",
    }))
    .unwrap()
}

pub fn available(e164: &str) -> AvailableNumber {
    serde_json::from_value(serde_json::json!({
        "phone_number": e164, "friendly_name": e164, "locality": "San Francisco", "region": "CA", "iso_country": "US",
        "capabilities": {"voice": true, "SMS": true, "MMS": false}
    }))
    .unwrap()
}

pub fn usable(mode: AccountMode) -> AccountView {
    AccountView::Usable {
        mode,
        account_sid: ACC.into(),
    }
}

pub fn quote(fee: &str, source: PriceSource) -> PriceQuote {
    PriceQuote {
        currency: "USD".into(),
        monthly_fee: fee.parse().unwrap(),
        inbound_per_minute: Some(Decimal::new(85, 4)),
        outbound_per_minute: Some(Decimal::new(945, 4)),
        source,
        fetched_at: Some(t0()),
    }
}

pub fn obs(mode: AccountMode) -> Observed {
    let mut o = Observed::new(t0(), usable(mode));
    o.price = Some(quote(
        "1.15",
        if mode == AccountMode::Managed {
            PriceSource::RateCard
        } else {
            PriceSource::TwilioPricingApi
        },
    ));
    o
}

pub fn not_owned(at: Timestamp, targeted: bool) -> Option<Ownership> {
    Some(Ownership {
        number: None,
        as_of: at,
        targeted,
    })
}

pub fn owned(n: IncomingNumber, at: Timestamp, targeted: bool) -> Option<Ownership> {
    Some(Ownership {
        number: Some(n),
        as_of: at,
        targeted,
    })
}

pub fn cond<'a>(st: &'a PhoneNumberStatus, t: &str) -> Option<(&'a str, &'a str)> {
    get_condition(&st.conditions, t).map(|c| (c.status.as_str(), c.reason.as_str()))
}

/// Runs a decision and applies its status as the object's (what the controller writes).
pub fn step(p: &mut PhoneNumber, o: &Observed) -> Decision {
    let d = decide(p, o);
    p.status = Some(d.status.clone());
    d
}
