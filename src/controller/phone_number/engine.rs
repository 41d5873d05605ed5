//! Drives the pure decisions of `crate::reconcile::phone_number`: decide → perform the one action
//! → add its outcome to the observations → decide again, until the decision is to wait.
//!
//! Exactly-once purchase lives in the order of the steps (docs/exactly-once-purchase.md):
//! `WriteIntent` (status with resourceVersion; a conflict stops here) → `Hold` (Managed) → `Buy`
//! → `Settle` (Managed) → `WriteActive`. A crash between any two steps leaves an intent that the
//! next reconcile resolves with a lookup before any new buy. Tests inject such crashes through
//! `Env::crash`.
//!
//! One number, one owner: before its intent is written (or an owned number adopted), the number
//! is claimed for this PhoneNumber (`Effects::claim`: one API create only one claimant wins,
//! across namespaces, accounts over the same Twilio account, and replicas); a number another
//! PhoneNumber claims is skipped (search) or refused (`NumberClaimed`), and a found number is
//! confirmed only for its claimant. Claims go when the number does.

use super::effects::{Effects, WriteError};
use crate::api::{ChargeKind, PhoneNumber};
use crate::billing::charge_key;
use crate::clock::Clock;
use crate::controller::claims::{AccountHolder, ClaimOutcome, HoldOutcome as NumberHold};
use crate::controller::conditions::Reason;
use crate::controller::conditions::ReasonMessage;
use crate::controller::credits::CreditsError;
use crate::controller::inventory::InventoryCache;
use crate::controller::metrics::Metrics;
use crate::reconcile::phone_number::{
    Action, BuyFailure, CleanupAction, CleanupObserved, Observed, Ownership, RenewalOutcome,
    attempt_sent, config, decide, decide_cleanup,
};
use crate::twilio::{AccountApi, IncomingFilter, PurchaseRequest, TwilioError, TwilioPort, codes};
use jiff::Timestamp;
use kube::ResourceExt;

/// Most decide/act rounds in one reconcile (a purchase takes 3–5; anything longer requeues).
pub const MAX_ROUNDS: usize = 12;

/// The steps of a purchase where a crash is simulated in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Search,
    Lookup,
    WriteIntent,
    Hold,
    Buy,
    Settle,
    WriteActive,
    ReleaseHold,
    WriteAbandon,
    SyncConfig,
    Renew,
    Release,
    WriteStatus,
}

/// Why a reconcile stopped early (retried by the controller with backoff).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("status write: {0}")]
    Write(#[from] WriteError),
    #[error("twilio: {0}")]
    Twilio(#[from] TwilioError),
    #[error("credits: {0}")]
    Credits(#[from] CreditsError),
    #[error("{0}")]
    Blocked(String),
    #[error("simulated crash before {0:?}")]
    Crashed(Step),
    #[error("number claim: {0}")]
    Claim(kube::Error),
}

impl EngineError {
    /// A write conflict: requeue at once (someone else changed the object).
    pub fn is_conflict(&self) -> bool {
        matches!(self, EngineError::Write(WriteError::Conflict))
    }
}

/// Everything a reconcile of one number acts through.
pub struct Env<'a, E: Effects, T: TwilioPort = AccountApi> {
    pub effects: &'a E,
    /// The Twilio port (`AccountApi`, or a fake in tests).
    pub api: &'a T,
    pub inventory: &'a InventoryCache,
    pub clock: &'a dyn Clock,
    pub metrics: Option<&'a Metrics>,
    /// Test hook: return `true` to stop ("crash") just before a step.
    pub crash: Option<&'a (dyn Fn(Step) -> bool + Send + Sync)>,
}

impl<E: Effects, T: TwilioPort> Env<'_, E, T> {
    fn checkpoint(&self, step: Step) -> Result<(), EngineError> {
        match self.crash {
            Some(f) if f(step) => Err(EngineError::Crashed(step)),
            _ => Ok(()),
        }
    }
    /// An action succeeded (`actions_total{action, result="success"}`).
    fn count(&self, action: &str) {
        self.count_result(action, "success");
    }
    /// An action ended with `result`.
    fn count_result(&self, action: &str, result: &str) {
        if let Some(m) = self.metrics {
            m.action_result(action, result);
        }
    }
}
// The reason for a permanent Twilio refusal is a decision: it lives in the core.
pub use crate::reconcile::phone_number::refusal_of;

async fn lookup<T: TwilioPort>(
    api: &T,
    number: &str,
    now: Timestamp,
) -> Result<Ownership, TwilioError> {
    let filter = IncomingFilter {
        phone_number: Some(number.to_string()),
        ..Default::default()
    };
    let found = api.list_incoming(&filter).await?;
    Ok(Ownership {
        number: found.into_iter().find(|n| n.phone_number == number),
        as_of: now,
        targeted: true,
    })
}

/// Claims `number` for `pn` in the port's Twilio account. `false` (and the observation says who
/// holds it) when another live PhoneNumber does: a search skips it, an exact number is refused.
async fn claim<E: Effects, T: TwilioPort>(
    env: &Env<'_, E, T>,
    pn: &PhoneNumber,
    number: &str,
    obs: &mut Observed,
) -> Result<bool, EngineError> {
    match env
        .effects
        .claim(pn, env.api.account_sid(), number)
        .await
        .map_err(EngineError::Claim)?
    {
        ClaimOutcome::Ours => Ok(true),
        ClaimOutcome::Adopted(hold) => {
            // Taken back from the account's hold: the decision carries the hold (its renewal
            // cycle) into the adoption.
            obs.held = Some(hold);
            Ok(true)
        }
        ClaimOutcome::Releasing => Err(EngineError::Blocked(format!(
            "{number} is being released by its account (its hold after a PhoneNumber's deletion ended); looking again shortly"
        ))),
        ClaimOutcome::HeldByAccount(account) => {
            let same_namespace = account.namespace == pn.namespace().unwrap_or_default();
            refuse_claimed(pn, number, obs, false, || {
                if same_namespace {
                    format!(
                        "TelephonyAccount {:?}, which holds it after its PhoneNumber was deleted",
                        account.name
                    )
                } else {
                    "an account of another namespace using the same Twilio account".to_string()
                }
            });
            Ok(false)
        }
        ClaimOutcome::Taken(holder) => {
            let same_namespace = holder.namespace == pn.namespace().unwrap_or_default();
            // Another namespace's objects are not named to this one.
            refuse_claimed(pn, number, obs, true, || {
                if same_namespace {
                    format!("PhoneNumber {:?} of this namespace", holder.name)
                } else {
                    "a PhoneNumber of another namespace using the same Twilio account".to_string()
                }
            });
            Ok(false)
        }
    }
}

/// Records that someone else holds `number`: a search skips it, an exact number is refused
/// naming `who` (`elsewhere`: a PhoneNumber's recorded claim, so an intent for it is abandoned).
fn refuse_claimed(
    pn: &PhoneNumber,
    number: &str,
    obs: &mut Observed,
    elsewhere: bool,
    who: impl FnOnce() -> String,
) {
    obs.claimed_numbers.push(number.to_string());
    if elsewhere && !obs.claimed_elsewhere.iter().any(|n| n == number) {
        obs.claimed_elsewhere.push(number.to_string());
    }
    if let Some(found) = obs.search.as_mut() {
        found.retain(|a| a.phone_number != number);
        obs.search_contended |= found.is_empty();
    }
    if pn.spec.number.as_deref() == Some(number) && obs.claimed_by.is_none() {
        obs.claimed_by = Some(who());
    }
}

fn uid(pn: &PhoneNumber) -> String {
    pn.uid()
        .unwrap_or_else(|| format!("{}/{}", pn.namespace().unwrap_or_default(), pn.name_any()))
}

/// Runs one reconcile of a PhoneNumber that is not being deleted. Returns the object as last
/// written and the next deadline to look again at.
pub async fn drive<E: Effects, T: TwilioPort>(
    env: &Env<'_, E, T>,
    mut pn: PhoneNumber,
    mut obs: Observed,
) -> Result<(PhoneNumber, Option<Timestamp>), EngineError> {
    // The number this reconcile has claimed (the claim is taken once per number).
    let mut claimed: Option<String> = None;
    for _ in 0..MAX_ROUNDS {
        obs.now = env.clock.now();
        let d = decide(&pn, &obs);
        let key1 = charge_key(&uid(&pn), 1);
        match d.action {
            Action::Wait => {
                if pn.status.as_ref() != Some(&d.status) {
                    env.checkpoint(Step::WriteStatus)?;
                    pn = env.effects.write_status(&pn, &d.status).await?;
                    if let Some(ev) = &d.event {
                        env.effects.event(&pn, ev).await;
                    }
                }
                return Ok((pn, d.requeue_at));
            }
            // Nothing written: the account's first status wakes this object.
            Action::AwaitAccountFirstLook => return Ok((pn, d.requeue_at)),
            Action::Search(q) => {
                env.checkpoint(Step::Search)?;
                match env.inventory.search(env.api, &q, &uid(&pn)).await {
                    Ok(found) => {
                        obs.search_contended = found.free.is_empty() && found.total > 0;
                        obs.search = Some(found.free);
                    }
                    Err(e) if e.is_retryable() => return Err(e.into()),
                    Err(e) => obs.refusal = Some(refusal_of(&e)),
                }
            }
            Action::Lookup { number } => {
                env.checkpoint(Step::Lookup)?;
                match lookup(env.api, &number, obs.now).await {
                    Ok(o) => obs.owned = Some(o),
                    Err(e) if e.is_auth() => obs.refusal = Some(refusal_of(&e)),
                    Err(e) => {
                        // A buy of this attempt was sent: record that before giving up this
                        // reconcile, so the attempt still counts (best effort; the lookup's
                        // error is what is reported).
                        if obs.buy_sent
                            && let Some(st) = attempt_sent(pn.status.as_ref())
                        {
                            let _ = env.effects.write_status(&pn, &st).await;
                        }
                        return Err(e.into());
                    }
                }
            }
            Action::RecordIntent { number, charge } | Action::RetryBuy { number, charge } => {
                // Two PhoneNumbers of this operator never pick the same number.
                if !env
                    .inventory
                    .reserve(env.api.account_sid(), &number, &uid(&pn))
                {
                    obs.claimed_numbers.push(number.clone());
                    if let Some(found) = obs.search.as_mut() {
                        found.retain(|a| a.phone_number != number);
                        obs.search_contended |= found.is_empty();
                    }
                    continue;
                }
                // ... nor does any other PhoneNumber, of any namespace or replica.
                let was_held = obs.held.is_some();
                if !claim(env, &pn, &number, &mut obs).await? {
                    env.inventory
                        .unreserve(env.api.account_sid(), &number, &uid(&pn));
                    continue;
                }
                claimed = Some(number.clone());
                if !was_held && obs.held.is_some() {
                    // The account holds this number: it is owned, adopt it (a targeted lookup
                    // first), never buy it.
                    obs.owned = None;
                    continue;
                }
                env.checkpoint(Step::WriteIntent)?;
                pn = env.effects.write_status(&pn, &d.status).await?;
                // A new attempt: nothing of it sent yet.
                obs.buy_sent = false;
                if let Some(amount) = charge {
                    env.checkpoint(Step::Hold)?;
                    match env
                        .effects
                        .hold(&pn, &key1, amount, ChargeKind::Purchase)
                        .await
                    {
                        Ok(_) => {}
                        Err(CreditsError::InsufficientCredits { balance, needed }) => {
                            obs.buy_failure = Some(BuyFailure::NoCredits {
                                message: format!("balance {balance}, needed {needed}"),
                            });
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                env.checkpoint(Step::Buy)?;
                let req = PurchaseRequest {
                    phone_number: Some(number.clone()),
                    area_code: None,
                    config: config::desired(&pn.spec),
                };
                match env.api.buy(&req).await {
                    Ok(bought) => {
                        env.count("purchase");
                        env.inventory
                            .note_purchased(env.api.account_sid(), bought.clone());
                        obs.owned = Some(Ownership {
                            number: Some(bought),
                            as_of: env.clock.now(),
                            targeted: true,
                        });
                        obs.buy_failure = None;
                    }
                    Err(e) if e.is_outcome_unknown() => {
                        // Never retried blindly: the next round looks the number up. The buy
                        // was sent, so this attempt counts.
                        env.count_result("purchase", "outcome_unknown");
                        obs.owned = None;
                        obs.buy_failure = None;
                        obs.buy_sent = true;
                    }
                    Err(e) if e.is_retryable() => {
                        env.count_result("purchase", "retryable_error");
                        return Err(e.into());
                    }
                    Err(e) => {
                        env.count_result("purchase", "refused");
                        obs.owned = obs.owned.filter(|o| o.targeted);
                        obs.buy_failure = Some(BuyFailure::Refused {
                            code: e.code(),
                            message: e.message.clone(),
                        });
                    }
                }
            }
            Action::Confirm {
                number,
                settle,
                adopted,
            } => {
                // Adopted, or found after a crash: confirmed only for the number's claimant.
                if claimed.as_deref() != Some(number.phone_number.as_str()) {
                    let was_held = obs.held.is_some();
                    if !claim(env, &pn, &number.phone_number, &mut obs).await? {
                        if !adopted {
                            // Someone else's number: not this object's purchase.
                            obs.owned = Some(Ownership {
                                number: None,
                                as_of: env.clock.now(),
                                targeted: true,
                            });
                        }
                        continue;
                    }
                    claimed = Some(number.phone_number.clone());
                    if !was_held && obs.held.is_some() {
                        // Taken back from the account's hold: decide again with it.
                        continue;
                    }
                }
                if settle {
                    env.checkpoint(Step::Settle)?;
                    match env.effects.settle(&pn, &key1, &number.phone_number).await {
                        Ok(()) | Err(CreditsError::UnknownKey { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                env.checkpoint(Step::WriteActive)?;
                pn = env.effects.write_status(&pn, &d.status).await?;
                // Numbers claimed for attempts that did not end in this one are free again.
                env.effects
                    .release_claims(
                        &pn,
                        Some((env.api.account_sid(), number.phone_number.as_str())),
                    )
                    .await
                    .map_err(EngineError::Claim)?;
                // Recorded in status: the reservation has done its job.
                env.inventory.unreserve_all(&uid(&pn));
                if adopted {
                    env.count("adoption");
                    env.inventory
                        .note_purchased(env.api.account_sid(), number.clone());
                }
                if let Some(ev) = &d.event {
                    env.effects.event(&pn, ev).await;
                }
                obs.buy_failure = None;
                obs.owned = Some(Ownership {
                    number: Some(number),
                    as_of: env.clock.now(),
                    targeted: true,
                });
            }
            Action::Abandon { release_hold } => {
                if let Some(i) = pn.status.as_ref().and_then(|s| s.purchase_intent.as_ref()) {
                    env.inventory
                        .unreserve(env.api.account_sid(), &i.phone_number, &uid(&pn));
                }
                if release_hold {
                    env.checkpoint(Step::ReleaseHold)?;
                    env.effects.release_hold(&pn, &key1).await?;
                }
                env.checkpoint(Step::WriteAbandon)?;
                pn = env.effects.write_status(&pn, &d.status).await?;
                env.effects
                    .release_claims(&pn, None)
                    .await
                    .map_err(EngineError::Claim)?;
                if let Some(ev) = &d.event {
                    env.effects.event(&pn, ev).await;
                }
                return Ok((pn, d.requeue_at));
            }
            Action::SyncConfig { sid, diff } => {
                env.checkpoint(Step::SyncConfig)?;
                match env.api.update_incoming(&sid, &diff).await {
                    Ok(updated) => {
                        env.count("config_sync");
                        env.inventory
                            .note_purchased(env.api.account_sid(), updated.clone());
                        obs.owned = Some(Ownership {
                            number: Some(updated),
                            as_of: env.clock.now(),
                            targeted: true,
                        });
                        if let Some(ev) = &d.event {
                            env.effects.event(&pn, ev).await;
                        }
                    }
                    Err(e) if e.is_retryable() || e.is_outcome_unknown() => return Err(e.into()),
                    Err(e) if e.is_not_found() => {
                        obs.owned = Some(Ownership {
                            number: None,
                            as_of: env.clock.now(),
                            targeted: true,
                        });
                    }
                    Err(e) => {
                        let mut why = refusal_of(&e);
                        if why.reason == Reason::TwilioRefused {
                            why.reason = Reason::ConfigRejected;
                        }
                        obs.sync_failure = Some(why);
                    }
                }
            }
            Action::Renew {
                period,
                amount,
                due: _,
            } => {
                env.checkpoint(Step::Renew)?;
                let key = charge_key(&uid(&pn), period);
                let number = pn
                    .status
                    .as_ref()
                    .and_then(|s| s.phone_number.clone())
                    .unwrap_or_default();
                match env
                    .effects
                    .hold(&pn, &key, amount, ChargeKind::Renewal)
                    .await
                {
                    Ok(_) => {
                        env.effects.settle(&pn, &key, &number).await?;
                        env.count("renewal");
                        obs.renewal = Some(RenewalOutcome::Renewed { period });
                    }
                    Err(CreditsError::InsufficientCredits { balance, needed }) => {
                        env.count_result("renewal", "insufficient_credits");
                        obs.renewal = Some(RenewalOutcome::Refused(ReasonMessage::new(
                            Reason::InsufficientCredits,
                            format!("credits balance {balance}, renewal needs {needed}"),
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Action::Lapse { sid } => {
                env.checkpoint(Step::Release)?;
                match env.api.release(&sid).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
                env.count("lapse");
                if let Some(n) = pn.status.as_ref().and_then(|s| s.phone_number.clone()) {
                    env.inventory.note_released(env.api.account_sid(), &n);
                }
                env.inventory.unreserve_all(&uid(&pn));
                env.effects
                    .release_claims(&pn, None)
                    .await
                    .map_err(EngineError::Claim)?;
                obs.released = true;
            }
        }
    }
    // Too many rounds: look again soon (each round made progress or gathered a fact).
    Ok((pn, Some(env.clock.now())))
}

/// What a deletion acts through.
pub struct CleanupEnv<'a, E: Effects, T: TwilioPort = AccountApi> {
    pub effects: &'a E,
    /// `None` when the account cannot be reached (then only Retain, skip-release or
    /// nothing-bought can complete).
    pub api: Option<&'a T>,
    /// The account that may hold the number for its quarantine window (`None`: it is being
    /// deleted, or gone).
    pub account: Option<&'a AccountHolder>,
    pub inventory: &'a InventoryCache,
    pub clock: &'a dyn Clock,
    pub metrics: Option<&'a Metrics>,
}

/// Runs deletion: returns when the finalizer may be removed.
pub async fn drive_cleanup<E: Effects, T: TwilioPort>(
    env: &CleanupEnv<'_, E, T>,
    pn: &PhoneNumber,
    mut obs: CleanupObserved,
) -> Result<(), EngineError> {
    let CleanupEnv {
        effects,
        api,
        account,
        inventory,
        clock,
        metrics,
    } = *env;
    for _ in 0..MAX_ROUNDS {
        match decide_cleanup(pn, &obs) {
            CleanupAction::Done {
                release_hold,
                event,
            } => {
                // Gone (released, retained or never bought): a PhoneNumber re-created for the
                // same number must not wait for this one's reservation.
                inventory.unreserve_all(&uid(pn));
                effects
                    .release_claims(pn, None)
                    .await
                    .map_err(EngineError::Claim)?;
                if release_hold {
                    match effects.release_hold(pn, &charge_key(&uid(pn), 1)).await {
                        Ok(())
                        | Err(CreditsError::UnknownKey { .. })
                        | Err(CreditsError::AccountNotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                if let Some((reason, note)) = event {
                    // The reason's own severity (ReleaseSkipped is a Warning).
                    let ev = crate::reconcile::phone_number::Event::of(reason, note);
                    effects.event(pn, &ev).await;
                }
                return Ok(());
            }
            CleanupAction::Blocked(why) => {
                effects
                    .event(
                        pn,
                        &crate::reconcile::phone_number::Event::warning(
                            why.reason.clone(),
                            why.message.clone(),
                        ),
                    )
                    .await;
                return Err(EngineError::Blocked(why.message));
            }
            CleanupAction::Lookup { number } => {
                let api = api
                    .ok_or_else(|| EngineError::Blocked("the account cannot be reached".into()))?;
                obs.owned = Some(lookup(api, &number, clock.now()).await?);
            }
            CleanupAction::Hold(hold) => {
                let Some(account) = account else {
                    // No account to hold it (not expected here): release at once.
                    obs.hold_window = jiff::SignedDuration::ZERO;
                    continue;
                };
                match effects
                    .hold_number(pn, account, &hold)
                    .await
                    .map_err(EngineError::Claim)?
                {
                    NumberHold::Held(h) => {
                        if let Some(m) = metrics {
                            m.action("hold");
                        }
                        obs.held = Some(h);
                    }
                    NumberHold::ClaimedElsewhere => obs.claimed_elsewhere = true,
                }
            }
            CleanupAction::Release { sid, number } => {
                let api = api
                    .ok_or_else(|| EngineError::Blocked("the account cannot be reached".into()))?;
                match api.release(&sid).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) if e.code() == Some(codes::AUTHENTICATION) => {
                        return Err(EngineError::Blocked(format!(
                            "cannot release {number}: Twilio refused the credentials; fix them, or set the annotation {}=\"true\"",
                            crate::api::SKIP_RELEASE_ANNOTATION
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
                if let Some(m) = metrics {
                    m.action("release");
                }
                inventory.note_released(api.account_sid(), &number);
                obs.released = true;
            }
        }
    }
    Err(EngineError::Blocked("deletion did not converge".into()))
}
