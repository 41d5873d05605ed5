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
use kube::Api;
use kube::api::PostParams;
use ledger_shim as ledger;
use ledger_shim::LedgerError;
use rust_decimal::Decimal;

/// How many times an operation re-reads and retries after a 409 Conflict.
pub const MAX_CONFLICT_RETRIES: usize = 64;

/// What `hold` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOutcome {
    /// A new hold was recorded.
    Held,
    /// The key was already held (a retry): nothing changed.
    AlreadyHeld,
    /// The key was already settled: nothing changed.
    AlreadySettled,
}

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
        ledger::hold(credits, key, phone_number_name, amount, kind, now)
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
        ledger::settle(credits, key, number)
    })
    .await
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
        ledger::release(credits, key)
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
        let managed = chargeable(
            &account,
            needs_terms.then_some(ctx.config.terms_version.as_str()),
        )
        .map_err(|reason| CreditsError::NotChargeable {
            namespace: namespace.to_string(),
            name: name.to_string(),
            reason,
        })?;
        let status = account.status.get_or_insert_with(Default::default);
        let before = status.credits.clone();
        let mut credits = ledger::current(before.as_ref(), &managed, now);
        let out = op(&mut credits, now).map_err(|e| match e {
            LedgerError::Insufficient { balance, needed } => {
                CreditsError::InsufficientCredits { balance, needed }
            }
            LedgerError::UnknownKey(key) => CreditsError::UnknownKey {
                namespace: namespace.to_string(),
                name: name.to_string(),
                key,
            },
        })?;
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

/// The Managed spec of an account that may be charged: Managed and (for a new hold) terms
/// accepted with the operator's version.
fn chargeable(
    account: &TelephonyAccount,
    terms_version: Option<&str>,
) -> Result<crate::api::ManagedSpec, String> {
    if account.spec.mode != crate::api::AccountMode::Managed {
        return Err("it is not a Managed account".into());
    }
    if let Some(terms_version) = terms_version
        && let crate::reconcile::account::Terms::Blocked { reason, .. } =
            crate::reconcile::account::terms(account, terms_version)
    {
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
) -> crate::api::CreditsStatus {
    ledger::current(previous, managed, now)
}

/// Temporary private ledger until `crate::billing::ledger` lands (same rules: a cycle of
/// `lengthDays` from the anchor; granted = perCycle + the cycle's top-ups; held and settled
/// charges count as spent; the balance never goes below zero).
mod ledger_shim {
    use crate::api::{Charge, ChargeKind, ChargeState, CreditsStatus, CycleSummary, ManagedSpec};
    use crate::controller::conditions::{money, parse_money, time};
    use jiff::{SignedDuration, Timestamp};
    use rust_decimal::Decimal;

    pub const DEFAULT_CYCLE_DAYS: u32 = 28;
    pub const HISTORY_KEPT: usize = 6;

    #[derive(Debug)]
    pub enum LedgerError {
        Insufficient { balance: Decimal, needed: Decimal },
        UnknownKey(String),
    }

    fn cycle_len(managed: &ManagedSpec) -> SignedDuration {
        let days = managed
            .billing_cycle
            .as_ref()
            .and_then(|c| c.length_days)
            .unwrap_or(DEFAULT_CYCLE_DAYS)
            .max(1);
        SignedDuration::from_hours(24 * i64::from(days))
    }

    /// The cycle `[start, end)` containing `now`, counted from `anchor`.
    fn cycle_at(anchor: Timestamp, len: SignedDuration, now: Timestamp) -> (Timestamp, Timestamp) {
        let elapsed = now.duration_since(anchor).as_secs();
        let len_s = len.as_secs().max(1);
        let k = elapsed.div_euclid(len_s);
        let start = anchor
            .checked_add(SignedDuration::from_secs(k.saturating_mul(len_s)))
            .unwrap_or(now);
        (start, start.checked_add(len).unwrap_or(Timestamp::MAX))
    }

    fn granted(managed: &ManagedSpec, start: Timestamp, end: Timestamp) -> Decimal {
        let mut seen = std::collections::BTreeSet::new();
        let per_cycle = parse_money(&managed.credits.per_cycle).unwrap_or(Decimal::ZERO);
        managed
            .credits
            .top_ups
            .iter()
            .filter(|t| t.at.0 >= start && t.at.0 < end && seen.insert(t.id.as_str()))
            .filter_map(|t| parse_money(&t.amount))
            .fold(per_cycle, |acc, a| acc + a)
    }

    fn spent(c: &CreditsStatus) -> Decimal {
        c.charges
            .iter()
            .filter_map(|ch| parse_money(&ch.amount))
            .sum()
    }

    fn recompute(c: &mut CreditsStatus, managed: &ManagedSpec) {
        let (Some(start), Some(end)) = (c.cycle_start.as_ref(), c.cycle_end.as_ref()) else {
            return;
        };
        let g = granted(managed, start.0, end.0);
        let s = spent(c);
        c.currency = managed.credits.currency.clone();
        c.granted = money(g);
        c.spent = money(s);
        c.balance = money((g - s).max(Decimal::ZERO));
    }

    pub fn current(
        previous: Option<&CreditsStatus>,
        managed: &ManagedSpec,
        now: Timestamp,
    ) -> CreditsStatus {
        let len = cycle_len(managed);
        let spec_anchor = managed
            .billing_cycle
            .as_ref()
            .and_then(|c| c.starts_at.as_ref())
            .map(|t| t.0);
        let mut c = previous.cloned().unwrap_or_default();
        let anchor = spec_anchor
            .or_else(|| c.cycle_start.as_ref().map(|t| t.0))
            .unwrap_or(now);
        match (c.cycle_start.clone(), c.cycle_end.clone()) {
            (Some(start), Some(end)) if now >= end.0 => {
                // Roll: the old cycle's unused credits expire; settled charges stay in the old
                // cycle; holds in flight move to the new cycle (still counted as spent).
                let g = parse_money(&c.granted).unwrap_or(Decimal::ZERO);
                let settled: Decimal = c
                    .charges
                    .iter()
                    .filter(|ch| ch.state == ChargeState::Settled)
                    .filter_map(|ch| parse_money(&ch.amount))
                    .sum();
                c.history.insert(
                    0,
                    CycleSummary {
                        start,
                        end: end.clone(),
                        granted: money(g),
                        spent: money(settled),
                        expired: money((g - settled).max(Decimal::ZERO)),
                    },
                );
                c.history.truncate(HISTORY_KEPT);
                c.charges.retain(|ch| ch.state == ChargeState::Held);
                let (s, e) = cycle_at(end.0, len, now);
                c.cycle_start = Some(time(s));
                c.cycle_end = Some(time(e));
            }
            (Some(_), Some(_)) => {}
            _ => {
                let (s, e) = cycle_at(anchor, len, now);
                c.cycle_start = Some(time(s));
                c.cycle_end = Some(time(e));
            }
        }
        recompute(&mut c, managed);
        c
    }

    pub fn hold(
        c: &mut CreditsStatus,
        key: &str,
        phone_number: &str,
        amount: Decimal,
        kind: ChargeKind,
        now: Timestamp,
    ) -> Result<super::HoldOutcome, LedgerError> {
        if let Some(ch) = c.charges.iter().find(|ch| ch.key == key) {
            return Ok(match ch.state {
                ChargeState::Held => super::HoldOutcome::AlreadyHeld,
                ChargeState::Settled => super::HoldOutcome::AlreadySettled,
            });
        }
        let balance = parse_money(&c.balance).unwrap_or(Decimal::ZERO);
        if amount > balance || amount < Decimal::ZERO {
            return Err(LedgerError::Insufficient {
                balance,
                needed: amount,
            });
        }
        c.charges.push(Charge {
            key: key.to_string(),
            phone_number: phone_number.to_string(),
            number: None,
            amount: money(amount),
            kind,
            state: ChargeState::Held,
            at: time(now),
        });
        let s = spent(c);
        c.spent = money(s);
        c.balance = money((balance - amount).max(Decimal::ZERO));
        Ok(super::HoldOutcome::Held)
    }

    pub fn settle(c: &mut CreditsStatus, key: &str, number: &str) -> Result<(), LedgerError> {
        let ch = c
            .charges
            .iter_mut()
            .find(|ch| ch.key == key)
            .ok_or_else(|| LedgerError::UnknownKey(key.to_string()))?;
        ch.state = ChargeState::Settled;
        if !number.is_empty() {
            ch.number = Some(number.to_string());
        }
        Ok(())
    }

    pub fn release(c: &mut CreditsStatus, key: &str) -> Result<(), LedgerError> {
        let before = c.charges.len();
        c.charges
            .retain(|ch| !(ch.key == key && ch.state == ChargeState::Held));
        if c.charges.len() != before {
            let s = spent(c);
            let g = parse_money(&c.granted).unwrap_or(Decimal::ZERO);
            c.spent = money(s);
            c.balance = money((g - s).max(Decimal::ZERO));
        }
        Ok(())
    }
}
