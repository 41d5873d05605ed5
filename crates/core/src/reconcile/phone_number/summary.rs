//! The few fields of a PhoneNumber that are read across many objects at once.
//!
//! Three readers walk every PhoneNumber of an account or a cluster, often: the index of numbers
//! claimed by other PhoneNumbers (every purchase asks it), the account's inventory summary and
//! the `/metrics` state gauges. None of them needs more than the account, the phase, the numbers
//! the object names and its monthly fee. A [`PhoneNumberSummary`] holds exactly those, so a cache
//! can keep each object in a compact form (see the operator's `controller::compact_phone_number`)
//! and still answer these walks without decoding a single object.

use crate::api::condition::{READY, STALLED};
use crate::api::{Phase, PhoneNumber};
use crate::conditions::condition_is_true;

/// What the walks over many PhoneNumbers read of one (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhoneNumberSummary {
    /// `spec.accountRef.name`.
    pub account: String,
    /// `status.phase`.
    pub phase: Option<Phase>,
    /// `status.phoneNumber`: the number recorded as bought or adopted.
    pub recorded_number: Option<String>,
    /// `status.purchaseIntent.phoneNumber`: the number a purchase in progress names.
    pub intent_number: Option<String>,
    /// `spec.number`.
    pub spec_number: Option<String>,
    /// `status.pricing.currency`.
    pub currency: Option<String>,
    /// `status.pricing.monthlyFee` (a decimal string, as in status).
    pub monthly_fee: Option<String>,
    /// Still being worked on: neither Ready nor Stalled (a purchase or a release in progress, or
    /// not reconciled yet).
    pub in_progress: bool,
}

impl PhoneNumberSummary {
    /// The summary of `pn`.
    pub fn of(pn: &PhoneNumber) -> Self {
        let status = pn.status.as_ref();
        let pricing = status.and_then(|s| s.pricing.as_ref());
        Self {
            account: pn.spec.account_ref.name.clone(),
            phase: status.and_then(|s| s.phase),
            recorded_number: status.and_then(|s| s.phone_number.clone()),
            intent_number: status
                .and_then(|s| s.purchase_intent.as_ref())
                .map(|i| i.phone_number.clone()),
            spec_number: pn.spec.number.clone(),
            currency: pricing.map(|p| p.currency.clone()),
            monthly_fee: pricing.map(|p| p.monthly_fee.clone()),
            in_progress: status.is_none_or(|s| {
                !condition_is_true(&s.conditions, READY)
                    && !condition_is_true(&s.conditions, STALLED)
            }),
        }
    }

    /// The number the PhoneNumber claims, so no other PhoneNumber of its account buys it: the one
    /// in status, else the one its purchase intent names, else the one its spec names.
    pub fn claimed_number(&self) -> Option<&str> {
        self.recorded_number
            .as_deref()
            .or(self.intent_number.as_deref())
            .or(self.spec_number.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Pricing, PurchaseIntent};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn number(spec_number: Option<&str>) -> PhoneNumber {
        let mut spec = serde_json::json!({"accountRef": {"name": "main"}});
        if let Some(n) = spec_number {
            spec["number"] = n.into();
        }
        PhoneNumber::new("a", serde_json::from_value(spec).expect("spec"))
    }

    #[test]
    fn the_claimed_number_is_the_recorded_one_then_the_intent_then_the_spec() {
        let mut pn = number(Some("+14155550100"));
        assert_eq!(
            PhoneNumberSummary::of(&pn).claimed_number(),
            Some("+14155550100")
        );
        let status = pn.status.get_or_insert_with(Default::default);
        status.purchase_intent = Some(Box::new(PurchaseIntent {
            phone_number: "+14155550111".into(),
            account_sid: "AC1".into(),
            started_at: Time(jiff::Timestamp::UNIX_EPOCH),
            attempts: 1,
            buy_sent: false,
        }));
        let s = PhoneNumberSummary::of(&pn);
        assert_eq!(s.claimed_number(), Some("+14155550111"));
        pn.status.as_mut().expect("status").phone_number = Some("+14155550122".into());
        let s = PhoneNumberSummary::of(&pn);
        assert_eq!(s.claimed_number(), Some("+14155550122"));
    }

    #[test]
    fn a_search_without_status_claims_nothing_and_pricing_is_carried() {
        let mut pn = number(None);
        let s = PhoneNumberSummary::of(&pn);
        assert_eq!(s.claimed_number(), None);
        assert_eq!(s.account, "main");
        let status = pn.status.get_or_insert_with(Default::default);
        status.phase = Some(Phase::Active);
        status.pricing = Some(Pricing {
            currency: "USD".into(),
            monthly_fee: "1.15".into(),
            inbound_per_minute: None,
            outbound_per_minute: None,
            source: "RateCard".into(),
            fetched_at: None,
        });
        let s = PhoneNumberSummary::of(&pn);
        assert_eq!(s.phase, Some(Phase::Active));
        assert!(s.in_progress, "not Ready yet");
        assert_eq!(
            (s.currency.as_deref(), s.monthly_fee.as_deref()),
            (Some("USD"), Some("1.15"))
        );
    }

    #[test]
    fn in_progress_until_ready_or_stalled() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
        let cond = |type_: &str, status: &str| Condition {
            type_: type_.into(),
            status: status.into(),
            reason: "R".into(),
            message: String::new(),
            last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
            observed_generation: None,
        };
        let mut pn = number(None);
        assert!(PhoneNumberSummary::of(&pn).in_progress, "never reconciled");
        let status = pn.status.get_or_insert_with(Default::default);
        status.conditions = vec![cond(READY, "False"), cond(STALLED, "False")];
        assert!(PhoneNumberSummary::of(&pn).in_progress, "being bought");
        pn.status.as_mut().expect("status").conditions =
            vec![cond(READY, "False"), cond(STALLED, "True")];
        assert!(
            !PhoneNumberSummary::of(&pn).in_progress,
            "a person must act"
        );
        pn.status.as_mut().expect("status").conditions = vec![cond(READY, "True")];
        assert!(!PhoneNumberSummary::of(&pn).in_progress, "done");
    }
}
