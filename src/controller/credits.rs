//! Prepaid credits of Managed accounts: hold → settle / release, written to the TelephonyAccount's
//! status with optimistic concurrency.
//!
//! What is granted comes only from the account's `CreditGrant` (cluster-scoped, written by the
//! platform), read on every batch; the tenant's own object cannot grant anything. No grant: no
//! new hold (settling or releasing an existing one still works).
//!
//! Every write reads the account, rolls the billing cycle if it is due, applies pure ledger
//! operations, and writes the whole status with `replace_status` carrying the resourceVersion it
//! read. A 409 Conflict means someone else wrote in between: re-read and retry (bounded). So
//! concurrent writers are serialized by the API server and the balance can never go below zero;
//! a held charge counts as spent, so a crash between hold and purchase never lets the credits be
//! spent twice; each key is charged at most once.
//!
//! Group commit: within this process the operations on one account queue up; whoever holds the
//! account's turn applies every queued operation (in arrival order) in ONE read-modify-write and
//! answers them all. When a thousand numbers are bought at once this costs a handful of writes
//! instead of a thousand conflicting ones. A caller cancelled mid-write loses nothing: the
//! operations it took are re-queued by their owners (all operations are idempotent by key).

use super::Context;
use crate::api::{ChargeKind, CreditGrant, CreditGrantSpec, CreditsStatus, TelephonyAccount};
use crate::billing::ledger::{self, LedgerError};
use kube::Api;
use kube::api::PostParams;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many times an operation re-reads and retries after a 409 Conflict.
pub const MAX_CONFLICT_RETRIES: usize = 64;

pub use crate::billing::ledger::HoldOutcome;

/// Why a credits operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CreditsError {
    #[error("insufficient credits: balance {balance}, needed {needed}")]
    InsufficientCredits { balance: Decimal, needed: Decimal },
    #[error("TelephonyAccount {namespace}/{name} was not found")]
    AccountNotFound { namespace: String, name: String },
    #[error("TelephonyAccount {namespace}/{name} cannot be charged: {reason}")]
    NotChargeable {
        namespace: String,
        name: String,
        reason: String,
    },
    #[error("no charge with key {key} on TelephonyAccount {namespace}/{name}")]
    UnknownKey {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("TelephonyAccount {namespace}/{name}: credits ledger: {source}")]
    Ledger {
        namespace: String,
        name: String,
        #[source]
        source: LedgerError,
    },
    #[error("TelephonyAccount {namespace}/{name}: still conflicting after {attempts} attempts")]
    TooManyConflicts {
        namespace: String,
        name: String,
        attempts: usize,
    },
    #[error("TelephonyAccount {namespace}/{name}: {source}")]
    Kube {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl CreditsError {
    /// Whether trying again later may succeed without a person's change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CreditsError::TooManyConflicts { .. } | CreditsError::Kube { .. }
        )
    }
}

/// Holds `amount` against the account's credits under idempotency `key` (the charge counts as
/// spent from now on). Fails with `InsufficientCredits` when the balance is short.
#[allow(clippy::too_many_arguments)]
pub async fn hold(
    ctx: &Context,
    namespace: &str,
    account_name: &str,
    key: &str,
    phone_number_name: &str,
    amount: Decimal,
    kind: ChargeKind,
) -> Result<HoldOutcome, CreditsError> {
    let op = Op::Hold {
        key: key.to_string(),
        phone_number: phone_number_name.to_string(),
        amount,
        kind,
    };
    match submit(ctx, namespace, account_name, op).await? {
        Out::Hold(outcome) => Ok(outcome),
        Out::Done => Ok(HoldOutcome::Held),
    }
}

/// Turns the hold `key` into a settled charge for `number` (idempotent; `UnknownKey` when no
/// charge has this key).
pub async fn settle(
    ctx: &Context,
    namespace: &str,
    account_name: &str,
    key: &str,
    number: &str,
) -> Result<(), CreditsError> {
    let op = Op::Settle {
        key: key.to_string(),
        number: number.to_string(),
    };
    submit(ctx, namespace, account_name, op).await.map(drop)
}

/// Drops the hold `key` (a failed purchase is never charged). A settled charge is never
/// returned (no refunds); an unknown key is fine (idempotent).
pub async fn release_hold(
    ctx: &Context,
    namespace: &str,
    account_name: &str,
    key: &str,
) -> Result<(), CreditsError> {
    let op = Op::Release {
        key: key.to_string(),
    };
    submit(ctx, namespace, account_name, op).await.map(drop)
}

/// One credits operation.
#[derive(Debug, Clone)]
enum Op {
    Hold {
        key: String,
        phone_number: String,
        amount: Decimal,
        kind: ChargeKind,
    },
    Settle {
        key: String,
        number: String,
    },
    Release {
        key: String,
    },
}

enum Out {
    Hold(HoldOutcome),
    Done,
}

/// A queued operation and, once applied, its answer.
struct Ticket {
    op: Op,
    answer: Mutex<Option<Result<Out, CreditsError>>>,
}

/// The queue of one account: its turn (fair, FIFO) and the operations waiting for a write.
#[derive(Default)]
struct Queue {
    turn: tokio::sync::Mutex<()>,
    pending: Mutex<Vec<Arc<Ticket>>>,
}

/// The credit queues of one operator, per (namespace, account); held by its `Context`.
#[derive(Default)]
pub struct CreditQueues {
    queues: Mutex<HashMap<(String, String), Arc<Queue>>>,
}

fn queue_for(ctx: &Context, namespace: &str, name: &str) -> Arc<Queue> {
    let mut queues = ctx
        .credit_queues
        .queues
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    queues
        .entry((namespace.to_string(), name.to_string()))
        .or_default()
        .clone()
}

fn take_answer(ticket: &Ticket) -> Option<Result<Out, CreditsError>> {
    ticket
        .answer
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
}

async fn submit(ctx: &Context, namespace: &str, name: &str, op: Op) -> Result<Out, CreditsError> {
    let queue = queue_for(ctx, namespace, name);
    let ticket = Arc::new(Ticket {
        op,
        answer: Mutex::new(None),
    });
    queue
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(ticket.clone());
    let _turn = queue.turn.lock().await;
    if let Some(answer) = take_answer(&ticket) {
        return answer;
    }
    let mut batch = std::mem::take(&mut *queue.pending.lock().unwrap_or_else(|p| p.into_inner()));
    if !batch.iter().any(|t| Arc::ptr_eq(t, &ticket)) {
        // Taken by a caller that was cancelled before answering: apply it now.
        batch.push(ticket.clone());
    }
    match apply_batch(ctx, namespace, name, &batch).await {
        Ok(()) => take_answer(&ticket).unwrap_or_else(|| {
            // Unreachable: apply_batch answers every ticket of the batch.
            Err(CreditsError::TooManyConflicts {
                namespace: namespace.to_string(),
                name: name.to_string(),
                attempts: 0,
            })
        }),
        Err(e) => {
            // A failure of the whole write: the others try again themselves.
            let others = batch.into_iter().filter(|t| !Arc::ptr_eq(t, &ticket));
            queue
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(others);
            Err(e)
        }
    }
}

/// Read, roll the cycle, apply every operation of `batch` in order, write with the read
/// resourceVersion; retry on 409. On success every ticket has its answer.
async fn apply_batch(
    ctx: &Context,
    namespace: &str,
    name: &str,
    batch: &[Arc<Ticket>],
) -> Result<(), CreditsError> {
    let api: Api<TelephonyAccount> = Api::namespaced(ctx.kube.clone(), namespace);
    let kube_err = |source| CreditsError::Kube {
        namespace: namespace.to_string(),
        name: name.to_string(),
        source,
    };
    for _ in 0..MAX_CONFLICT_RETRIES {
        let Some(mut account) = api.get_opt(name).await.map_err(kube_err)? else {
            return Err(CreditsError::AccountNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        };
        let grant =
            credit_grant(ctx, namespace, name)
                .await
                .map_err(|source| CreditsError::Kube {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    source,
                })?;
        let now = ctx.clock.now();
        let (credits, answers) = apply_ops(
            &account,
            grant.as_ref().map(|g| &g.spec),
            &ctx.config.terms_version,
            now,
            batch,
            namespace,
            name,
        );
        let status = account.status.get_or_insert_with(Default::default);
        let changed = credits.is_some() && status.credits != credits;
        if changed {
            status.credits = credits;
            match api
                .replace_status(name, &PostParams::default(), &account)
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(kube_err(e)),
            }
        }
        for (ticket, answer) in batch.iter().zip(answers) {
            *ticket.answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
        }
        return Ok(());
    }
    Err(CreditsError::TooManyConflicts {
        namespace: namespace.to_string(),
        name: name.to_string(),
        attempts: MAX_CONFLICT_RETRIES,
    })
}

/// Pure: the credits after `ops` (None: nothing to write) and each operation's answer.
fn apply_ops(
    account: &TelephonyAccount,
    grant: Option<&CreditGrantSpec>,
    terms_version: &str,
    now: jiff::Timestamp,
    batch: &[Arc<Ticket>],
    namespace: &str,
    name: &str,
) -> (Option<CreditsStatus>, Vec<Result<Out, CreditsError>>) {
    let before = account.status.as_ref().and_then(|s| s.credits.clone());
    let ledger_err = |source: LedgerError| match source {
        LedgerError::InsufficientCredits { balance, needed } => {
            CreditsError::InsufficientCredits { balance, needed }
        }
        source => CreditsError::Ledger {
            namespace: namespace.to_string(),
            name: name.to_string(),
            source,
        },
    };
    // A new hold needs a chargeable account; settling or releasing an existing hold must always
    // work (a purchase that went through is settled even if the spec changed since).
    let chargeable = chargeable(account, grant, terms_version);
    let rolled = match grant.filter(|_| account.spec.mode == crate::api::AccountMode::Managed) {
        Some(g) => current_credits(before.as_ref(), g, now).map(Some),
        None => Ok(before.clone()),
    };
    let mut credits = match rolled {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            let answers = batch.iter().map(|_| Err(ledger_err(e.clone()))).collect();
            return (None, answers);
        }
    };
    let answers = batch
        .iter()
        .map(|t| {
            apply_op(&mut credits, &t.op, &chargeable, now, namespace, name).map_err(|e| match e {
                OpError::Ledger(e) => ledger_err(e),
                OpError::Other(e) => e,
            })
        })
        .collect();
    // A BringYourOwn account without a ledger never gets one.
    let wrote = (before.is_some() || grant.is_some()) && before.as_ref() != Some(&credits);
    (wrote.then_some(credits), answers)
}

enum OpError {
    Ledger(LedgerError),
    Other(CreditsError),
}

impl From<LedgerError> for OpError {
    fn from(e: LedgerError) -> Self {
        OpError::Ledger(e)
    }
}

fn apply_op(
    credits: &mut CreditsStatus,
    op: &Op,
    chargeable: &Result<CreditGrantSpec, String>,
    now: jiff::Timestamp,
    namespace: &str,
    name: &str,
) -> Result<Out, OpError> {
    match op {
        Op::Hold {
            key,
            phone_number,
            amount,
            kind,
        } => {
            if let Err(reason) = chargeable {
                return Err(OpError::Other(CreditsError::NotChargeable {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    reason: reason.clone(),
                }));
            }
            let (next, outcome) = ledger::hold(credits, key, phone_number, *amount, *kind, now)?;
            *credits = next;
            Ok(Out::Hold(outcome))
        }
        Op::Settle { key, number } => {
            if ledger::find_charge(credits, key).is_none() {
                return Err(OpError::Other(CreditsError::UnknownKey {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    key: key.clone(),
                }));
            }
            let (next, _changed) = ledger::settle(credits, key, number)?;
            *credits = next;
            Ok(Out::Done)
        }
        Op::Release { key } => {
            let (next, _changed) = ledger::release_hold(credits, key)?;
            *credits = next;
            Ok(Out::Done)
        }
    }
}

/// The grant of an account on which a new hold may be taken: Managed, in the mode it connected
/// with (or an approved change), terms accepted with the operator's version, and a CreditGrant.
fn chargeable(
    account: &TelephonyAccount,
    grant: Option<&CreditGrantSpec>,
    terms_version: &str,
) -> Result<CreditGrantSpec, String> {
    use crate::reconcile::account as decisions;
    if account.spec.mode != crate::api::AccountMode::Managed {
        return Err("it is not a Managed account".into());
    }
    if let decisions::Gate::ModeRefused { message, .. } = decisions::gate(account, terms_version) {
        return Err(message);
    }
    if let decisions::Terms::Blocked { reason, .. } = decisions::terms(account, terms_version) {
        return Err(format!("{reason}: the platform's terms are not accepted"));
    }
    grant.cloned().ok_or_else(|| no_grant(account))
}

/// Why an account without a CreditGrant cannot be charged.
fn no_grant(account: &TelephonyAccount) -> String {
    use kube::ResourceExt;
    format!(
        "the platform has granted it no credits (no CreditGrant {}); credits come only from the platform's administrators",
        CreditGrant::name_for(
            &account.namespace().unwrap_or_default(),
            &account.name_any()
        )
    )
}

/// The account's CreditGrant, if the platform granted one.
pub async fn credit_grant(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<CreditGrant>, kube::Error> {
    let api: Api<CreditGrant> = Api::all(ctx.kube.clone());
    api.get_opt(&CreditGrant::name_for(namespace, name)).await
}

/// The credits status of a Managed account at `now` (cycle rolled if due, top-ups of the cycle
/// counted), as the account controller writes it.
pub fn current_credits(
    previous: Option<&crate::api::CreditsStatus>,
    managed: &CreditGrantSpec,
    now: jiff::Timestamp,
) -> Result<crate::api::CreditsStatus, LedgerError> {
    // The anchor (first cycle start when spec.billingCycle.startsAt is unset) only matters the
    // first time: afterwards the ledger keeps its own cycle rhythm.
    ledger::roll(&previous.cloned().unwrap_or_default(), managed, now, now)
}
