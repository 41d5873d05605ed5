//! Prepaid credits of Managed accounts: hold → settle / release, written to the TelephonyAccount's
//! status with optimistic concurrency.
//!
//! Every operation reads the account, rolls the billing cycle if it is due, applies one pure
//! ledger operation, and writes the whole status with `replace_status` carrying the
//! resourceVersion it read. A 409 Conflict means someone else wrote in between: re-read and
//! retry (bounded). So concurrent holds are serialized by the API server and the balance can
//! never go below zero; a held charge counts as spent, so a crash between hold and purchase
//! never lets the credits be spent twice; each key is charged at most once.

use super::Context;
use crate::api::{ChargeKind, TelephonyAccount};
use crate::billing::ledger::{self, LedgerError};
use kube::Api;
use kube::api::PostParams;
use rust_decimal::Decimal;

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
    update(ctx, namespace, account_name, true, |credits, now| {
        let (next, outcome) = ledger::hold(credits, key, phone_number_name, amount, kind, now)?;
        *credits = next;
        Ok(outcome)
    })
    .await
}

/// Turns the hold `key` into a settled charge for `number` (idempotent).
pub async fn settle(
    ctx: &Context,
    namespace: &str,
    account_name: &str,
    key: &str,
    number: &str,
) -> Result<(), CreditsError> {
    update(ctx, namespace, account_name, false, |credits, _now| {
        if ledger::find_charge(credits, key).is_none() {
            return Ok(Err(key.to_string()));
        }
        let (next, _changed) = ledger::settle(credits, key, number)?;
        *credits = next;
        Ok(Ok(()))
    })
    .await?
    .map_err(|key| CreditsError::UnknownKey {
        namespace: namespace.to_string(),
        name: account_name.to_string(),
        key,
    })
}

/// Drops the hold `key` (a failed purchase is never charged). A settled charge is never
/// returned (no refunds); an unknown key is fine (idempotent).
pub async fn release_hold(
    ctx: &Context,
    namespace: &str,
    account_name: &str,
    key: &str,
) -> Result<(), CreditsError> {
    update(ctx, namespace, account_name, false, |credits, _now| {
        let (next, _changed) = ledger::release_hold(credits, key)?;
        *credits = next;
        Ok(())
    })
    .await
}

/// Read, roll the cycle, apply `op`, write with the read resourceVersion; retry on 409.
async fn update<T, F>(
    ctx: &Context,
    namespace: &str,
    name: &str,
    needs_terms: bool,
    mut op: F,
) -> Result<T, CreditsError>
where
    F: FnMut(&mut crate::api::CreditsStatus, jiff::Timestamp) -> Result<T, LedgerError>,
{
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
        let now = ctx.clock.now();
        // A new hold needs a chargeable account; settling or releasing an existing hold must
        // always work (a purchase that went through is settled even if the spec changed since).
        let managed = if needs_terms {
            Some(
                chargeable(&account, &ctx.config.terms_version).map_err(|reason| {
                    CreditsError::NotChargeable {
                        namespace: namespace.to_string(),
                        name: name.to_string(),
                        reason,
                    }
                })?,
            )
        } else {
            account.spec.managed.clone()
        };
        let status = account.status.get_or_insert_with(Default::default);
        let before = status.credits.clone();
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
        let mut credits = match &managed {
            Some(m) => current_credits(before.as_ref(), m, now).map_err(ledger_err)?,
            None => before.clone().unwrap_or_default(),
        };
        let out = op(&mut credits, now).map_err(ledger_err)?;
        if before.as_ref() == Some(&credits) {
            return Ok(out);
        }
        status.credits = Some(credits);
        match api
            .replace_status(name, &PostParams::default(), &account)
            .await
        {
            Ok(_) => return Ok(out),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(kube_err(e)),
        }
    }
    Err(CreditsError::TooManyConflicts {
        namespace: namespace.to_string(),
        name: name.to_string(),
        attempts: MAX_CONFLICT_RETRIES,
    })
}

/// The Managed spec of an account on which a new hold may be taken: Managed, in the mode it
/// connected with (or an approved change), terms accepted with the operator's version.
fn chargeable(
    account: &TelephonyAccount,
    terms_version: &str,
) -> Result<crate::api::ManagedSpec, String> {
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
    account
        .spec
        .managed
        .clone()
        .ok_or_else(|| "spec.managed is missing".to_string())
}

/// The credits status of a Managed account at `now` (cycle rolled if due, top-ups of the cycle
/// counted), as the account controller writes it.
pub fn current_credits(
    previous: Option<&crate::api::CreditsStatus>,
    managed: &crate::api::ManagedSpec,
    now: jiff::Timestamp,
) -> Result<crate::api::CreditsStatus, LedgerError> {
    // The anchor (first cycle start when spec.billingCycle.startsAt is unset) only matters the
    // first time: afterwards the ledger keeps its own cycle rhythm.
    ledger::roll(&previous.cloned().unwrap_or_default(), managed, now, now)
}
