//! Observation for one TelephonyAccount reconcile, gathered before anything is decided or
//! written: the credentials (the tenant Secret, or the master Secret and the Managed subaccount,
//! found by its deterministic name or created exactly once), Twilio's view of the account
//! (cached per resync by `verified`), and the inventory summary from one shared snapshot. The
//! result is plain data (`Observation`) that `crate::reconcile::account::decide` folds into the
//! next status; nothing here writes to Kubernetes.

use super::ports::{AccountStore, Ports};
use super::verified;
use crate::api::condition::CREDENTIALS_VALID;
use crate::api::{AccountMode, Balance, TelephonyAccount};
use crate::controller::account_access::{self, routing};
use crate::controller::conditions::{condition_is_true, money};
use crate::reconcile::account::{self as decisions, Connected, Connection, Observation, Terms};
use crate::twilio::{AccountPort, Credentials, TwilioConnector, TwilioError, TwilioPort};
use kube::ResourceExt;

/// The account is re-fetched from Twilio at least once per this many resync periods.
const REVERIFY_RESYNCS: u32 = 10;

/// Reaches Twilio for the account and gathers what the decision needs; also returns the
/// account's Twilio port when it is connected and active.
pub(super) async fn observe<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
    terms: &Terms,
) -> (Observation, Option<T::Port>) {
    let ctx = &ports.ctx;
    let recorded_sid = account.status.as_ref().and_then(|s| s.account_sid.clone());
    let uid = account.uid().unwrap_or_default();
    let (api, creds, mut obs) = match account.spec.mode {
        AccountMode::BringYourOwn => {
            let Some(secret_ref) = account.spec.credentials_secret_ref.as_ref() else {
                return (
                    access_failed(&account_access::AccessError::NoSecretRef),
                    None,
                );
            };
            let namespace = account.namespace().unwrap_or_default();
            match ports.store.credentials(&namespace, secret_ref).await {
                Err(e) => return (access_failed(&e), None),
                Ok(creds) => (
                    ports.twilio.account(&creds, &routing(account)),
                    creds,
                    Observation::new(Connection::NotAttempted),
                ),
            }
        }
        AccountMode::Managed => {
            // No subaccount before the terms are accepted; an existing one is still observed.
            if matches!(terms, Terms::Blocked { .. }) && recorded_sid.is_none() {
                return (Observation::new(Connection::NotAttempted), None);
            }
            let master = match ports.store.master_credentials().await {
                Err(e) => return (access_failed(&e), None),
                Ok(m) => m,
            };
            let mut obs = Observation::new(Connection::NotAttempted);
            let sid = match recorded_sid {
                Some(sid) => sid,
                None => match ensure_subaccount(ports, &master, account, &mut obs).await {
                    Ok(sid) => sid,
                    Err(e) => return (Observation::new(Connection::Twilio(e)), None),
                },
            };
            (
                ports.twilio.subaccount(&master, &sid, &routing(account)),
                master,
                obs,
            )
        }
    };
    let generation = account.metadata.generation;
    let print = verified::fingerprint(&creds, api.account_sid());
    let reverify = ctx.config.resync_period().saturating_mul(REVERIFY_RESYNCS);
    let still_valid = account
        .status
        .as_ref()
        .is_some_and(|s| condition_is_true(&s.conditions, CREDENTIALS_VALID));
    let cached = still_valid
        .then(|| {
            ctx.verified
                .lookup(&uid, generation, print, reverify)
                // A restarted operator: what the previous one verified, from status.
                .or_else(|| {
                    ctx.verified
                        .recall_recorded(&uid, account, api.account_sid(), print, reverify)
                })
        })
        .flatten();
    let verified_now = cached.is_none();
    let connected = match cached {
        Some(c) => c,
        None => match verify(&api, account, ctx.clock.now()).await {
            Ok(c) => {
                if c.account_status.eq_ignore_ascii_case("active") {
                    ctx.verified.remember(&uid, generation, print, c.clone());
                } else {
                    ctx.verified.forget(&uid);
                }
                c
            }
            Err(e) => {
                ctx.verified.forget(&uid);
                obs.connection = Connection::Twilio(e);
                return (obs, None);
            }
        },
    };
    let active = connected.account_status.eq_ignore_ascii_case("active");
    obs.connection = Connection::Connected(connected);
    if active {
        match inventory(ports, &api, account).await {
            Ok(Some((inv, in_progress))) => {
                obs.inventory = Some(inv);
                obs.numbers_in_progress = in_progress;
                obs.summary_written_at = ctx.verified.summary_written_at(&uid);
            }
            Ok(None) => {}
            // The list is the credentials check of a cached connection.
            Err(e) if e.is_auth() || e.is_not_found() => {
                ctx.verified.forget(&uid);
                obs.connection = Connection::Twilio(e);
            }
            Err(e) => {
                tracing::debug!(account = %account.name_any(), error = %e, "listing the Twilio inventory");
            }
        }
    }
    // The balance moves with the numbers (each purchase is charged): read it again when their
    // count changed since it was read, so it follows a burst of purchases (see `balance_stale`).
    if let (Some(inv), Connection::Connected(c)) = (&obs.inventory, &mut obs.connection)
        && account.spec.mode == AccountMode::BringYourOwn
        && ctx
            .verified
            .balance_stale(&uid, inv.managed, obs.numbers_in_progress)
    {
        if !verified_now {
            c.balance = read_balance(&api, account).await.or(c.balance.take());
        }
        ctx.verified
            .note_balance(&uid, inv.managed, c.balance.clone());
    }
    // The port is handed on only while the account is usable (to release the numbers it holds).
    let usable = active && matches!(obs.connection, Connection::Connected(_));
    (obs, usable.then_some(api))
}

/// Fetches the account (verifying the credentials) and, for BringYourOwn, its balance.
async fn verify(
    api: &impl AccountPort,
    account: &TelephonyAccount,
    now: jiff::Timestamp,
) -> Result<Connected, TwilioError> {
    let fetched = api.fetch_account().await?;
    let balance = if account.spec.mode == AccountMode::BringYourOwn {
        read_balance(api, account).await
    } else {
        None
    };
    Ok(Connected {
        account_sid: fetched.sid,
        account_status: fetched.status,
        account_type: fetched.r#type,
        balance,
        // Whole seconds, as status keeps it: the same verification reads back equal.
        verified_at: Some(crate::controller::conditions::time(now).0),
    })
}

/// The BringYourOwn account's Twilio balance (`None` when it cannot be read: not every
/// account or key may read it).
async fn read_balance(api: &impl AccountPort, account: &TelephonyAccount) -> Option<Balance> {
    match api.balance().await {
        Ok(b) => Some(Balance {
            amount: money(b.balance),
            currency: b.currency,
        }),
        Err(e) => {
            tracing::debug!(account = %account.name_any(), error = %e, "reading the Twilio balance");
            None
        }
    }
}

fn access_failed(e: &account_access::AccessError) -> Observation {
    Observation::new(Connection::AccessFailed {
        reason: e.reason(),
        message: e.to_string(),
        transient: e.is_transient(),
    })
}

/// Finds the account's subaccount by its deterministic FriendlyName, creating it when absent.
/// An unknown create outcome is followed by a new lookup, never by a blind second create.
async fn ensure_subaccount<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    master: &Credentials,
    account: &TelephonyAccount,
    obs: &mut Observation,
) -> Result<String, crate::twilio::TwilioError> {
    let parent = ports.twilio.account(master, &routing(account));
    let name = decisions::subaccount_friendly_name(account);
    if let Some(sid) = find_subaccount(&parent, &name, obs).await? {
        return Ok(sid);
    }
    match parent.create_subaccount(&name).await {
        Ok(created) => {
            ports.ctx.metrics.action("subaccount_create");
            obs.subaccount_created = Some(created.sid.clone());
            Ok(created.sid)
        }
        Err(e) if e.is_outcome_unknown() => match find_subaccount(&parent, &name, obs).await? {
            Some(sid) => {
                obs.subaccount_created = Some(sid.clone());
                Ok(sid)
            }
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

async fn find_subaccount(
    parent: &impl AccountPort,
    name: &str,
    obs: &mut Observation,
) -> Result<Option<String>, crate::twilio::TwilioError> {
    let listed = parent.list_accounts(Some(name), None).await?;
    let Some(chosen) = decisions::pick_subaccount(&listed, name) else {
        return Ok(None);
    };
    let dups = decisions::duplicates(&listed, name, &chosen.sid);
    if !dups.is_empty() {
        obs.subaccount_warning = Some(format!(
            "several open Twilio subaccounts are named {name:?}; using {} (the oldest), not {}",
            chosen.sid,
            dups.join(", ")
        ));
    }
    Ok(Some(chosen.sid.clone()))
}

/// The inventory summary from one snapshot (shared with the PhoneNumbers of the account) and the
/// PhoneNumbers of the namespace, and how many of those are still being worked on. `Ok(None)`
/// when the PhoneNumbers could not be listed (the previous summary stays); `Err` when Twilio's
/// list failed.
async fn inventory<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    api: &impl TwilioPort,
    account: &TelephonyAccount,
) -> Result<Option<(crate::api::InventoryStatus, usize)>, TwilioError> {
    let ctx = &ports.ctx;
    let snapshot = ctx
        .inventory
        .snapshot(api, ctx.config.resync_period())
        .await?;
    let namespace = account.namespace().unwrap_or_default();
    let name = account.name_any();
    let numbers = match ports.store.numbers(&namespace, &name).await {
        Ok(n) => n,
        Err(e) => {
            tracing::debug!(account = %name, error = %e, "listing PhoneNumbers");
            return Ok(None);
        }
    };
    let owned = snapshot.phone_numbers();
    Ok(Some((
        decisions::summarize(&owned, &numbers.claims, snapshot.fetched_at),
        numbers.in_progress,
    )))
}
