//! Gathers what a decision needs before it runs: the account's usability and API, the prices
//! (Managed rate card, or the Pricing API through the cache), the account's inventory snapshot
//! (one paged list per account per resync, shared), and which numbers other PhoneNumbers claim.

use crate::api::{AccountMode, NumberType, PhoneNumber, TelephonyAccount};
use crate::controller::Context;
use crate::controller::account_access::access_for;
use crate::controller::claims::AccountHolder;
use crate::controller::compact_phone_number::CompactPhoneNumber;
use crate::controller::conditions::Reason;
use crate::controller::conditions::ReasonMessage;
use crate::controller::inventory::InventoryCache;
use crate::controller::pricing::{DEFAULT_PRICING_TTL, pricing_api_quote, rate_card_quote};
use crate::reconcile::account::NotUsable;
use crate::reconcile::phone_number::status::{country_and_type, recorded_quote};
use crate::reconcile::phone_number::{AccountView, Observed, Ownership, PriceQuote, PriceSource};
use crate::twilio::{AccountApi, TwilioError, TwilioPort};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};
use rust_decimal::Decimal;
use std::time::Duration;

/// The account's credits balance as its status shows it (Managed; `None` when not shown or not
/// a decimal).
pub fn credits_balance(acct: &TelephonyAccount) -> Option<Decimal> {
    let credits = acct.status.as_ref()?.credits.as_ref()?;
    credits.balance.trim().parse().ok()
}

/// The account view, its API when usable, and its credits balance (from the same read). The
/// account comes from `cache` (the controller's reflector of TelephonyAccounts) when the
/// PhoneNumber already holds a number: a resync or a restart of N
/// recorded numbers then reads no account from the API server (N GETs before). Before a number
/// is recorded (a purchase or an adoption may follow), and whenever the cache lacks the account,
/// the account is read from the API server, as fresh as the PhoneNumber itself is read.
pub async fn account_and_credits(
    ctx: &Context,
    cache: &Store<TelephonyAccount>,
    pn: &PhoneNumber,
) -> Result<(AccountView, Option<AccountApi>, Option<Decimal>), kube::Error> {
    let ns = pn.namespace().unwrap_or_default();
    let name = &pn.spec.account_ref.name;
    let recorded = pn.status.as_ref().is_some_and(|s| s.sid.is_some());
    let cached = recorded
        .then(|| cache.get(&ObjectRef::new(name).within(&ns)))
        .flatten();
    let acct = match cached {
        Some(acct) => (*acct).clone(),
        None => {
            let accounts: Api<TelephonyAccount> = Api::namespaced(ctx.kube.clone(), &ns);
            match accounts.get_opt(name).await? {
                Some(acct) => acct,
                None => return Ok((AccountView::Missing, None, None)),
            }
        }
    };
    let check = crate::reconcile::account::usable(&acct, &ctx.config.terms_version)
        .and_then(|()| same_twilio_account(pn, &acct));
    let (view, api) = view_of(ctx, &acct, check).await;
    Ok((view, api, credits_balance(&acct)))
}

/// The number's own Twilio account must still be the account's (an approved account change
/// leaves the old numbers out of the new account's reach).
fn same_twilio_account(pn: &PhoneNumber, acct: &TelephonyAccount) -> Result<(), NotUsable> {
    let recorded = pn
        .status
        .as_ref()
        .filter(|s| s.sid.is_some())
        .and_then(|s| s.account_sid.as_deref());
    crate::reconcile::account::same_twilio_account(recorded, acct)
}

/// The view of `acct` given the decision's check of it (`usable` to act, `releasable` to delete).
async fn view_of(
    ctx: &Context,
    acct: &TelephonyAccount,
    check: Result<(), NotUsable>,
) -> (AccountView, Option<AccountApi>) {
    if let Err(nu) = check {
        return (
            AccountView::NotUsable {
                why: nu.why,
                transient: nu.transient,
                first_look_due: nu.first_look_due,
            },
            None,
        );
    }
    match access_for(ctx, acct).await {
        Ok(access) => {
            let account_sid = acct
                .status
                .as_ref()
                .and_then(|s| s.account_sid.clone())
                .unwrap_or_else(|| access.api.account_sid().to_string());
            (
                AccountView::Usable {
                    mode: access.mode,
                    account_sid,
                },
                Some(access.api),
            )
        }
        Err(e) => {
            let why = ReasonMessage::new(e.reason(), e.to_string());
            (
                AccountView::NotUsable {
                    why,
                    transient: e.is_transient(),
                    first_look_due: None,
                },
                None,
            )
        }
    }
}

/// Country and type the number has (or will have).
pub fn country_type(pn: &PhoneNumber) -> (Option<String>, Option<NumberType>) {
    let st = pn.status.as_ref();
    if let (Some(c), Some(t)) = (
        st.and_then(|s| s.country.clone()),
        st.and_then(|s| s.r#type),
    ) {
        return (Some(c), Some(t));
    }
    let e164 = st
        .and_then(|s| {
            s.phone_number
                .clone()
                .or_else(|| s.purchase_intent.as_ref().map(|i| i.phone_number.clone()))
        })
        .or_else(|| pn.spec.number.clone())
        .unwrap_or_default();
    country_and_type(&pn.spec, &e164, None)
}

/// The price quote: Managed from the rate card; BringYourOwn from the Pricing API (cached per
/// account and country). A transient Pricing API failure is an error only when the price guard
/// needs the price.
pub async fn price(
    ctx: &Context,
    api: &AccountApi,
    mode: AccountMode,
    pn: &PhoneNumber,
    now: Timestamp,
) -> Result<(Option<PriceQuote>, Option<ReasonMessage>), TwilioError> {
    let (Some(country), Some(t)) = country_type(pn) else {
        return Ok((
            None,
            Some(ReasonMessage::new(
                Reason::PriceUnknown,
                "the number's country is not known",
            )),
        ));
    };
    if mode == AccountMode::BringYourOwn
        && let Some(q) = fresh_recorded_quote(pn, now)
    {
        return Ok((Some(q), None));
    }
    match mode {
        AccountMode::Managed => Ok(rate_card_quote(&ctx.rate_card, &country, t)),
        AccountMode::BringYourOwn => match ctx
            .pricing
            .country(api, &country, DEFAULT_PRICING_TTL, now)
            .await
        {
            Ok(prices) => Ok(pricing_api_quote(&prices, &country, t)),
            Err(e)
                if e.is_retryable()
                    && pn.spec.max_monthly_price.is_some()
                    && pn.status.as_ref().is_none_or(|s| s.sid.is_none()) =>
            {
                Err(e)
            }
            Err(e) => Ok((
                None,
                Some(ReasonMessage::new(
                    Reason::PriceUnknown,
                    format!("the Pricing API answered: {e}"),
                )),
            )),
        },
    }
}

/// The Pricing API prices a recorded number's status shows, while they are younger than the
/// pricing cache's TTL: its fetch time is kept in status, so a restarted operator does not ask
/// the Pricing API again for prices it fetched an hour ago (the cache would keep them that long).
fn fresh_recorded_quote(pn: &PhoneNumber, now: Timestamp) -> Option<PriceQuote> {
    let status = pn.status.as_ref().filter(|s| s.sid.is_some())?;
    let quote = recorded_quote(status.pricing.as_ref()?)?;
    let age = now.duration_since(quote.fetched_at?);
    let ttl = jiff::SignedDuration::try_from(DEFAULT_PRICING_TTL).ok()?;
    (quote.source == PriceSource::TwilioPricingApi
        && age >= jiff::SignedDuration::ZERO
        && age < ttl)
        .then_some(quote)
}

/// Ownership from the account's snapshot, for the number the decision is about (spec.number
/// before purchase, or the bought number). Nothing for a search or an intent (the decision asks
/// for a targeted lookup there).
pub async fn ownership<T: TwilioPort>(
    inventory: &InventoryCache,
    api: &T,
    pn: &PhoneNumber,
    max_age: Duration,
) -> Result<Option<Ownership>, TwilioError> {
    let st = pn.status.clone().unwrap_or_default();
    let number = if st.sid.is_some() {
        st.phone_number.clone()
    } else if st.purchase_intent.is_none() {
        pn.spec.number.clone()
    } else {
        None
    };
    let Some(number) = number else {
        return Ok(None);
    };
    let snap = inventory.snapshot(api, max_age).await?;
    Ok(Some(Ownership {
        number: snap.get(&number),
        as_of: snap.fetched_at,
        targeted: false,
    }))
}

/// The older PhoneNumber of the same namespace and account that names `pn`'s exact number, if
/// any (a walk of the fresh cache's summaries, only for a `spec.number` not yet recorded).
pub fn claimed_by(store: &Store<CompactPhoneNumber>, pn: &PhoneNumber) -> Option<String> {
    let mine = pn.spec.number.as_deref()?;
    let (ns, me) = (pn.namespace(), pn.name_any());
    let me_key = claimant_key(&pn.metadata);
    store
        .state()
        .into_iter()
        .filter(|o| o.namespace() == ns && o.name_any() != me)
        .filter(|o| o.summary().account == pn.spec.account_ref.name)
        .filter(|o| o.summary().claimed_number() == Some(mine))
        .map(|o| claimant_key(o.meta()))
        .filter(|other| *other < me_key)
        .min()
        .map(|(_, name)| format!("PhoneNumber {name:?} of this namespace"))
}

/// The order in which claimants of one number win: the older first (ties: name order), so
/// exactly one of two wins.
fn claimant_key(meta: &ObjectMeta) -> (Option<Timestamp>, String) {
    (
        meta.creation_timestamp.as_ref().map(|t| t.0),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Observations for a decision with only the account known (validation, unusable account).
pub fn minimal(now: Timestamp, account: AccountView) -> Observed {
    Observed::new(now, account)
}

/// The account view for a deletion: [`crate::reconcile::account::releasable`] instead of
/// `usable`, so a number can be released through an account that is itself being deleted (it
/// deletes its PhoneNumbers first) or whose Managed terms lapsed (a release spends nothing) —
/// never through another Twilio account than the number's own.
/// The account that may hold the number for its quarantine window is returned too, unless it
/// is being deleted (it then releases at once).
pub async fn account_for_release(
    ctx: &Context,
    pn: &PhoneNumber,
) -> Result<(AccountView, Option<AccountApi>, Option<AccountHolder>), kube::Error> {
    let ns = pn.namespace().unwrap_or_default();
    let accounts: Api<TelephonyAccount> = Api::namespaced(ctx.kube.clone(), &ns);
    let Some(acct) = accounts.get_opt(&pn.spec.account_ref.name).await? else {
        return Ok((AccountView::Missing, None, None));
    };
    let check =
        crate::reconcile::account::releasable(&acct).and_then(|()| same_twilio_account(pn, &acct));
    let holder = acct
        .metadata
        .deletion_timestamp
        .is_none()
        .then(|| AccountHolder::of(&acct));
    let (view, api) = view_of(ctx, &acct, check).await;
    Ok((view, api, holder))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(fetched_at: &str, source: &str, sid: Option<&str>) -> PhoneNumber {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {"accountRef": {"name": "main"}, "number": "+14155550100"},
            "status": {"sid": sid, "phoneNumber": "+14155550100",
                "pricing": {"currency": "USD", "monthlyFee": "1.15", "inboundPerMinute": "0.0085",
                            "source": source, "fetchedAt": fetched_at}},
        }))
        .expect("a PhoneNumber")
    }

    #[test]
    fn recorded_prices_are_used_until_the_pricing_ttl_from_their_fetch() {
        let now: Timestamp = "2026-03-02T12:00:00Z".parse().unwrap();
        let pn = recorded("2026-03-02T11:00:00Z", "TwilioPricingAPI", Some("PN1"));
        let q = fresh_recorded_quote(&pn, now).expect("an hour old");
        assert_eq!(q.monthly_fee, Decimal::new(115, 2));
        assert_eq!(q.fetched_at, Some("2026-03-02T11:00:00Z".parse().unwrap()));
        // A day old: fetched again (through the shared cache).
        let stale = recorded("2026-03-01T11:00:00Z", "TwilioPricingAPI", Some("PN1"));
        assert_eq!(fresh_recorded_quote(&stale, now), None);
        // Not bought yet: the price guard always reads the Pricing API's current answer.
        let unbought = recorded("2026-03-02T11:00:00Z", "TwilioPricingAPI", None);
        assert_eq!(fresh_recorded_quote(&unbought, now), None);
        // Priced from the rate card (the account changed mode): not the Pricing API's.
        let card = recorded("2026-03-02T11:00:00Z", "RateCard", Some("PN1"));
        assert_eq!(fresh_recorded_quote(&card, now), None);
        // A fetch time in the future (a clock moved back) is not trusted.
        let future = recorded("2026-03-02T13:00:00Z", "TwilioPricingAPI", Some("PN1"));
        assert_eq!(fresh_recorded_quote(&future, now), None);
    }
}
