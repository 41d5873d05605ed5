//! One reconcile of a live TelephonyAccount, in the shape of the PhoneNumber controller:
//! observe (`observe.rs`: credentials, Twilio, subaccount, inventory — all before any write),
//! decide (`crate::reconcile::account`: gate, connection, credits cycle, conditions, events),
//! perform (`write.rs`: one whole-status write carrying the resourceVersion it was computed
//! from) and hand back a typed `Next` that the controller turns into a requeue: the decision's
//! time (the credits cycle end) or the resync on success, per-object backoff on a transient wait.

use super::Error;
use super::holds;
use super::observe::observe;
use super::ports::{AccountStore, Ports};
use super::write::write_status;
use crate::api::{AccountMode, CreditGrantSpec, TelephonyAccount};
use crate::controller::credits::current_credits;
use crate::reconcile::account::{self as decisions, Connection, Gate, Observation, Requeue};
use crate::reconcile::quarantine;
use crate::twilio::TwilioConnector;
use kube::ResourceExt;
use std::time::Duration;

/// How soon an account looks again while some of its PhoneNumbers are being bought or released
/// (its inventory summary and balance follow a burst of purchases within this long of its end).
pub const WHILE_NUMBERS_CHANGE: Duration = Duration::from_secs(5);

/// What a reconcile that wrote its status asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Settled: look again after `wait` (the resync, or sooner at the decision's deadline).
    Requeue(Duration),
    /// A transient wait (Twilio unavailable, a Secret unreadable): retry with per-object backoff,
    /// but no later than `deadline` (the credits cycle end), if any.
    Retry { deadline: Option<Duration> },
}

pub(super) async fn apply<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
) -> Result<Next, Error> {
    let ctx = &ports.ctx;
    let now = ctx.clock.now();
    let terms_version = ctx.config.terms_version.clone();
    let gate = decisions::gate(account, &terms_version);
    let adopt = match &gate {
        Gate::Proceed {
            adopt_mode_change: Some((_, to)),
            ..
        } => Some(*to),
        _ => None,
    };
    let mut working = account.clone();
    if let Some(to) = adopt {
        decisions::adopt_mode_change(working.status.get_or_insert_with(Default::default), to);
    }

    // Observe: every read outside Kubernetes' status happens here, before the write.
    let (obs, port) = match &gate {
        Gate::ModeRefused { .. } => (Observation::new(Connection::NotAttempted), None),
        Gate::Proceed { terms, .. } => observe(ports, &working, terms).await,
    };
    // Numbers held after their PhoneNumber was deleted: release those whose window ended.
    let held = holds::settle(ports, account, port.as_ref(), false).await?;

    // Decide and perform. Managed credits are (re)computed from the status the write is based
    // on (holds are written concurrently), so a 409 recomputes from the same observations.
    // Credits come only from the platform's CreditGrant; without one the ledger grants nothing.
    let connected = matches!(obs.connection, Connection::Connected(_));
    let managed = if account.spec.mode == AccountMode::Managed && connected {
        let namespace = account.namespace().ok_or(Error::NoNamespace)?;
        let grant = ports
            .store
            .credit_grant(&namespace, &account.name_any())
            .await?;
        Some(grant.map_or_else(CreditGrantSpec::nothing, |g| g.spec))
    } else {
        None
    };
    let (requeue, cycle_end, summary_written) = write_status(&ports.store, account, |fresh| {
        let mut fresh = fresh.clone();
        if let Some(to) = adopt {
            decisions::adopt_mode_change(fresh.status.get_or_insert_with(Default::default), to);
        }
        let mut o = obs.clone();
        o.inventory = o
            .inventory
            .map(|inv| decisions::without_held(inv, &held.remaining));
        if let Some(m) = &managed {
            let prev = fresh.status.as_ref().and_then(|s| s.credits.as_ref());
            match current_credits(prev, m, now) {
                Ok(c) => o.credits = Some(c),
                Err(e) => tracing::warn!(account = %fresh.name_any(), error = %e, "credits ledger"),
            }
        }
        let mut d = decisions::decide(&fresh, &terms_version, now, &gate, o);
        d.status.held_numbers = held.remaining.clone();
        let cycle_end = d.status.credits.as_ref().and_then(|c| c.cycle_end.clone());
        let summary_written = d.status.inventory.is_some()
            && d.status.inventory != fresh.status.and_then(|s| s.inventory);
        (d.status, d.events, (d.requeue, cycle_end, summary_written))
    })
    .await?;
    if summary_written {
        ctx.verified
            .note_summary_written(&account.uid().unwrap_or_default());
    }

    // Roll the credits cycle at its exact end (on the operator's clock), and release a held
    // number at the end of its window.
    let next_release = quarantine::next_release(&held.remaining).filter(|t| *t > now);
    let deadline = [cycle_end.map(|end| end.0), next_release]
        .into_iter()
        .flatten()
        .min()
        .map(|t| ctx.clock.real_until(t).max(Duration::from_millis(100)));
    if held.blocked {
        // A due release could not be made: retry with backoff.
        return Ok(Next::Retry { deadline });
    }
    let resync = ctx.config.resync_period();
    let wait = match requeue {
        Requeue::Retry => return Ok(Next::Retry { deadline }),
        Requeue::Resync => resync,
        Requeue::WhileNumbersChange => WHILE_NUMBERS_CHANGE.min(resync),
    };
    Ok(Next::Requeue(deadline.map_or(wait, |d| d.min(wait))))
}
