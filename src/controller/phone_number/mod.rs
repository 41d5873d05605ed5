//! The PhoneNumber controller: buys (exactly once), adopts, configures, renews and releases the
//! numbers declared as PhoneNumbers. Decisions are in `crate::reconcile::phone_number`; `engine`
//! performs them; `observe` gathers their inputs; `effects` is the Kubernetes side (status writes
//! with optimistic concurrency, credits, events) behind a trait so tests can drive the steps.
//!
//! Watches PhoneNumbers (the configured namespaces, or all; label selector applied) and
//! TelephonyAccounts, mapping an account change (connected, credits topped up, credentials
//! fixed) to the PhoneNumbers of the same namespace whose `spec.accountRef.name` names it. With a
//! namespace list, one controller runs per namespace (joined). Requeues at the next deadline
//! (renewal, grace) through `ctx.clock.real_until`, and at least every resync period for drift.

mod claim_index;
pub mod effects;
pub mod engine;
pub mod observe;

#[cfg(all(test, feature = "sandbox"))]
mod tests;

use super::Context;
use super::backoff::Failures;
use super::compact_phone_number::CompactPhoneNumber;
use crate::api::{FINALIZER, PhoneNumber, TelephonyAccount};
use crate::reconcile::phone_number::{AccountView, CleanupObserved, validate::validate};
use effects::KubeEffects;
use engine::{EngineError, Env};
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::reflector::{self, ObjectRef, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Kind label for metrics.
const KIND: &str = "PhoneNumber";

/// Why a reconcile failed (retried with per-object exponential backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("object has no namespace")]
    NoNamespace,
}

/// Shared state of one controller run.
pub struct Data {
    pub ctx: Arc<Context>,
    /// The watched PhoneNumbers, each compact (decoded by the reconcile that reads it).
    pub store: Store<CompactPhoneNumber>,
    /// The TelephonyAccounts of the watched namespaces (what a recorded number reads its account
    /// from; see `observe::account_and_credits`).
    pub accounts: Store<TelephonyAccount>,
    failures: Failures<CompactPhoneNumber>,
    claim_indexes: claim_index::ClaimIndexes,
}

/// Runs the controller until `shutdown` is cancelled.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    if ctx.config.namespaces.is_empty() {
        run_one(ctx, None, shutdown).await;
    } else {
        let runs = ctx
            .config
            .namespaces
            .clone()
            .into_iter()
            .map(|ns| run_one(ctx.clone(), Some(ns), shutdown.clone()));
        futures::future::join_all(runs).await;
    }
}

async fn run_one(ctx: Arc<Context>, namespace: Option<String>, shutdown: CancellationToken) {
    let client = ctx.kube.clone();
    let (numbers, accounts): (Api<PhoneNumber>, Api<TelephonyAccount>) = match &namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let mut wc = watcher::Config::default();
    if let Some(sel) = &ctx.config.label_selector {
        wc = wc.labels(sel);
    }
    // The cache holds PhoneNumbers compact (`compact_phone_number`: trimmed of what no reconcile
    // reads, compressed, with the summary the walks over all of them read); the claim index
    // follows the same watch, one event ahead of the cache.
    let claim_indexes = claim_index::ClaimIndexes::default();
    let failures = Failures::default();
    let (store, trigger) = super::compact_phone_number::compact_reflector(numbers, wc.clone(), {
        let indexes = claim_indexes.clone();
        let failures = failures.clone();
        move |store, event| {
            indexes.observe(store, event);
            // A deleted object is never reconciled again: its failure count goes now.
            if let watcher::Event::Delete(pn) = event {
                failures.clear(&ObjectRef::from_obj(pn));
            }
        }
    });
    let controller = Controller::for_stream(trigger, store.clone());
    let mapper_store = store.clone();
    // Accounts are cached by the same watch that maps their changes (deletions too) to
    // PhoneNumbers: the reflector stores a change before it yields it, so a reconcile the change
    // triggers reads the changed account from the cache.
    let (account_store, account_writer) = reflector::store();
    let account_changes = reflector(
        account_writer,
        watcher(accounts, wc).modify(super::cache_trim::trim::<TelephonyAccount>),
    )
    .touched_objects()
    // Not for a count or a sibling's charge on the account's status (see `account_changes`).
    .predicate_filter(
        super::account_changes::for_phone_numbers,
        Default::default(),
    );
    // The number gauges of /metrics read this cache while the controller runs, and so does the
    // account controller's inventory summary.
    let _metrics_cache = ctx.metrics.watch_numbers(store.clone());
    let _lent = ctx.phone_numbers.register(namespace.clone(), store.clone());
    let data = Arc::new(Data {
        ctx: ctx.clone(),
        store,
        accounts: account_store,
        failures,
        claim_indexes,
    });
    let config =
        kube::runtime::controller::Config::default().concurrency(ctx.config.reconcile_concurrency);
    controller
        .with_config(config)
        .watches_stream(account_changes, move |account: TelephonyAccount| {
            numbers_of_account(&mapper_store, &account)
        })
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(reconcile, error_policy, data)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "phone number reconcile");
            }
        })
        .await;
}

/// The PhoneNumbers of the account's namespace that reference it.
pub fn numbers_of_account(
    store: &Store<CompactPhoneNumber>,
    account: &TelephonyAccount,
) -> Vec<ObjectRef<CompactPhoneNumber>> {
    let ns = account.namespace();
    let name = account.name_any();
    store
        .state()
        .iter()
        .filter(|p| p.namespace() == ns && p.summary().account == name)
        .map(|p| ObjectRef::from_obj(p.as_ref()))
        .collect()
}

async fn reconcile(
    cached: Arc<CompactPhoneNumber>,
    data: Arc<Data>,
) -> Result<Action, kube::runtime::finalizer::Error<Error>> {
    let ctx = &data.ctx;
    let timer = ctx.metrics.reconcile_timer(KIND);
    let result = match decoded(&data, &cached).await {
        Ok(Some(pn)) => reconcile_inner(Arc::new(pn), data.clone()).await,
        Ok(None) => Ok(Action::await_change()),
        Err(e) => Err(kube::runtime::finalizer::Error::ApplyFailed(e)),
    };
    if result.is_ok() {
        data.failures.clear(&ObjectRef::from_obj(cached.as_ref()));
    }
    timer.finish(&result);
    result
}

/// The cached object, decoded; read from the API server if it cannot be (`None`: it is gone).
async fn decoded(data: &Data, cached: &CompactPhoneNumber) -> Result<Option<PhoneNumber>, Error> {
    match cached.decode() {
        Ok(pn) => Ok(Some(pn)),
        Err(e) => {
            tracing::warn!(phone_number = %cached.name_any(), error = %e, "reading the PhoneNumber from the API server instead");
            let ns = cached.namespace().ok_or(Error::NoNamespace)?;
            let api: Api<PhoneNumber> = Api::namespaced(data.ctx.kube.clone(), &ns);
            Ok(api.get_opt(&cached.name_any()).await?)
        }
    }
}

async fn reconcile_inner(
    pn: Arc<PhoneNumber>,
    data: Arc<Data>,
) -> Result<Action, kube::runtime::finalizer::Error<Error>> {
    let ctx = &data.ctx;
    let ns = pn
        .namespace()
        .ok_or(kube::runtime::finalizer::Error::ApplyFailed(
            Error::NoNamespace,
        ))?;
    let api: Api<PhoneNumber> = Api::namespaced(ctx.kube.clone(), &ns);
    finalizer(&api, FINALIZER, pn, |event| async {
        match event {
            FinalizerEvent::Apply(pn) => apply(&data, &api, pn).await,
            FinalizerEvent::Cleanup(pn) => cleanup(&data, pn).await,
        }
    })
    .await
}

fn requeue(ctx: &Context, deadline: Option<jiff::Timestamp>) -> Action {
    let resync = ctx.config.resync_period();
    let wait = deadline.map_or(resync, |d| ctx.clock.real_until(d).min(resync));
    Action::requeue(wait.max(Duration::from_millis(50)))
}

async fn apply(data: &Data, api: &Api<PhoneNumber>, pn: Arc<PhoneNumber>) -> Result<Action, Error> {
    let ctx = &data.ctx;
    let effects = KubeEffects { ctx: ctx.clone() };
    // Before a number is recorded, act only on the freshest object (the cache may lag behind our
    // own last write); a stale resourceVersion would only cost a conflict, but a read is cheaper.
    let mut pn = (*pn).clone();
    if pn.status.as_ref().is_none_or(|s| s.sid.is_none())
        && let Some(fresh) = api.get_opt(&pn.name_any()).await?
    {
        pn = fresh;
    }
    let now = ctx.clock.now();
    let (view, account_api, credits_balance) = if validate(&pn.spec).is_ok() {
        observe::account_and_credits(ctx, &data.accounts, &pn).await?
    } else {
        (AccountView::Missing, None, None)
    };
    let mut obs = observe::minimal(now, view.clone());
    obs.credits_balance = credits_balance;
    // A purchase attempt is presumed in flight for twice the Twilio request timeout.
    obs.intent_settle =
        jiff::SignedDuration::from_secs(2 * ctx.config.twilio_timeout_seconds.max(1) as i64);
    let Some(account_api) = account_api else {
        // Validation failure or unusable account: the decision stalls without Twilio.
        let stall_only = drive_without_twilio(ctx, &effects, pn, obs).await?;
        return Ok(requeue(ctx, stall_only));
    };
    let AccountView::Usable { mode, .. } = view else {
        return Ok(requeue(ctx, None));
    };
    match observe::price(ctx, &account_api, mode, &pn, now).await {
        Ok((quote, problem)) => {
            obs.price = quote;
            obs.price_problem = problem;
        }
        Err(e) => return Err(EngineError::Twilio(e).into()),
    }
    match observe::ownership(
        &ctx.inventory,
        &account_api,
        &pn,
        ctx.config.resync_period(),
    )
    .await
    {
        Ok(o) => obs.owned = o,
        Err(e) if e.is_auth() => obs.refusal = Some(engine::refusal_of(&e)),
        Err(e) => return Err(EngineError::Twilio(e).into()),
    }
    // Claims only matter before a number is recorded (a shared index of the cache).
    if pn.status.as_ref().is_none_or(|s| s.sid.is_none()) {
        obs.claimed_by = observe::claimed_by(&data.store, &pn);
        obs.claimed_numbers = data.claim_indexes.claimed(&pn);
    }
    let env = Env {
        effects: &effects,
        api: &account_api,
        inventory: &ctx.inventory,
        clock: ctx.clock.as_ref(),
        metrics: Some(&ctx.metrics),
        crash: None,
    };
    let (_, deadline) = engine::drive(&env, pn, obs).await?;
    Ok(requeue(ctx, deadline))
}

/// Runs the decision when no Twilio call can be needed (it can only stall or wait).
async fn drive_without_twilio(
    ctx: &Context,
    effects: &KubeEffects,
    pn: PhoneNumber,
    obs: crate::reconcile::phone_number::Observed,
) -> Result<Option<jiff::Timestamp>, Error> {
    use crate::reconcile::phone_number::{Action as A, decide};
    let d = decide(&pn, &obs);
    if d.action != A::Wait {
        // Not reachable for an unusable account; look again later rather than act blind.
        return Ok(Some(ctx.clock.now()));
    }
    if pn.status.as_ref() != Some(&d.status) {
        use effects::Effects;
        let written = effects
            .write_status(&pn, &d.status)
            .await
            .map_err(EngineError::from)?;
        if let Some(ev) = &d.event {
            effects.event(&written, ev).await;
        }
    }
    Ok(d.requeue_at)
}

async fn cleanup(data: &Data, pn: Arc<PhoneNumber>) -> Result<Action, Error> {
    let ctx = &data.ctx;
    let effects = KubeEffects { ctx: ctx.clone() };
    let (view, account_api, holder) = observe::account_for_release(ctx, &pn).await?;
    // An account being deleted holds nothing: its numbers are released at once.
    let window = match holder {
        Some(_) => ctx.config.release_quarantine(),
        None => jiff::SignedDuration::ZERO,
    };
    let obs = CleanupObserved::new(view, ctx.clock.now(), window);
    let env = engine::CleanupEnv {
        effects: &effects,
        api: account_api.as_ref(),
        account: holder.as_ref(),
        inventory: &ctx.inventory,
        clock: ctx.clock.as_ref(),
        metrics: Some(&ctx.metrics),
    };
    engine::drive_cleanup(&env, &pn, obs).await?;
    Ok(Action::await_change())
}

fn error_policy(
    pn: Arc<CompactPhoneNumber>,
    error: &kube::runtime::finalizer::Error<Error>,
    data: Arc<Data>,
) -> Action {
    use kube::runtime::finalizer::Error as F;
    let conflict = matches!(error, F::ApplyFailed(Error::Engine(e)) | F::CleanupFailed(Error::Engine(e)) if e.is_conflict());
    if conflict {
        return Action::requeue(Duration::from_millis(200));
    }
    data.ctx.metrics.failed(KIND);
    tracing::warn!(phone_number = %pn.name_any(), namespace = ?pn.namespace(), error = %error, "reconcile failed");
    Action::requeue(data.failures.fail(ObjectRef::from_obj(pn.as_ref())))
}

pub use super::backoff::backoff;
