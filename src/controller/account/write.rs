//! Status writes and events. The whole status is written with `replace_status` carrying the
//! resourceVersion it was computed from, because the credits ledger lives in the same status and
//! is written concurrently by `credits::hold` (a merge patch from a stale read could drop a
//! hold). On 409 the account is re-read and the status recomputed from the same observations.
//! Nothing is written when nothing changed.

use super::Error;
use crate::api::{TelephonyAccount, TelephonyAccountStatus};
use crate::controller::Context;
use crate::reconcile::account::Event;
use kube::api::PostParams;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};

/// Attempts before giving up on conflicts (the error policy retries soon after).
const ATTEMPTS: usize = 8;

/// Computes the status from (a fresh copy of) the account and writes it if it changed; then
/// records the events of the computation that was written. Returns the written (or unchanged)
/// status and the extra value of the last computation.
pub(super) async fn write_status<R>(
    ctx: &Context,
    account: &TelephonyAccount,
    mut compute: impl FnMut(&TelephonyAccount) -> (TelephonyAccountStatus, Vec<Event>, R),
) -> Result<R, Error> {
    let namespace = account.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<TelephonyAccount> = Api::namespaced(ctx.kube.clone(), &namespace);
    let mut current = account.clone();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            current = api.get(&account.name_any()).await?;
        }
        let (status, events, extra) = compute(&current);
        if current.status.as_ref() == Some(&status) {
            publish(ctx, &current, &events).await;
            return Ok(extra);
        }
        let mut obj = current.clone();
        obj.status = Some(status);
        match api
            .replace_status(&obj.name_any(), &PostParams::default(), &obj)
            .await
        {
            Ok(written) => {
                publish(ctx, &written, &events).await;
                return Ok(extra);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            // The object is gone (deleted meanwhile): nothing to write.
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(extra),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflicts)
}

/// Records events (failures to record are logged, never fatal).
pub(super) async fn publish(ctx: &Context, account: &TelephonyAccount, events: &[Event]) {
    if events.is_empty() {
        return;
    }
    let reference = account.object_ref(&());
    for e in events {
        let ev = kube::runtime::events::Event {
            type_: if e.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: e.reason.to_string(),
            note: Some(e.note.clone()),
            action: e.reason.to_string(),
            secondary: None,
        };
        if let Err(err) = ctx.recorder.publish(&ev, &reference).await {
            tracing::debug!(error = %err, reason = %e.reason, "recording event");
        }
    }
}
