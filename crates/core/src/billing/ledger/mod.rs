//! The prepaid credits ledger of a Managed account, as pure functions on `CreditsStatus`.
//!
//! The charges are the truth; `granted`, `spent` and `balance` are derived strings, recomputed by
//! every operation. The controller (`controller::credits`) reads the account, calls [`roll`]
//! (which also refreshes `granted` from the spec), applies one operation and writes the status
//! back with optimistic concurrency; on a conflict it starts over from a fresh read.
//!
//! Rules:
//! - balance = granted − Σ amounts of ALL charges of the cycle (Held and Settled); shown as 0 when
//!   negative (only possible after carried holds or a removed top-up).
//! - [`hold`] records a Held charge only if balance ≥ amount, so holds never push the balance
//!   below zero; it is idempotent by key: a key already present (Held or Settled) is reported
//!   (`AlreadyHeld`/`AlreadySettled`) and nothing changes. It refuses to run on a cycle that has
//!   ended (`CycleNotCurrent`): roll first.
//! - [`settle`] turns Held into Settled (and records the number); idempotent.
//! - [`release_hold`] removes a Held charge (a failed purchase is never charged); a Settled
//!   charge is never removed (no refunds).
//! - Keys: [`charge_key`] = `<PhoneNumber uid>/p<period>`; period 1 is the purchase, period k+1
//!   the renewal at the end of period k.
//! - Cycles, top-ups, expiry and the fate of holds at a cycle end: see [`cycle`].

pub mod cycle;

pub use cycle::{
    Cycle, DEFAULT_CYCLE_DAYS, HISTORY_LEN, cycle_bounds, cycle_length, granted, roll,
};

use crate::api::{Charge, ChargeKind, ChargeState, CreditsStatus};
use crate::billing::money::{MoneyError, format_money, parse_money};
use cycle::whole_seconds;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rust_decimal::Decimal;

/// What `hold` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOutcome {
    /// A new Held charge was recorded.
    Held,
    /// The key was already held (a retry): nothing changed.
    AlreadyHeld,
    /// The key was already settled: nothing changed (never charged twice).
    AlreadySettled,
}

/// Why a ledger operation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    /// The cycle's balance is below the amount; nothing was recorded.
    #[error("insufficient credits: balance {}, needed {}", format_money(*balance), format_money(*needed))]
    InsufficientCredits { balance: Decimal, needed: Decimal },
    /// A money field of the account's spec is not a valid amount.
    #[error("spec field {field}: {source}")]
    InvalidSpec {
        field: String,
        #[source]
        source: MoneyError,
    },
    /// A money field of the credits status is not a valid amount (edited by hand?).
    #[error("credits status field {field} is corrupt: {source}")]
    CorruptStatus {
        field: String,
        #[source]
        source: MoneyError,
    },
    /// A negative amount was asked for.
    #[error("charge amount {} is negative", format_money(*.0))]
    NegativeAmount(Decimal),
    /// The ledger has no current cycle, or its cycle ended before `now`: call `roll` first.
    #[error(
        "the credits cycle is not current (cycle end {cycle_end:?}, now {now}); roll the ledger first"
    )]
    CycleNotCurrent {
        cycle_end: Option<Timestamp>,
        now: Timestamp,
    },
    /// The charge's currency differs from the credits' currency.
    #[error("cannot charge {charge_currency} against credits in {credits_currency}")]
    CurrencyMismatch {
        credits_currency: String,
        charge_currency: String,
    },
    /// A sum left the range of `Decimal` (absurd amounts).
    #[error("amount overflow")]
    Overflow,
}

/// Numbers behind the derived strings of a `CreditsStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub granted: Decimal,
    /// Held + settled.
    pub spent: Decimal,
    pub held: Decimal,
    pub settled: Decimal,
    /// max(0, granted − spent).
    pub balance: Decimal,
}

/// The idempotency key of a charge: `<uid>/p<period>`.
pub fn charge_key(pn_uid: &str, period: u32) -> String {
    format!("{pn_uid}/p{period}")
}

/// The charge recorded under `key` in this cycle, if any.
pub fn find_charge<'a>(status: &'a CreditsStatus, key: &str) -> Option<&'a Charge> {
    status.charges.iter().find(|c| c.key == key)
}

/// Refuses a charge in another currency than the credits' (compare before `hold`).
pub fn check_currency(status: &CreditsStatus, currency: &str) -> Result<(), LedgerError> {
    if status.currency.eq_ignore_ascii_case(currency) {
        Ok(())
    } else {
        Err(LedgerError::CurrencyMismatch {
            credits_currency: status.currency.clone(),
            charge_currency: currency.to_string(),
        })
    }
}

/// Totals of the status (granted from its `granted` string, empty = 0; spent from the charges).
pub fn totals(status: &CreditsStatus) -> Result<Totals, LedgerError> {
    let granted = if status.granted.trim().is_empty() {
        Decimal::ZERO
    } else {
        parse_money(&status.granted).map_err(|source| LedgerError::CorruptStatus {
            field: "granted".into(),
            source,
        })?
    };
    let (mut held, mut settled) = (Decimal::ZERO, Decimal::ZERO);
    for c in &status.charges {
        let a = parse_money(&c.amount).map_err(|source| LedgerError::CorruptStatus {
            field: format!("charges[key={}].amount", c.key),
            source,
        })?;
        let slot = match c.state {
            ChargeState::Held => &mut held,
            ChargeState::Settled => &mut settled,
        };
        *slot = slot.checked_add(a).ok_or(LedgerError::Overflow)?;
    }
    let spent = held.checked_add(settled).ok_or(LedgerError::Overflow)?;
    Ok(Totals {
        granted,
        spent,
        held,
        settled,
        balance: (granted - spent).max(Decimal::ZERO),
    })
}

/// Rewrites `granted`, `spent` and `balance` from the charges.
pub(crate) fn recompute(s: &mut CreditsStatus) -> Result<(), LedgerError> {
    let t = totals(s)?;
    s.granted = format_money(t.granted);
    s.spent = format_money(t.spent);
    s.balance = format_money(t.balance);
    Ok(())
}

/// The status with `granted`/`spent`/`balance` recomputed from the charges.
pub fn summary(status: &CreditsStatus) -> Result<CreditsStatus, LedgerError> {
    let mut s = status.clone();
    recompute(&mut s)?;
    Ok(s)
}

/// Holds `amount` under `key` for PhoneNumber `phone_number_name` (see the module rules).
pub fn hold(
    status: &CreditsStatus,
    key: &str,
    phone_number_name: &str,
    amount: Decimal,
    kind: ChargeKind,
    now: Timestamp,
) -> Result<(CreditsStatus, HoldOutcome), LedgerError> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(LedgerError::NegativeAmount(amount));
    }
    let cycle_end = status.cycle_end.as_ref().map(|t| t.0);
    if status.cycle_start.is_none() || cycle_end.is_none_or(|end| now >= end) {
        return Err(LedgerError::CycleNotCurrent { cycle_end, now });
    }
    if let Some(c) = find_charge(status, key) {
        let outcome = match c.state {
            ChargeState::Held => HoldOutcome::AlreadyHeld,
            ChargeState::Settled => HoldOutcome::AlreadySettled,
        };
        return Ok((status.clone(), outcome));
    }
    if status.previous_cycle_keys.iter().any(|k| k == key) {
        return Ok((status.clone(), HoldOutcome::AlreadySettled));
    }
    let t = totals(status)?;
    let available = t.granted - t.spent;
    if available < amount {
        return Err(LedgerError::InsufficientCredits {
            balance: available.max(Decimal::ZERO),
            needed: amount,
        });
    }
    let mut s = status.clone();
    s.charges.push(Charge {
        key: key.to_string(),
        phone_number: phone_number_name.to_string(),
        number: None,
        amount: format_money(amount),
        kind,
        state: ChargeState::Held,
        at: Time(whole_seconds(now)),
    });
    recompute(&mut s)?;
    Ok((s, HoldOutcome::Held))
}

/// Settles the hold `key` for `number` (E.164; empty = unknown). `changed` is false when the
/// key is already settled or absent (see [`find_charge`] to tell them apart).
pub fn settle(
    status: &CreditsStatus,
    key: &str,
    number: &str,
) -> Result<(CreditsStatus, bool), LedgerError> {
    let mut s = status.clone();
    let Some(c) = s
        .charges
        .iter_mut()
        .find(|c| c.key == key && c.state == ChargeState::Held)
    else {
        return Ok((s, false));
    };
    c.state = ChargeState::Settled;
    if !number.is_empty() {
        c.number = Some(number.to_string());
    }
    recompute(&mut s)?;
    Ok((s, true))
}

/// Drops the hold `key` (a failed purchase is never charged). Settled charges stay (no refunds);
/// `changed` is false when nothing was held under `key`.
pub fn release_hold(
    status: &CreditsStatus,
    key: &str,
) -> Result<(CreditsStatus, bool), LedgerError> {
    let mut s = status.clone();
    let before = s.charges.len();
    s.charges
        .retain(|c| !(c.key == key && c.state == ChargeState::Held));
    let changed = s.charges.len() != before;
    if changed {
        recompute(&mut s)?;
    }
    Ok((s, changed))
}
