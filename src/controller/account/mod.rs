//! The TelephonyAccount controller: connects each account to Twilio (verifying BringYourOwn
//! credentials, creating the Managed subaccount idempotently), keeps its status (conditions,
//! inventory summary, credits) and guards its deletion. Decisions are in
//! `crate::reconcile::account`; `observe` gathers their inputs, `apply` decides and writes, and
//! the controller turns the typed `apply::Next` into a requeue (a failure or a transient wait
//! backs off per object through `controller::backoff`, a settled account waits for its resync or
//! its credits cycle end).
//!
//! Watches: TelephonyAccounts (the configured namespaces, or all; label selector applied), and
//! Secrets by metadata only (their contents are read one at a time, when an account uses
//! them), mapped to the accounts that use them — a tenant Secret to the accounts of its
//! namespace whose `credentialsSecretRef.name` matches, the master credentials Secret (operator
//! namespace) to every Managed account — so credential rotation is picked up without a restart;
//! CreditGrants (cluster-scoped), mapped by name to their account.
//! PhoneNumbers are watched to wake an account whose deletion waits for them, that may now hold
//! a deleted one's number, or whose held number a new one adopts. With a namespace list, one
//! controller runs per namespace (joined).

mod apply;
mod cleanup;
mod holds;
mod observe;
pub mod ports;
#[cfg(test)]
mod tests;
pub mod verified;
mod write;

use super::Context;
use super::backoff::Failures;
use crate::api::{AccountMode, CreditGrant, FINALIZER, PhoneNumber, TelephonyAccount};
use apply::Next;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use ports::Ports;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Kind label for metrics.
const KIND: &str = "TelephonyAccount";

/// Why a reconcile failed (retried by the error policy).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    DeletionBlocked(String),
    #[error("closing the Twilio subaccount: {0}")]
    Twilio(#[from] crate::twilio::TwilioError),
    #[error("master credentials: {0}")]
    Access(#[from] super::account_access::AccessError),
    #[error("status write kept conflicting")]
    Conflicts,
    #[error("object has no namespace")]
    NoNamespace,
}

/// Shared state of one controller run: the context with the ports, and the per-object failure
/// counts behind the backoff.
pub struct Data {
    pub ports: Ports,
    failures: Failures<TelephonyAccount>,
}

/// Runs the controller until `shutdown` is cancelled.
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
    let client = ctx.kube.clone();
    let (accounts, secrets): (Api<TelephonyAccount>, Api<PartialObjectMeta<Secret>>) =
        match &namespace {
            Some(ns) => (
                Api::namespaced(client.clone(), ns),
                Api::namespaced(client.clone(), ns),
            ),
            None => (Api::all(client.clone()), Api::all(client.clone())),
        };
    let mut wc = watcher::Config::default();
    if let Some(sel) = &ctx.config.label_selector {
        wc = wc.labels(sel);
    }
    // The cache holds accounts without the fields no reconcile reads (managedFields, ...).
    let (store, trigger) = super::cache_trim::trimmed_reflector(accounts, wc.clone());
    // Its own inventory count on the status does not wake it again (see `account_changes`).
    let trigger = trigger.predicate_filter(
        super::account_changes::for_account_controller,
        Default::default(),
    );
    let controller = Controller::for_stream(trigger, store.clone());
    // The account gauges of /metrics read this cache while the controller runs.
    let _metrics_cache = ctx.metrics.watch_accounts(store.clone());
    let master_ns = ctx.config.operator_namespace.clone();
    let master_name = ctx.config.master_credentials_secret.clone();
    let master_api: Api<PartialObjectMeta<Secret>> = Api::namespaced(client.clone(), &master_ns);
    let master_wc = watcher::Config::default().fields(&format!("metadata.name={master_name}"));
    let tenant_store = store.clone();
    let (tenant_master_ns, tenant_master_name) = (master_ns.clone(), master_name.clone());
    let master_store = store.clone();
    let deleting_store = store.clone();
    let numbers: Api<PhoneNumber> = match &namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let grant_namespace = namespace.clone();
    let concurrency = ctx.config.reconcile_concurrency;
    let data = Arc::new(Data {
        ports: Ports::real(ctx.clone()),
        failures: Failures::default(),
    });
    let config = kube::runtime::controller::Config::default().concurrency(concurrency);
    controller
        .with_config(config)
        // Secrets are watched by metadata only: a change wakes the accounts that use the Secret,
        // whose reconcile then reads that one Secret. No Secret's contents are listed or held.
        .watches(
            secrets,
            watcher::Config::default(),
            move |secret: PartialObjectMeta<Secret>| {
                let ns = secret.namespace().unwrap_or_default();
                // The master Secret is handled by its own watch below.
                if ns == tenant_master_ns && secret.name_any() == tenant_master_name {
                    return Vec::new();
                }
                accounts_using_secret(&tenant_store, &ns, &secret.name_any())
            },
        )
        .watches(
            master_api,
            master_wc,
            move |_secret: PartialObjectMeta<Secret>| managed_accounts(&master_store),
        )
        // A grant (or top-up) changes the account's credits.
        .watches(
            Api::<CreditGrant>::all(client.clone()),
            watcher::Config::default(),
            move |grant: CreditGrant| account_of_grant(&grant, grant_namespace.as_deref()),
        )
        // A PhoneNumber change only matters to an account waiting to be deleted.
        .watches(
            numbers,
            watcher::Config::default(),
            move |pn: PhoneNumber| deleting_account_of(&deleting_store, &pn),
        )
        .graceful_shutdown_on(shutdown.cancelled_owned())
        .run(reconcile, error_policy, data)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "telephony account reconcile");
            }
        })
        .await;
}

/// The accounts in `namespace` whose BringYourOwn Secret is `name`.
pub fn accounts_using_secret(
    store: &Store<TelephonyAccount>,
    namespace: &str,
    name: &str,
) -> Vec<ObjectRef<TelephonyAccount>> {
    store
        .state()
        .iter()
        .filter(|a| a.namespace().as_deref() == Some(namespace))
        .filter(|a| {
            a.spec
                .credentials_secret_ref
                .as_ref()
                .is_some_and(|r| r.name == name)
        })
        .map(|a| ObjectRef::from_obj(a.as_ref()))
        .collect()
}

/// The account a CreditGrant is for (by its name), if this controller watches its namespace.
pub fn account_of_grant(
    grant: &CreditGrant,
    watched: Option<&str>,
) -> Option<ObjectRef<TelephonyAccount>> {
    let grant_name = grant.name_any();
    let (namespace, name) = CreditGrant::account_of(&grant_name)?;
    watched
        .is_none_or(|w| w == namespace)
        .then(|| ObjectRef::new(name).within(namespace))
}

/// The account `pn` references, if that account cares about it: the account is being deleted
/// (it waits for its numbers), `pn` is being deleted (its number may pass to the account's
/// holds), or `pn` names a number the account holds (an adoption ends the hold).
pub fn deleting_account_of(
    store: &Store<TelephonyAccount>,
    pn: &PhoneNumber,
) -> Option<ObjectRef<TelephonyAccount>> {
    let namespace = pn.namespace()?;
    let key = ObjectRef::new(&pn.spec.account_ref.name).within(&namespace);
    let account = store.get(&key)?;
    let names_a_held_number = pn.spec.number.as_ref().is_some_and(|n| {
        account
            .status
            .as_ref()
            .is_some_and(|s| s.held_numbers.iter().any(|h| &h.phone_number == n))
    });
    let concerned = account.metadata.deletion_timestamp.is_some()
        || pn.metadata.deletion_timestamp.is_some()
        || names_a_held_number;
    concerned.then_some(key)
}

/// Every Managed account (they all use the master credentials).
pub fn managed_accounts(store: &Store<TelephonyAccount>) -> Vec<ObjectRef<TelephonyAccount>> {
    store
        .state()
        .iter()
        .filter(|a| {
            a.spec.mode == AccountMode::Managed
                || a.status.as_ref().and_then(|s| s.mode) == Some(AccountMode::Managed)
        })
        .map(|a| ObjectRef::from_obj(a.as_ref()))
        .collect()
}

async fn reconcile(
    account: Arc<TelephonyAccount>,
    data: Arc<Data>,
) -> Result<Action, kube::runtime::finalizer::Error<Error>> {
    let ctx = &data.ports.ctx;
    let timer = ctx.metrics.reconcile_timer(KIND);
    let result = reconcile_inner(account, data.clone()).await;
    timer.finish(&result);
    result
}

async fn reconcile_inner(
    account: Arc<TelephonyAccount>,
    data: Arc<Data>,
) -> Result<Action, kube::runtime::finalizer::Error<Error>> {
    let ctx = &data.ports.ctx;
    let namespace = account
        .namespace()
        .ok_or(kube::runtime::finalizer::Error::ApplyFailed(
            Error::NoNamespace,
        ))?;
    let key = ObjectRef::from_obj(account.as_ref());
    let api: Api<TelephonyAccount> = Api::namespaced(ctx.kube.clone(), &namespace);
    finalizer(&api, FINALIZER, account, |event| async {
        match event {
            FinalizerEvent::Apply(account) => {
                Ok(match apply::apply(&data.ports, &account).await? {
                    Next::Requeue(wait) => {
                        data.failures.clear(&key);
                        Action::requeue(wait)
                    }
                    Next::Retry { deadline } => {
                        let wait = data.failures.fail(key.clone());
                        Action::requeue(deadline.map_or(wait, |d| d.min(wait)))
                    }
                })
            }
            FinalizerEvent::Cleanup(account) => {
                let action = cleanup::cleanup(&data.ports, &account).await?;
                data.failures.clear(&key);
                Ok(action)
            }
        }
    })
    .await
}

/// Failures back off per object (1 s, 2 s, 4 s …); a deletion waiting for its PhoneNumbers and
/// a status write that kept conflicting are not failures and retry at a fixed pace.
fn error_policy(
    account: Arc<TelephonyAccount>,
    error: &kube::runtime::finalizer::Error<Error>,
    data: Arc<Data>,
) -> Action {
    use kube::runtime::finalizer::Error as F;
    let delay = match error {
        F::CleanupFailed(Error::DeletionBlocked(_)) => Duration::from_secs(10),
        F::ApplyFailed(Error::Conflicts) | F::CleanupFailed(Error::Conflicts) => {
            data.ports.ctx.metrics.failed(KIND);
            tracing::warn!(account = %account.name_any(), namespace = ?account.namespace(), error = %error, "reconcile failed");
            Duration::from_secs(1)
        }
        _ => {
            data.ports.ctx.metrics.failed(KIND);
            tracing::warn!(account = %account.name_any(), namespace = ?account.namespace(), error = %error, "reconcile failed");
            data.failures.fail(ObjectRef::from_obj(account.as_ref()))
        }
    };
    Action::requeue(delay)
}
