//! Status builders: kstatus conditions (Ready/Reconciling/Stalled) plus the domain conditions
//! (Purchased, ConfigSynced, RenewalDue), pricing, and the Active status of an owned number.
//! Every builder is deterministic in its inputs, so an unchanged situation yields a byte-identical
//! status and the controller skips the write.

use super::validate::country_of;
use super::{PriceQuote, PriceSource};
use crate::api::condition::{CONFIG_SYNCED, PURCHASED, RENEWAL_DUE};
use crate::api::{Capabilities, NumberType, Phase, PhoneNumberSpec, PhoneNumberStatus, Pricing};
use crate::conditions::{
    Reason, ReasonMessage, Summary, kstatus, money, parse_money, set_condition, time,
};
use crate::twilio::{AvailableNumber, IncomingNumber};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use std::borrow::Borrow;

/// A Kubernetes `MicroTime` for `ts`, truncated to the microsecond (what it serializes), so a
/// status compares equal after a round trip. Purchase and renewal times keep this precision: a
/// whole-second purchase time would let an inventory list made earlier in the same second pass
/// for a newer one.
pub fn micro(ts: Timestamp) -> MicroTime {
    MicroTime(Timestamp::from_microsecond(ts.as_microsecond()).unwrap_or(ts))
}

/// The `jiff::Timestamp` inside a Kubernetes `MicroTime`.
pub fn micro_ts(t: &MicroTime) -> Timestamp {
    t.0
}

/// Ready=False, Stalled=True with `why`; `phase` is applied only when nothing is bought or in
/// flight (a purchased number keeps its phase, an intent keeps `Purchasing`).
pub fn stalled(
    st: &mut PhoneNumberStatus,
    why: &ReasonMessage,
    phase: Phase,
    generation: Option<i64>,
    now: Timestamp,
) {
    if st.sid.is_none() && st.purchase_intent.is_none() {
        st.phase = Some(phase);
    }
    st.message = Some(why.message.clone());
    kstatus(
        &mut st.conditions,
        &Summary::Stalled(why.clone()),
        generation,
        now,
    );
}

/// Ready=False, Reconciling=True with `why`.
pub fn progressing(
    st: &mut PhoneNumberStatus,
    why: &ReasonMessage,
    generation: Option<i64>,
    now: Timestamp,
) {
    if st.phase.is_none() {
        st.phase = Some(Phase::Pending);
    }
    st.message = Some(why.message.clone());
    kstatus(
        &mut st.conditions,
        &Summary::Progressing(why.clone()),
        generation,
        now,
    );
}

/// Ready=True.
pub fn ready(
    st: &mut PhoneNumberStatus,
    reason: impl Borrow<Reason>,
    message: String,
    generation: Option<i64>,
    now: Timestamp,
) {
    kstatus(
        &mut st.conditions,
        &Summary::Ready {
            reason: reason.borrow().clone(),
            message: message.clone(),
        },
        generation,
        now,
    );
    st.message = Some(message);
}

pub fn set_purchased(
    st: &mut PhoneNumberStatus,
    yes: bool,
    reason: impl Borrow<Reason>,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) {
    set_condition(
        &mut st.conditions,
        PURCHASED,
        yes,
        reason.borrow(),
        message,
        generation,
        now,
    );
}

pub fn set_config_synced(
    st: &mut PhoneNumberStatus,
    yes: bool,
    reason: impl Borrow<Reason>,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) {
    set_condition(
        &mut st.conditions,
        CONFIG_SYNCED,
        yes,
        reason.borrow(),
        message,
        generation,
        now,
    );
}

pub fn set_renewal_due(
    st: &mut PhoneNumberStatus,
    yes: bool,
    reason: impl Borrow<Reason>,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) {
    set_condition(
        &mut st.conditions,
        RENEWAL_DUE,
        yes,
        reason.borrow(),
        message,
        generation,
        now,
    );
}

/// The status form of a price quote, keeping `prev`'s `fetchedAt` when the prices are the same:
/// a re-fetch that changes nothing (every restart fetches the Pricing API again) writes nothing.
pub fn pricing_since(prev: Option<&Pricing>, q: &PriceQuote) -> Pricing {
    let next = pricing(q);
    if let Some(prev) = prev {
        let same = Pricing {
            fetched_at: prev.fetched_at.clone(),
            ..next.clone()
        };
        if &same == prev {
            return same;
        }
    }
    next
}

/// The status form of a price quote.
pub fn pricing(q: &PriceQuote) -> Pricing {
    Pricing {
        currency: q.currency.clone(),
        monthly_fee: money(q.monthly_fee),
        inbound_per_minute: q.inbound_per_minute.map(money),
        outbound_per_minute: q.outbound_per_minute.map(money),
        source: q.source.as_str().to_string(),
        fetched_at: match q.source {
            PriceSource::RateCard => None,
            PriceSource::TwilioPricingApi => q.fetched_at.map(time),
        },
    }
}

/// The quote a status recorded: the inverse of [`pricing`] (`None` when a field does not read
/// back: an unknown source, an amount that is not a decimal).
pub fn recorded_quote(p: &Pricing) -> Option<PriceQuote> {
    let amount = |s: &Option<String>| match s {
        Some(s) => parse_money(s).map(Some),
        None => Some(None),
    };
    let source = match p.source.as_str() {
        "TwilioPricingAPI" => PriceSource::TwilioPricingApi,
        "RateCard" => PriceSource::RateCard,
        _ => return None,
    };
    Some(PriceQuote {
        currency: p.currency.clone(),
        monthly_fee: parse_money(&p.monthly_fee)?,
        inbound_per_minute: amount(&p.inbound_per_minute)?,
        outbound_per_minute: amount(&p.outbound_per_minute)?,
        source,
        fetched_at: p.fetched_at.as_ref().map(|t| t.0),
    })
}

/// The number type from Twilio's `type` field (`local`, `toll-free`, `mobile`, …).
pub fn parse_type(s: &str) -> Option<NumberType> {
    let norm: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match norm.as_str() {
        "local" => Some(NumberType::Local),
        "tollfree" => Some(NumberType::TollFree),
        "mobile" => Some(NumberType::Mobile),
        _ => None,
    }
}

/// Country and type of the number (from the search, Twilio's answer, or the calling code).
pub fn country_and_type(
    spec: &PhoneNumberSpec,
    e164: &str,
    twilio_type: Option<&str>,
) -> (Option<String>, Option<NumberType>) {
    let guessed = country_of(e164);
    let country = spec
        .search
        .as_ref()
        .map(|s| s.country.clone())
        .or_else(|| guessed.map(|(c, _)| c.to_string()));
    let t = twilio_type
        .and_then(parse_type)
        .or_else(|| spec.search.as_ref().map(|s| s.r#type))
        .or_else(|| guessed.map(|(_, t)| t));
    (country, t)
}

/// Records an owned number in the status: phase Active, identity, capabilities, purchase time,
/// intent cleared. `found` is the search result it came from, when known (locality, region).
/// `purchasedAt` is the operator's clock when Twilio's answer to the buy was seen (the renewal
/// cycle runs on that clock; full precision, so only an inventory list that started later can
/// prove the number gone), Twilio's `date_created` for an adopted number (never later than now).
pub fn record_owned(
    st: &mut PhoneNumberStatus,
    spec: &PhoneNumberSpec,
    n: &IncomingNumber,
    account_sid: &str,
    found: Option<&AvailableNumber>,
    adopted: bool,
    now: Timestamp,
) {
    let (country, t) = country_and_type(spec, &n.phone_number, n.number_type.as_deref());
    st.phase = Some(Phase::Active);
    st.phone_number = Some(n.phone_number.clone());
    st.sid = Some(n.sid.clone());
    st.account_sid = Some(if n.account_sid.is_empty() {
        account_sid.to_string()
    } else {
        n.account_sid.clone()
    });
    st.country = country;
    st.r#type = t;
    st.capabilities = Some(Capabilities {
        voice: n.capabilities.voice,
        sms: n.capabilities.sms,
        mms: n.capabilities.mms,
    });
    if let Some(f) = found {
        st.locality = f.locality.clone();
        st.region = f.region.clone();
    }
    let purchased = if adopted {
        n.date_created.map_or(now, |d| d.min(now))
    } else {
        now
    };
    st.purchased_at = Some(micro(purchased));
    st.purchase_intent = None;
}
