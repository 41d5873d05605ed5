//! NumberSearch decisions: when to search (once per spec generation, or when the refresh
//! annotation changes), when the object expires, and the status to write from a search's answer
//! and the prices. Pure: the controller observes, calls Twilio when [`decide`] says so, and
//! writes what these functions return.

use crate::api::{
    Candidate, Capabilities, NumberSearch, NumberSearchResource, NumberSearchStatus, condition,
};
use crate::conditions::{Reason, ReasonMessage, Summary, kstatus, money, time};
use crate::reconcile::phone_number::PriceQuote;
use crate::twilio::{AvailableNumber, SearchQuery, TwilioError};
use jiff::{SignedDuration, Timestamp};

/// How long a search's candidates are likely to stay available (numbers are not reserved; a
/// popular area code can lose a number within minutes).
pub const RESULTS_VALID_FOR: SignedDuration = SignedDuration::from_mins(15);

/// What the controller knows about the object besides its spec and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The operator's clock.
    pub now: Timestamp,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// `metadata.creationTimestamp`.
    pub created_at: Option<Timestamp>,
    /// The value of the refresh annotation, if set.
    pub refresh: Option<String>,
    /// The operator's TTL of a search.
    pub ttl: SignedDuration,
}

impl Observed {
    /// What the object itself says (generation, creation, refresh annotation).
    pub fn of(obj: &NumberSearchResource, now: Timestamp, ttl: SignedDuration) -> Self {
        Self {
            now,
            generation: obj.metadata.generation,
            created_at: obj.metadata.creation_timestamp.as_ref().map(|t| t.0),
            refresh: obj
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(crate::api::REFRESH_ANNOTATION).cloned()),
            ttl,
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The TTL has passed: delete the object.
    Delete,
    /// Search Twilio with this query (then [`searched`] or [`search_failed`]).
    Search(SearchQuery),
    /// Nothing to do until `until` (the expiry).
    Wait { until: Timestamp },
}

/// When the object is deleted: `ttl` after the last search, or after its creation while nothing
/// was searched.
pub fn expires_at(status: Option<&NumberSearchStatus>, obs: &Observed) -> Timestamp {
    let from = status
        .and_then(|s| s.searched_at.as_ref())
        .map(|t| t.0)
        .or(obs.created_at)
        .unwrap_or(obs.now);
    from.checked_add(obs.ttl).unwrap_or(Timestamp::MAX)
}

/// Whether the current generation (and refresh value) has been answered: searched, or refused
/// by Twilio for good. A transient failure leaves it unanswered (retried with backoff).
pub fn answered(status: Option<&NumberSearchStatus>, obs: &Observed) -> bool {
    status.is_some_and(|s| {
        s.searched_generation.is_some()
            && s.searched_generation == obs.generation
            && s.refresh == obs.refresh
    })
}

/// The next step for `obj`.
pub fn decide(obj: &NumberSearchResource, obs: &Observed) -> Next {
    let status = obj.status.as_ref();
    let until = expires_at(status, obs);
    if obs.now >= until {
        return Next::Delete;
    }
    if answered(status, obs) {
        return Next::Wait { until };
    }
    Next::Search(search_query(&obj.spec.search, obj.spec.limit))
}

/// The Twilio query for the criteria (`limit` candidates, capped at [`crate::api::MAX_LIMIT`]).
pub fn search_query(s: &NumberSearch, limit: u32) -> SearchQuery {
    let caps = s.capabilities.clone().unwrap_or_default();
    SearchQuery {
        country: s.country.clone(),
        number_type: crate::twilio::kind_of(s.r#type),
        area_code: s.area_code,
        contains: s.contains.clone(),
        in_region: s.in_region.clone(),
        in_locality: s.in_locality.clone(),
        in_postal_code: s.in_postal_code.clone(),
        near_number: s.near_number.clone(),
        voice: caps.voice.filter(|v| *v),
        sms: caps.sms.filter(|v| *v),
        mms: caps.mms.filter(|v| *v),
        page_size: Some(limit.clamp(1, crate::api::MAX_LIMIT)),
    }
}

/// The candidates: the first `limit` numbers, each with the prices of its type (all numbers of
/// one search share the country and type, so one quote prices them all).
pub fn candidates(
    numbers: &[AvailableNumber],
    limit: u32,
    price: Option<&PriceQuote>,
) -> Vec<Candidate> {
    numbers
        .iter()
        .take(limit.clamp(1, crate::api::MAX_LIMIT) as usize)
        .map(|n| Candidate {
            phone_number: n.phone_number.clone(),
            friendly_name: Some(n.friendly_name.clone()).filter(|f| !f.is_empty()),
            locality: n.locality.clone(),
            region: n.region.clone(),
            postal_code: n.postal_code.clone(),
            capabilities: Capabilities {
                voice: n.capabilities.voice,
                sms: n.capabilities.sms,
                mms: n.capabilities.mms,
            },
            address_requirements: n.address_requirements.clone(),
            monthly_fee: price.map(|p| money(p.monthly_fee)),
            inbound_per_minute: price.and_then(|p| p.inbound_per_minute).map(money),
            outbound_per_minute: price.and_then(|p| p.outbound_per_minute).map(money),
            currency: price.map(|p| p.currency.clone()),
        })
        .collect()
}

/// The status after a search that answered: candidates with prices (`price_problem` says why
/// there are none), Ready=True.
pub fn searched(
    obj: &NumberSearchResource,
    obs: &Observed,
    numbers: &[AvailableNumber],
    price: Option<&PriceQuote>,
    price_problem: Option<&ReasonMessage>,
) -> NumberSearchStatus {
    let mut st = obj.status.clone().unwrap_or_default();
    st.candidates = candidates(numbers, obj.spec.limit, price);
    st.found = Some(st.candidates.len() as u32);
    st.searched_at = Some(time(obs.now));
    st.valid_until = Some(time(
        obs.now
            .checked_add(RESULTS_VALID_FOR)
            .unwrap_or(Timestamp::MAX),
    ));
    st.price_source = price.map(|p| p.source.as_str().to_string());
    st.searched_generation = obs.generation;
    st.refresh = obs.refresh.clone();
    st.expires_at = Some(time(expires_at(Some(&st), obs)));
    let mut message = match st.candidates.len() {
        0 => format!("no available number matches {}", describe(&obj.spec.search)),
        n => format!(
            "{n} available number{} for {}",
            if n == 1 { "" } else { "s" },
            describe(&obj.spec.search)
        ),
    };
    if let Some(p) = price {
        message.push_str(&format!(" (prices: {})", p.source.as_str()));
    } else if let Some(problem) = price_problem {
        message.push_str(&format!("; no prices: {}", problem.message));
    }
    finish(
        &mut st,
        obs,
        &Summary::Ready {
            reason: Reason::Searched,
            message,
        },
    );
    st
}

/// The status after a failed search. A retryable failure (Twilio unreachable, rate limited) is
/// Reconciling and leaves the generation unanswered, so it is searched again; a refusal is
/// Stalled and answered (not searched again until the spec or the refresh annotation changes).
/// Earlier candidates are kept only for a retry (they still answer the old criteria).
pub fn search_failed(
    obj: &NumberSearchResource,
    obs: &Observed,
    error: &TwilioError,
) -> NumberSearchStatus {
    let mut st = obj.status.clone().unwrap_or_default();
    let summary = if error.is_retryable() {
        Summary::Progressing(ReasonMessage::new(
            Reason::TwilioUnavailable,
            format!("searching Twilio failed, retrying: {error}"),
        ))
    } else {
        st.candidates.clear();
        st.found = Some(0);
        st.searched_at = Some(time(obs.now));
        st.valid_until = None;
        st.price_source = None;
        st.searched_generation = obs.generation;
        st.refresh = obs.refresh.clone();
        Summary::Stalled(ReasonMessage::new(
            Reason::SearchRefused,
            format!(
                "Twilio refused the search for {}: {error}",
                describe(&obj.spec.search)
            ),
        ))
    };
    st.expires_at = Some(time(expires_at(Some(&st), obs)));
    finish(&mut st, obs, &summary);
    st
}

/// The status while the account cannot be used (missing, not connected, credentials wrong):
/// Reconciling when it resolves itself, Stalled when a person must act. Nothing is searched.
pub fn account_not_usable(
    obj: &NumberSearchResource,
    obs: &Observed,
    why: &ReasonMessage,
    transient: bool,
) -> NumberSearchStatus {
    let mut st = obj.status.clone().unwrap_or_default();
    st.expires_at = Some(time(expires_at(Some(&st), obs)));
    let summary = if transient {
        Summary::Progressing(why.clone())
    } else {
        Summary::Stalled(why.clone())
    };
    finish(&mut st, obs, &summary);
    st
}

/// The account the search names does not exist (yet: it resolves itself when it appears).
pub fn account_missing(obj: &NumberSearchResource, obs: &Observed) -> NumberSearchStatus {
    let why = ReasonMessage::new(
        Reason::AccountNotFound,
        format!(
            "TelephonyAccount {} does not exist in this namespace",
            obj.spec.account_ref.name
        ),
    );
    account_not_usable(obj, obs, &why, true)
}

fn finish(st: &mut NumberSearchStatus, obs: &Observed, summary: &Summary) {
    kstatus(&mut st.conditions, summary, obs.generation, obs.now);
    st.observed_generation = obs.generation;
}

/// Whether the status is Ready=True.
pub fn is_ready(status: Option<&NumberSearchStatus>) -> bool {
    status.is_some_and(|s| crate::conditions::condition_is_true(&s.conditions, condition::READY))
}

/// The criteria in words (`US Local, area code 415`), as a PhoneNumber's messages word them,
/// plus `near_number`.
pub fn describe(s: &NumberSearch) -> String {
    let mut out = super::phone_number::decide::describe_search(s);
    if let Some(n) = &s.near_number {
        out.push_str(&format!(", near {n}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AccountRef, NumberSearchSpec, NumberType};
    use crate::reconcile::phone_number::PriceSource;
    use crate::twilio::ErrorClass;
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const CREATED: &str = "2026-03-01T10:00:00Z";

    fn obj(generation: i64, refresh: Option<&str>) -> NumberSearchResource {
        let mut o = NumberSearchResource::new(
            "s",
            NumberSearchSpec {
                account_ref: AccountRef {
                    name: "acct".into(),
                },
                search: NumberSearch {
                    country: "US".into(),
                    r#type: NumberType::Local,
                    area_code: Some(415),
                    contains: None,
                    in_region: None,
                    in_locality: None,
                    in_postal_code: None,
                    near_number: None,
                    capabilities: None,
                },
                limit: 2,
            },
        );
        o.metadata.generation = Some(generation);
        o.metadata.creation_timestamp = Some(time(ts(CREATED)));
        if let Some(r) = refresh {
            o.metadata.annotations = Some(BTreeMap::from([(
                crate::api::REFRESH_ANNOTATION.to_string(),
                r.to_string(),
            )]));
        }
        o
    }

    fn obs_at(o: &NumberSearchResource, now: &str) -> Observed {
        Observed::of(o, ts(now), SignedDuration::from_hours(1))
    }

    fn available(n: &str) -> AvailableNumber {
        AvailableNumber {
            phone_number: n.into(),
            friendly_name: format!("({n})"),
            locality: Some("San Francisco".into()),
            region: Some("CA".into()),
            postal_code: None,
            iso_country: "US".into(),
            rate_center: None,
            latitude: None,
            longitude: None,
            capabilities: crate::twilio::Capabilities {
                voice: true,
                sms: true,
                mms: false,
                fax: false,
            },
            address_requirements: Some("none".into()),
        }
    }

    fn quote() -> PriceQuote {
        PriceQuote {
            currency: "USD".into(),
            monthly_fee: Decimal::new(115, 2),
            inbound_per_minute: Some(Decimal::new(85, 4)),
            outbound_per_minute: Some(Decimal::new(14, 3)),
            source: PriceSource::RateCard,
            fetched_at: None,
        }
    }

    #[test]
    fn a_new_search_is_searched_once_per_generation() {
        let mut o = obj(1, None);
        let obs = obs_at(&o, "2026-03-01T10:00:05Z");
        let Next::Search(q) = decide(&o, &obs) else {
            panic!("a new object is searched");
        };
        assert_eq!((q.area_code, q.page_size), (Some(415), Some(2)));
        o.status = Some(searched(&o, &obs, &[available("+14155550100")], None, None));
        // Searched: nothing more until the expiry, one hour after the search.
        assert_eq!(
            decide(&o, &obs_at(&o, "2026-03-01T10:30:00Z")),
            Next::Wait {
                until: ts("2026-03-01T11:00:05Z")
            }
        );
        // A spec change (new generation) searches again.
        o.metadata.generation = Some(2);
        assert!(matches!(
            decide(&o, &obs_at(&o, "2026-03-01T10:30:00Z")),
            Next::Search(_)
        ));
    }

    #[test]
    fn the_refresh_annotation_searches_again_once() {
        let mut o = obj(1, None);
        let obs = obs_at(&o, "2026-03-01T10:00:05Z");
        o.status = Some(searched(&o, &obs, &[], None, None));
        let mut refreshed = obj(1, Some("2026-03-01T10:10:00Z"));
        refreshed.status = o.status.clone();
        let obs = obs_at(&refreshed, "2026-03-01T10:10:00Z");
        assert!(matches!(decide(&refreshed, &obs), Next::Search(_)));
        refreshed.status = Some(searched(&refreshed, &obs, &[], None, None));
        assert!(matches!(
            decide(&refreshed, &obs_at(&refreshed, "2026-03-01T10:10:01Z")),
            Next::Wait { .. }
        ));
        // The refresh also moved the expiry: one hour after the new search.
        assert_eq!(
            refreshed.status.as_ref().and_then(|s| s.expires_at.clone()),
            Some(time(ts("2026-03-01T11:10:00Z")))
        );
    }

    #[test]
    fn expiry_is_a_ttl_after_the_last_search_or_the_creation() {
        let mut o = obj(1, None);
        // Never searched (an account that never became usable): from the creation.
        assert_eq!(
            decide(&o, &obs_at(&o, "2026-03-01T11:00:00Z")),
            Next::Delete
        );
        let obs = obs_at(&o, "2026-03-01T10:20:00Z");
        o.status = Some(searched(&o, &obs, &[], None, None));
        assert!(matches!(
            decide(&o, &obs_at(&o, "2026-03-01T11:19:59Z")),
            Next::Wait { .. }
        ));
        assert_eq!(
            decide(&o, &obs_at(&o, "2026-03-01T11:20:00Z")),
            Next::Delete
        );
        // Expired wins over a pending search.
        o.metadata.generation = Some(2);
        assert_eq!(
            decide(&o, &obs_at(&o, "2026-03-01T12:00:00Z")),
            Next::Delete
        );
    }

    #[test]
    fn candidates_carry_the_prices_and_respect_the_limit() {
        let o = obj(1, None);
        let obs = obs_at(&o, "2026-03-01T10:00:05Z");
        let numbers = [
            available("+14155550100"),
            available("+14155550101"),
            available("+14155550102"),
        ];
        let st = searched(&o, &obs, &numbers, Some(&quote()), None);
        assert_eq!(st.found, Some(2));
        assert_eq!(st.candidates.len(), 2, "limit 2");
        let c = &st.candidates[0];
        assert_eq!(c.phone_number, "+14155550100");
        assert_eq!(c.monthly_fee.as_deref(), Some("1.15"));
        assert_eq!(c.inbound_per_minute.as_deref(), Some("0.0085"));
        assert_eq!(c.outbound_per_minute.as_deref(), Some("0.014"));
        assert_eq!(c.currency.as_deref(), Some("USD"));
        assert!(c.capabilities.voice && c.capabilities.sms && !c.capabilities.mms);
        assert_eq!(st.price_source.as_deref(), Some("RateCard"));
        assert_eq!(st.valid_until, Some(time(ts("2026-03-01T10:15:05Z"))));
        assert_eq!(st.observed_generation, Some(1));
        assert!(is_ready(Some(&st)));
        let ready = crate::conditions::get_condition(&st.conditions, condition::READY).unwrap();
        assert_eq!(ready.reason, "Searched");
        assert!(
            ready.message.contains("2 available numbers"),
            "{}",
            ready.message
        );
    }

    #[test]
    fn without_prices_the_candidates_say_why() {
        let o = obj(1, None);
        let obs = obs_at(&o, "2026-03-01T10:00:05Z");
        let problem = ReasonMessage::new(Reason::NotOnRateCard, "the rate card has no US Local");
        let st = searched(&o, &obs, &[available("+14155550100")], None, Some(&problem));
        assert_eq!(st.candidates[0].monthly_fee, None);
        assert_eq!(st.price_source, None);
        let ready = crate::conditions::get_condition(&st.conditions, condition::READY).unwrap();
        assert!(ready.message.contains("no prices"), "{}", ready.message);
    }

    #[test]
    fn a_transient_failure_is_retried_and_a_refusal_is_not() {
        let o = obj(1, None);
        let obs = obs_at(&o, "2026-03-01T10:00:05Z");
        let mut retry = o.clone();
        retry.status = Some(search_failed(
            &o,
            &obs,
            &TwilioError::new(ErrorClass::Retryable, "search", "503"),
        ));
        assert!(matches!(decide(&retry, &obs), Next::Search(_)));
        let st = retry.status.as_ref().unwrap();
        assert!(crate::conditions::condition_is_true(
            &st.conditions,
            condition::RECONCILING
        ));
        let mut refused = o.clone();
        refused.status = Some(search_failed(
            &o,
            &obs,
            &TwilioError::new(ErrorClass::Permanent, "search", "bad area code"),
        ));
        assert!(matches!(decide(&refused, &obs), Next::Wait { .. }));
        let st = refused.status.as_ref().unwrap();
        assert!(crate::conditions::condition_is_true(
            &st.conditions,
            condition::STALLED
        ));
        let stalled = crate::conditions::get_condition(&st.conditions, condition::READY).unwrap();
        assert_eq!(stalled.reason, "SearchRefused");
    }

    #[test]
    fn an_unusable_account_searches_nothing_and_says_why() {
        let o = obj(1, None);
        let obs = obs_at(&o, "2026-03-01T10:00:05Z");
        let st = account_missing(&o, &obs);
        assert!(crate::conditions::condition_is_true(
            &st.conditions,
            condition::RECONCILING
        ));
        assert_eq!(st.expires_at, Some(time(ts("2026-03-01T11:00:00Z"))));
        let mut waiting = o.clone();
        waiting.status = Some(st);
        assert!(
            matches!(decide(&waiting, &obs), Next::Search(_)),
            "searched once the account is usable"
        );
        let why = ReasonMessage::new(Reason::TermsNotAccepted, "accept the terms");
        let st = account_not_usable(&o, &obs, &why, false);
        assert!(crate::conditions::condition_is_true(
            &st.conditions,
            condition::STALLED
        ));
    }
}
