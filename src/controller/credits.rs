//! Prepaid credits of Managed accounts: hold → settle / release, on the account's status with
//! optimistic concurrency. (Being written; signatures as in docs/OPERATOR-CONTRACTS.md.)

use super::Context;
use crate::api::ChargeKind;
use rust_decimal::Decimal;

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
    #[error("credits are not implemented yet")]
    NotImplemented,
}

/// Holds `amount` against the account's credits under idempotency `key`.
pub async fn hold(
    _ctx: &Context,
    _namespace: &str,
    _account_name: &str,
    _key: &str,
    _phone_number_name: &str,
    _amount: Decimal,
    _kind: ChargeKind,
) -> Result<HoldOutcome, CreditsError> {
    Err(CreditsError::NotImplemented)
}

/// Turns the hold `key` into a settled charge for `number` (idempotent).
pub async fn settle(
    _ctx: &Context,
    _namespace: &str,
    _account_name: &str,
    _key: &str,
    _number: &str,
) -> Result<(), CreditsError> {
    Err(CreditsError::NotImplemented)
}

/// Drops the hold `key` (a failed purchase is never charged); idempotent.
pub async fn release_hold(
    _ctx: &Context,
    _namespace: &str,
    _account_name: &str,
    _key: &str,
) -> Result<(), CreditsError> {
    Err(CreditsError::NotImplemented)
}
