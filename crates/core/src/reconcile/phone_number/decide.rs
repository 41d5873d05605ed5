//! The top-level decision and the purchase path: validation, account, adoption, search, price
//! guard, intent, buy, recovery of an intent after a crash or an unknown outcome.
//!
//! Invariants: a number is bought only right after a status write that claims the attempt
//! (`RecordIntent` / `RetryBuy`, written with the read resourceVersion); the intent names one
//! E.164 number, so repeating a buy can never yield a second number; once `status.sid` is set the
//! number is never bought again; `Released` is final.

use super::status::{progressing, record_owned, set_purchased, stalled};
use super::validate::{country_of, validate};
use super::{AccountView, Action, Decision, Event, Observed, active};
use crate::api::{
    AccountMode, NumberSearch, Phase, PhoneNumber, PhoneNumberStatus, PurchaseIntent,
};
use crate::conditions::{ReasonMessage, money_with_currency, time};
use crate::reason::Reason;
use crate::reconcile::quarantine;
use crate::twilio::SearchQuery;
use jiff::Timestamp;
use kube_core::ResourceExt;

pub(crate) struct Ctx<'a> {
    pub pn: &'a PhoneNumber,
    pub obs: &'a Observed,
    pub generation: Option<i64>,
    pub now: Timestamp,
}

impl Ctx<'_> {
    pub fn wait(
        &self,
        status: PhoneNumberStatus,
        requeue_at: Option<Timestamp>,
        event: Option<Event>,
    ) -> Decision {
        Decision {
            action: Action::Wait,
            status,
            requeue_at,
            event,
        }
    }
    pub fn stall(&self, mut st: PhoneNumberStatus, why: ReasonMessage, phase: Phase) -> Decision {
        stalled(&mut st, &why, phase, self.generation, self.now);
        let event = Event::warning(why.reason.clone(), why.message.clone());
        // Stalled needs a person; the controller still looks again every resync period.
        self.wait(st, None, Some(event))
    }
}

/// Whether the operator has written a verdict on `pn` (its Ready condition).
fn has_verdict(pn: &PhoneNumber) -> bool {
    pn.status.as_ref().is_some_and(|s| {
        crate::conditions::get_condition(&s.conditions, crate::api::condition::READY).is_some()
    })
}

/// Decides the next step for a PhoneNumber that is not being deleted.
pub fn decide(pn: &PhoneNumber, obs: &Observed) -> Decision {
    let cx = Ctx {
        pn,
        obs,
        generation: pn.metadata.generation,
        now: obs.now,
    };
    let mut st = pn.status.clone().unwrap_or_default();
    st.observed_generation = cx.generation;

    if st.phase == Some(Phase::Released) {
        let why = ReasonMessage::new(
            Reason::Released,
            format!(
                "{} was released after its grace period and is never bought again; delete this PhoneNumber, or create a new one to get a new number",
                st.phone_number.as_deref().unwrap_or("the number")
            ),
        );
        stalled(&mut st, &why, Phase::Released, cx.generation, cx.now);
        return cx.wait(st, None, None);
    }

    let validated = match validate(&pn.spec) {
        Ok(v) => v,
        Err(why) => return cx.stall(st, why, Phase::Failed),
    };

    let account = &pn.spec.account_ref.name;
    let (mode, account_sid) = match &obs.account {
        AccountView::Missing => {
            let why = ReasonMessage::new(
                Reason::AccountNotFound,
                format!(
                    "TelephonyAccount {account:?} does not exist in namespace {:?}: create it, or fix spec.accountRef.name (references never cross namespaces)",
                    pn.namespace().unwrap_or_default()
                ),
            );
            // GitOps tools often apply a PhoneNumber before its account: that resolves itself
            // (Reconciling, not Stalled); the account's creation wakes this object.
            st.phase.get_or_insert(Phase::Pending);
            progressing(&mut st, &why, cx.generation, cx.now);
            return cx.wait(st, None, None);
        }
        AccountView::NotUsable {
            transient: true,
            first_look_due: Some(due),
            ..
        } if cx.now < *due && !has_verdict(pn) => {
            return Decision {
                action: Action::AwaitAccountFirstLook,
                status: st,
                requeue_at: Some(*due),
                event: None,
            };
        }
        AccountView::NotUsable {
            why,
            transient: true,
            ..
        } => {
            let why = ReasonMessage::new(
                Reason::WaitingForAccount,
                format!("waiting for TelephonyAccount {account:?}: {}", why.message),
            );
            progressing(&mut st, &why, cx.generation, cx.now);
            return cx.wait(st, None, None);
        }
        AccountView::NotUsable {
            why,
            transient: false,
            ..
        } => {
            let why = ReasonMessage::new(
                why.reason.clone(),
                format!(
                    "TelephonyAccount {account:?} cannot be used: {}",
                    why.message
                ),
            );
            return cx.stall(st, why, Phase::Pending);
        }
        AccountView::Usable { mode, account_sid } => (*mode, account_sid.clone()),
    };

    if let Some(why) = &obs.refusal {
        return cx.stall(st, why.clone(), Phase::Failed);
    }
    if st.sid.is_some() {
        return active::decide_owned(&cx, st, mode, &account_sid);
    }
    if let Some(intent) = st.purchase_intent.as_deref().cloned() {
        return super::recover::recover(&cx, st, intent, mode, &account_sid);
    }
    pending(&cx, st, mode, &account_sid, validated.max_monthly_price)
}

fn search_query(s: &NumberSearch) -> SearchQuery {
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
        page_size: None,
    }
}

pub(crate) fn describe_search(s: &NumberSearch) -> String {
    let mut parts = vec![format!("{} {}", s.country, s.r#type)];
    if let Some(a) = s.area_code {
        parts.push(format!("area code {a}"));
    }
    if let Some(c) = &s.contains {
        parts.push(format!("containing {c:?}"));
    }
    if let Some(r) = &s.in_region {
        parts.push(format!("in region {r}"));
    }
    if let Some(l) = &s.in_locality {
        parts.push(format!("in {l}"));
    }
    if let Some(p) = &s.in_postal_code {
        parts.push(format!("postal code {p}"));
    }
    parts.join(", ")
}

/// Nothing bought, nothing in flight: adopt, or pick a number and record the intent.
fn pending(
    cx: &Ctx,
    mut st: PhoneNumberStatus,
    mode: AccountMode,
    account_sid: &str,
    max_price: Option<rust_decimal::Decimal>,
) -> Decision {
    let spec = &cx.pn.spec;
    let obs = cx.obs;
    let number = if let Some(n) = &spec.number {
        if let Some(other) = &obs.claimed_by {
            let why = ReasonMessage::new(
                Reason::NumberClaimed,
                format!("{n} is already claimed by {other}: one number, one PhoneNumber"),
            );
            return cx.stall(st, why, Phase::Failed);
        }
        match &obs.owned {
            None => return cx.wait_for(Action::Lookup { number: n.clone() }, st),
            Some(o) => {
                if let Some(owned) = &o.number {
                    let mut st2 = st.clone();
                    record_owned(&mut st2, spec, owned, account_sid, None, true, cx.now);
                    let held = obs
                        .held
                        .as_ref()
                        .filter(|h| quarantine::adopts(h, n, &owned.sid));
                    let event = match held {
                        Some(h) => {
                            // The deleted PhoneNumber's renewal cycle goes on (Managed).
                            let auto = spec.renewal.as_ref().is_none_or(|r| r.auto_renew);
                            if mode == AccountMode::Managed
                                && let Some((bought, renewal)) =
                                    quarantine::carried_renewal(h, auto)
                            {
                                st2.purchased_at = Some(super::status::micro(bought));
                                st2.renewal = Some(renewal);
                            }
                            Event::normal(
                                Reason::HeldNumberAdopted,
                                format!(
                                    "{n} was held by the account after PhoneNumber {:?} was deleted: adopted, its release is cancelled",
                                    h.deleted_from
                                ),
                            )
                        }
                        None => Event::normal(
                            Reason::Adopted,
                            format!("{n} is already in account {account_sid}: adopted, not bought"),
                        ),
                    };
                    let d = active::confirm_status(cx, st2, mode, account_sid);
                    return Decision {
                        action: Action::Confirm {
                            number: owned.clone(),
                            settle: false,
                            adopted: true,
                        },
                        status: d.status,
                        requeue_at: d.requeue_at,
                        event: Some(event),
                    };
                }
            }
        }
        n.clone()
    } else if let Some(search) = &spec.search {
        if refused_at_this_generation(cx).is_some() {
            // No new search either (see below).
            return cx.wait(cx.pn.status.clone().unwrap_or_default(), None, None);
        }
        // The price is the search's country and type: guard it before searching (a refusal
        // then names no particular number, so it reads the same at every resync).
        let what = format!("a number ({})", describe_search(search));
        if let Some(d) = price_guard(cx, &st, &what, &search.country, mode, max_price) {
            return d;
        }
        // Credits short for any number of this search: no search either.
        if mode == AccountMode::Managed
            && let (Some(q), Some(balance)) = (obs.price.as_ref(), obs.credits_balance)
            && balance < q.monthly_fee
        {
            return cx.stall(
                st,
                insufficient_credits(&what, balance, q.monthly_fee),
                Phase::Failed,
            );
        }
        let Some(found) = &obs.search else {
            return cx.wait_for(Action::Search(search_query(search)), st);
        };
        let pick = found.iter().find(|a| {
            !obs.claimed_numbers.contains(&a.phone_number)
                && obs
                    .owned
                    .as_ref()
                    .and_then(|o| o.number.as_ref())
                    .is_none_or(|n| n.phone_number != a.phone_number)
        });
        match pick {
            Some(a) => a.phone_number.clone(),
            None if obs.search_contended || !found.is_empty() => {
                let why = ReasonMessage::new(
                    Reason::WaitingForNumbers,
                    format!(
                        "every number found ({}) is being bought by another PhoneNumber; searching again shortly",
                        describe_search(search)
                    ),
                );
                let soon = cx
                    .now
                    .checked_add(jiff::SignedDuration::from_secs(2))
                    .unwrap_or(Timestamp::MAX);
                // Transient: no status write (under contention it would cost a write per number).
                let _ = st;
                let unchanged = cx.pn.status.clone().unwrap_or_default();
                return cx.wait(
                    unchanged,
                    Some(soon),
                    Some(Event::normal(why.reason.clone(), why.message)),
                );
            }
            None => {
                let why = ReasonMessage::new(
                    Reason::NoNumbersAvailable,
                    format!(
                        "Twilio has no available number matching the search ({}): widen spec.search (another area code, fewer filters)",
                        describe_search(search)
                    ),
                );
                return cx.stall(st, why, Phase::Failed);
            }
        }
    } else {
        // `validate` guarantees exactly one of number/search.
        return cx.stall(
            st,
            ReasonMessage::new(
                Reason::InvalidSelection,
                "set exactly one of spec.number and spec.search",
            ),
            Phase::Failed,
        );
    };

    // Price guard and (Managed) the amount to hold.
    let quote = obs.price.as_ref();
    let country = country_of(&number).map(|(c, _)| c).unwrap_or("unknown");
    if let Some(d) = price_guard(cx, &st, &number, country, mode, max_price) {
        return d;
    }

    // Twilio refused to sell this number for a reason only a spec change can cure (owned by
    // someone else, invalid, compliance missing): stay Stalled until the spec changes, instead
    // of writing a new intent (and calling Twilio) on every resync.
    if refused_at_this_generation(cx).is_some() {
        return cx.wait(cx.pn.status.clone().unwrap_or_default(), None, None);
    }

    let charge = (mode == AccountMode::Managed)
        .then(|| quote.map(|q| q.monthly_fee))
        .flatten();
    // Managed: credits the account's ledger shows to be short would refuse the hold; say so
    // without recording an intent (no write, no hold) until the balance (or the price) changes.
    if let (Some(needed), Some(balance)) = (charge, obs.credits_balance)
        && balance < needed
    {
        return cx.stall(
            st,
            insufficient_credits(&number, balance, needed),
            Phase::Failed,
        );
    }

    st.phase = Some(Phase::Purchasing);
    st.purchase_intent = Some(Box::new(PurchaseIntent {
        phone_number: number.clone(),
        account_sid: account_sid.to_string(),
        started_at: time(cx.now),
        attempts: 1,
        buy_sent: false,
    }));
    if let Some(q) = quote {
        st.pricing = Some(super::status::pricing_since(st.pricing.as_ref(), q));
    }
    set_purchased(
        &mut st,
        false,
        Reason::Purchasing,
        &format!("buying {number}"),
        cx.generation,
        cx.now,
    );
    progressing(
        &mut st,
        &ReasonMessage::new(
            Reason::Purchasing,
            format!("buying {number} in account {account_sid}"),
        ),
        cx.generation,
        cx.now,
    );
    Decision {
        action: Action::RecordIntent { number, charge },
        status: st,
        requeue_at: None,
        event: None,
    }
}

/// The price guard before an intent: Managed needs a rate-card price; `spec.maxMonthlyPrice`
/// needs a known price at most the limit. `what` names the number (or the search).
fn price_guard(
    cx: &Ctx,
    st: &PhoneNumberStatus,
    what: &str,
    country: &str,
    mode: AccountMode,
    max_price: Option<rust_decimal::Decimal>,
) -> Option<Decision> {
    let quote = cx.obs.price.as_ref();
    if mode == AccountMode::Managed && quote.is_none() {
        let why = ReasonMessage::new(
            Reason::NotOnRateCard,
            format!(
                "the platform's rate card has no price for {what} (country {country}); numbers of this country cannot be bought in a Managed account"
            ),
        );
        return Some(cx.stall(st.clone(), why, Phase::Failed));
    }
    let max = max_price?;
    match quote {
        None => {
            let detail = cx
                .obs
                .price_problem
                .as_ref()
                .map(|p| p.message.clone())
                .unwrap_or_else(|| "no price is published for this country and type".into());
            let why = ReasonMessage::new(
                Reason::PriceUnknown,
                format!(
                    "cannot check spec.maxMonthlyPrice for {what}: {detail}; remove the limit to buy without a known price"
                ),
            );
            Some(cx.stall(st.clone(), why, Phase::Failed))
        }
        Some(q) if q.monthly_fee > max => {
            let why = ReasonMessage::new(
                Reason::PriceAboveLimit,
                format!(
                    "the monthly fee of {what} is {} ({}), above spec.maxMonthlyPrice {}: nothing was bought; raise the limit or choose another number",
                    money_with_currency(q.monthly_fee, &q.currency),
                    q.source.as_str(),
                    money_with_currency(max, &q.currency)
                ),
            );
            Some(cx.stall(st.clone(), why, Phase::Failed))
        }
        Some(_) => None,
    }
}

/// Purchase refusals a retry cannot cure without a change to the PhoneNumber's spec (for
/// `PurchaseFailed`: every attempt was sent and nothing arrived; the message says to recreate).
const SPEC_BOUND_REFUSALS: &[Reason] = &[
    Reason::NumberUnavailable,
    Reason::InvalidNumber,
    Reason::InvalidAreaCode,
    Reason::AddressRequired,
    Reason::BundleRequired,
    Reason::PurchaseFailed,
];

/// The Stalled reason for a purchase the credits cannot pay for.
pub(crate) fn insufficient_credits(
    number: &str,
    balance: rust_decimal::Decimal,
    needed: rust_decimal::Decimal,
) -> ReasonMessage {
    ReasonMessage::new(
        Reason::InsufficientCredits,
        format!(
            "not enough credits to buy {number}: balance {balance}, needed {needed}; top up the account's credits"
        ),
    )
}

/// The Stalled reason, when the object is Stalled by such a refusal for its current generation.
fn refused_at_this_generation(cx: &Ctx<'_>) -> Option<Reason> {
    let status = cx.pn.status.as_ref()?;
    if status.phase != Some(Phase::Failed) {
        return None;
    }
    let stalled =
        crate::conditions::get_condition(&status.conditions, crate::api::condition::STALLED)?;
    (stalled.status == "True"
        && stalled.observed_generation == cx.generation
        && SPEC_BOUND_REFUSALS.contains(&Reason::parse(&stalled.reason)))
    .then(|| Reason::parse(&stalled.reason))
}

impl Ctx<'_> {
    /// An action that only gathers a fact: the status is left as read (no write).
    pub fn wait_for(&self, action: Action, st: PhoneNumberStatus) -> Decision {
        let _ = &st;
        Decision {
            action,
            status: self.pn.status.clone().unwrap_or_default(),
            requeue_at: None,
            event: None,
        }
    }
}
