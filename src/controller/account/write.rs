//! Status writes and events. The whole status is written with `replace_status` carrying the
//! resourceVersion it was computed from, because the credits ledger lives in the same status and
//! is written concurrently by `credits::hold` (a merge patch from a stale read could drop a
//! hold). On 409 the account is re-read and the status recomputed from the same observations.
//! Nothing is written when nothing changed.

use super::Error;
use super::ports::{AccountStore, StatusWriteError};
use crate::api::{TelephonyAccount, TelephonyAccountStatus};
use crate::reconcile::account::Event;
use kube::ResourceExt;

/// Attempts before giving up on conflicts (the error policy retries soon after).
const ATTEMPTS: usize = 8;

/// Computes the status from (a fresh copy of) the account and writes it if it changed; then
/// records the events of the computation that was written. Returns the extra value of the last
/// computation.
pub(super) async fn write_status<R>(
    store: &impl AccountStore,
    account: &TelephonyAccount,
    mut compute: impl FnMut(&TelephonyAccount) -> (TelephonyAccountStatus, Vec<Event>, R),
) -> Result<R, Error> {
    let namespace = account.namespace().ok_or(Error::NoNamespace)?;
    let mut current = account.clone();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            current = store.get(&namespace, &account.name_any()).await?;
        }
        let (status, events, extra) = compute(&current);
        if current.status.as_ref() == Some(&status) {
            publish(store, &current, &events).await;
            return Ok(extra);
        }
        let mut obj = current.clone();
        obj.status = Some(status);
        match store.replace_status(&obj).await {
            Ok(written) => {
                publish(store, &written, &events).await;
                return Ok(extra);
            }
            Err(StatusWriteError::Conflict) => continue,
            // The object is gone (deleted meanwhile): nothing to write.
            Err(StatusWriteError::Gone) => return Ok(extra),
            Err(StatusWriteError::Kube(e)) => return Err(e.into()),
        }
    }
    Err(Error::Conflicts)
}

/// Records events (failures to record are logged, never fatal).
pub(super) async fn publish(
    store: &impl AccountStore,
    account: &TelephonyAccount,
    events: &[Event],
) {
    if !events.is_empty() {
        store.publish(account, events).await;
    }
}
