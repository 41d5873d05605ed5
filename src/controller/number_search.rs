//! The NumberSearch controller: for each NumberSearch, one Twilio search per spec generation (or
//! refresh annotation) through the account the search names, the candidates priced from the
//! Pricing API (BringYourOwn) or the rate card (Managed), one status write, and the object deleted
//! once its TTL (`--number-search-ttl-seconds`) has passed. Decisions are in
//! `crate::reconcile::number_search`; this is the shell around them.
//!
//! The search goes through the same rate-limited Twilio client as every other call of the
//! account. No finalizer: a search holds nothing at Twilio, so deleting it needs no cleanup.

use super::Context;
use super::account_access::access_for;
use super::backoff::Failures;
use super::pricing::{DEFAULT_PRICING_TTL, pricing_api_quote, rate_card_quote};
use crate::api::{AccountMode, NumberSearchResource, NumberSearchStatus, TelephonyAccount};
use crate::controller::conditions::{Reason, ReasonMessage};
use crate::reconcile::number_search::{self as decisions, Next, Observed};
use crate::reconcile::phone_number::PriceQuote;
use crate::twilio::{AccountApi, SearchQuery, TwilioPort};
use futures::StreamExt;
use kube::api::{DeleteParams, PostParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Kind label for metrics.
const KIND: &str = "NumberSearch";

/// Status writes attempted before giving up on conflicts.
const ATTEMPTS: usize = 4;

/// Why a reconcile failed (retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
    #[error("object has no namespace")]
    NoNamespace,
    #[error("status write kept conflicting")]
    Conflicts,
}

struct Data {
    ctx: Arc<Context>,
    failures: Failures<NumberSearchResource>,
}

/// Runs the controller until `shutdown` is cancelled (one per watched namespace, or one for all).
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    if ctx.config.namespaces.is_empty() {
        run_one(ctx.clone(), None, shutdown).await;
    } else {
        let runs = ctx
            .config
            .namespaces
            .iter()
            .map(|ns| run_one(ctx.clone(), Some(ns.clone()), shutdown.clone()));
        futures::future::join_all(runs).await;
    }
}

async fn run_one(ctx: Arc<Context>, namespace: Option<String>, shutdown: CancellationToken) {
    let api: Api<NumberSearchResource> = match &namespace {
        Some(ns) => Api::namespaced(ctx.kube.clone(), ns),
        None => Api::all(ctx.kube.clone()),
    };
    let mut wc = watcher::Config::default();
    if let Some(sel) = &ctx.config.label_selector {
        wc = wc.labels(sel);
    }
    let config =
        kube::runtime::controller::Config::default().concurrency(ctx.config.reconcile_concurrency);
    let data = Arc::new(Data {
        ctx,
        failures: Failures::default(),
    });
    // The cache holds searches without the fields no reconcile reads (managedFields, ...).
    let (store, trigger) = super::cache_trim::trimmed_reflector(api, wc);
    Controller::for_stream(trigger, store)
        .with_config(config)
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(reconcile, error_policy, data)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "number search reconcile");
            }
        })
        .await;
}

async fn reconcile(obj: Arc<NumberSearchResource>, data: Arc<Data>) -> Result<Action, Error> {
    let timer = data.ctx.metrics.reconcile_timer(KIND);
    let result = reconcile_inner(obj, &data).await;
    timer.finish(&result);
    result
}

async fn reconcile_inner(obj: Arc<NumberSearchResource>, data: &Data) -> Result<Action, Error> {
    let ctx = &data.ctx;
    let namespace = obj.namespace().ok_or(Error::NoNamespace)?;
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let api: Api<NumberSearchResource> = Api::namespaced(ctx.kube.clone(), &namespace);
    let key = ObjectRef::from_obj(obj.as_ref());
    let ttl = ctx.config.number_search_ttl();
    let obs = Observed::of(&obj, ctx.clock.now(), ttl);
    match decisions::decide(&obj, &obs) {
        Next::Delete => {
            delete_expired(ctx, &api, &obj, ttl).await?;
            data.failures.clear(&key);
            Ok(Action::await_change())
        }
        Next::Wait { until } => {
            data.failures.clear(&key);
            Ok(requeue_until(ctx, until))
        }
        Next::Search(query) => {
            let (status, retry) = search(ctx, &namespace, &obj, &obs, &query).await?;
            let until = decisions::expires_at(Some(&status), &obs);
            write_status(&api, &obj, &obs, status).await?;
            if retry {
                let wait = data.failures.fail(key);
                Ok(Action::requeue(
                    wait.min(ctx.clock.real_until(until))
                        .max(Duration::from_secs(1)),
                ))
            } else {
                data.failures.clear(&key);
                Ok(requeue_until(ctx, until))
            }
        }
    }
}

fn requeue_until(ctx: &Context, until: jiff::Timestamp) -> Action {
    // Woken at the expiry (plus a second, so the decision sees it passed).
    Action::requeue(ctx.clock.real_until(until) + Duration::from_secs(1))
}

fn error_policy(obj: Arc<NumberSearchResource>, error: &Error, data: Arc<Data>) -> Action {
    data.ctx.metrics.failed(KIND);
    tracing::warn!(search = %obj.name_any(), namespace = ?obj.namespace(), error = %error, "reconcile failed");
    Action::requeue(data.failures.fail(ObjectRef::from_obj(obj.as_ref())))
}

/// Runs the search the decision asked for and returns the status to write, and whether the
/// reconcile must be retried (a wait that resolves itself, or a retryable Twilio failure).
async fn search(
    ctx: &Context,
    namespace: &str,
    obj: &NumberSearchResource,
    obs: &Observed,
    query: &SearchQuery,
) -> Result<(NumberSearchStatus, bool), Error> {
    let accounts: Api<TelephonyAccount> = Api::namespaced(ctx.kube.clone(), namespace);
    let Some(account) = accounts.get_opt(&obj.spec.account_ref.name).await? else {
        return Ok((decisions::account_missing(obj, obs), true));
    };
    if let Err(nu) = crate::reconcile::account::usable(&account, &ctx.config.terms_version) {
        // Accounts do not wake searches: a wait that needs a person is looked at again too,
        // with the backoff (no Twilio call is made until the account is usable).
        return Ok((
            decisions::account_not_usable(obj, obs, &nu.why, nu.transient),
            true,
        ));
    }
    let access = match access_for(ctx, &account).await {
        Ok(access) => access,
        Err(e) => {
            let why = ReasonMessage::new(e.reason(), e.to_string());
            return Ok((
                decisions::account_not_usable(obj, obs, &why, e.is_transient()),
                true,
            ));
        }
    };
    ctx.metrics.action("number_search");
    let numbers = match TwilioPort::search_available(&access.api, query).await {
        Ok(numbers) => numbers,
        Err(e) => {
            let retry = e.is_retryable();
            return Ok((decisions::search_failed(obj, obs, &e), retry));
        }
    };
    let (quote, problem) = price(ctx, &access.api, access.mode, obj, obs.now).await;
    Ok((
        decisions::searched(obj, obs, &numbers, quote.as_ref(), problem.as_ref()),
        false,
    ))
}

/// The prices of the searched country and type: the rate card (Managed) or the Pricing API
/// through the shared cache (BringYourOwn). No price is not an error: the candidates are still
/// shown, with the reason.
async fn price(
    ctx: &Context,
    api: &AccountApi,
    mode: AccountMode,
    obj: &NumberSearchResource,
    now: jiff::Timestamp,
) -> (Option<PriceQuote>, Option<ReasonMessage>) {
    let (country, t) = (&obj.spec.search.country, obj.spec.search.r#type);
    match mode {
        AccountMode::Managed => rate_card_quote(&ctx.rate_card, country, t),
        AccountMode::BringYourOwn => {
            match ctx
                .pricing
                .country(api, country, DEFAULT_PRICING_TTL, now)
                .await
            {
                Ok(prices) => pricing_api_quote(&prices, country, t),
                Err(e) => (
                    None,
                    Some(ReasonMessage::new(
                        Reason::PriceUnknown,
                        format!("the Pricing API answered: {e}"),
                    )),
                ),
            }
        }
    }
}

/// Writes the status with one `replace_status` carrying the object's resourceVersion. On a
/// conflict the object is re-read: if it still asks for the same search (same generation and
/// refresh value), the same answer is written onto it — Twilio is not searched twice for one
/// generation; otherwise the answer is dropped (the change is reconciled and searched anew).
async fn write_status(
    api: &Api<NumberSearchResource>,
    obj: &NumberSearchResource,
    obs: &Observed,
    status: NumberSearchStatus,
) -> Result<(), Error> {
    let name = obj.name_any();
    let mut current = obj.clone();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            let Some(fresh) = api.get_opt(&name).await? else {
                return Ok(());
            };
            let now_obs = Observed::of(&fresh, obs.now, obs.ttl);
            if now_obs.generation != obs.generation || now_obs.refresh != obs.refresh {
                return Ok(());
            }
            current = fresh;
        }
        if current.status.as_ref() == Some(&status) {
            return Ok(());
        }
        let mut next = current.clone();
        next.status = Some(status.clone());
        match api
            .replace_status(&name, &PostParams::default(), &next)
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflicts)
}

/// Deletes an expired search. The cached object may be stale (a refresh just searched again and
/// moved the expiry), so it is read fresh first and deleted only if it is still expired, with its
/// UID and resourceVersion as preconditions.
async fn delete_expired(
    ctx: &Context,
    api: &Api<NumberSearchResource>,
    obj: &NumberSearchResource,
    ttl: jiff::SignedDuration,
) -> Result<(), Error> {
    let name = obj.name_any();
    let Some(fresh) = api.get_opt(&name).await? else {
        return Ok(());
    };
    let obs = Observed::of(&fresh, ctx.clock.now(), ttl);
    if decisions::decide(&fresh, &obs) != Next::Delete {
        return Ok(());
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: fresh.metadata.uid.clone(),
            resource_version: fresh.metadata.resource_version.clone(),
        }),
        ..DeleteParams::default()
    };
    match api.delete(&name, &params).await {
        Ok(_) => {
            ctx.metrics.action("number_search_expired");
            tracing::info!(search = %name, namespace = ?fresh.namespace(), "number search expired and deleted");
            Ok(())
        }
        // Gone already, or changed meanwhile (the change is reconciled on its own).
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}
