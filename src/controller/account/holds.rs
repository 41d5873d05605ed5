//! The numbers an account holds after their PhoneNumber was deleted
//! (`crate::reconcile::quarantine`): each is released at Twilio when its window ends, or at once
//! when the account is deleted, unless a new PhoneNumber has adopted it first (the claim is then
//! that PhoneNumber's, and the hold is no longer listed).
//!
//! A release is three steps, each safe to repeat after a crash: mark the hold `releasing` (one
//! conditional write on the claim; an adoption that won the race makes it fail, and the number
//! is left alone), release the number at Twilio (a 404 means already released), drop the claim.

use super::Error;
use super::ports::{AccountStore, Ports};
use crate::api::{AccountMode, HeldNumber, SKIP_RELEASE_ANNOTATION, TelephonyAccount};
use crate::controller::account_access::{AccessError, routing};
use crate::controller::claims::HeldClaim;
use crate::controller::conditions::Reason;
use crate::reconcile::account::Event;
use crate::reconcile::quarantine::{self, HoldStep};
use crate::twilio::{TwilioConnector, TwilioPort};
use kube::ResourceExt;

/// What is left after settling the holds.
#[derive(Debug, Default)]
pub(super) struct Settled {
    /// Holds still in place (their window runs, or their release failed and is retried).
    pub remaining: Vec<HeldNumber>,
    /// A due release could not be made now (no usable account, or Twilio failed).
    pub blocked: bool,
}

/// Releases the holds that are due (all of them when `deleting`) through `port`, the account's
/// Twilio port (`None` when it is not usable: due holds wait). Records an event per release.
pub(super) async fn settle<S: AccountStore, T: TwilioConnector, P: TwilioPort>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
    port: Option<&P>,
    deleting: bool,
) -> Result<Settled, Error> {
    let uid = account.uid().unwrap_or_default();
    let held = ports.store.held_numbers(&uid).await?;
    settle_listed(ports, account, held, port, deleting).await
}

/// [`settle`] for holds already listed.
pub(super) async fn settle_listed<S: AccountStore, T: TwilioConnector, P: TwilioPort>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
    held: Vec<HeldClaim>,
    port: Option<&P>,
    deleting: bool,
) -> Result<Settled, Error> {
    let ctx = &ports.ctx;
    let skip_release = crate::reconcile::phone_number::cleanup::skip_release(account);
    let bound = account.status.as_ref().and_then(|s| s.account_sid.clone());
    let mut out = Settled::default();
    let mut events = Vec::new();
    for claim in held {
        let now = ctx.clock.now();
        match quarantine::hold_step(&claim.hold, now, deleting, skip_release) {
            HoldStep::Keep { .. } => out.remaining.push(claim.hold),
            HoldStep::Forget => {
                ports.store.drop_hold(&claim).await?;
                events.push(Event::warning(
                    Reason::ReleaseSkipped,
                    format!(
                        "{} was not released at Twilio ({SKIP_RELEASE_ANNOTATION}=true on the account)",
                        claim.hold.phone_number
                    ),
                ));
            }
            HoldStep::Release => {
                // Only through the account it was bought in.
                let port = port.filter(|p| {
                    p.account_sid() == claim.hold.account_sid
                        && bound.as_deref().is_none_or(|b| b == claim.hold.account_sid)
                });
                let Some(port) = port else {
                    out.blocked = true;
                    out.remaining.push(claim.hold);
                    continue;
                };
                let Some(marked) = ports.store.mark_releasing(&claim).await? else {
                    continue; // adopted (or changed) meanwhile: the next reconcile looks again
                };
                match port.release(&marked.hold.sid).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        tracing::warn!(account = %account.name_any(), number = %marked.hold.phone_number, error = %e, "releasing a held number");
                        out.blocked = true;
                        out.remaining.push(marked.hold);
                        continue;
                    }
                }
                ctx.metrics.action("release");
                ctx.inventory
                    .note_released(&marked.hold.account_sid, &marked.hold.phone_number);
                ports.store.drop_hold(&marked).await?;
                let why = if deleting {
                    "the account is being deleted".to_string()
                } else {
                    format!("its hold ended at {}", marked.hold.release_at.0)
                };
                events.push(Event::normal(
                    Reason::HeldNumberReleased,
                    format!(
                        "{} (held after PhoneNumber {:?} was deleted) was released at Twilio: {why}",
                        marked.hold.phone_number, marked.hold.deleted_from
                    ),
                ));
            }
        }
    }
    if !events.is_empty() {
        ports.store.publish(account, &events).await;
    }
    out.remaining = quarantine::status_list(out.remaining);
    Ok(out)
}

/// The account's Twilio port from its recorded SID (deletion: the account is not observed).
pub(super) async fn connect<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
) -> Result<Option<T::Port>, Error> {
    let status = account.status.as_ref();
    let Some(sid) = status.and_then(|s| s.account_sid.clone()) else {
        return Ok(None);
    };
    let mode = status.and_then(|s| s.mode).unwrap_or(account.spec.mode);
    let namespace = account.namespace().ok_or(Error::NoNamespace)?;
    Ok(Some(match mode {
        AccountMode::BringYourOwn => {
            let secret_ref = account
                .spec
                .credentials_secret_ref
                .as_ref()
                .ok_or(AccessError::NoSecretRef)?;
            let creds = ports.store.credentials(&namespace, secret_ref).await?;
            ports.twilio.account(&creds, &routing(account))
        }
        AccountMode::Managed => {
            let master = ports.store.master_credentials().await?;
            ports.twilio.subaccount(&master, &sid, &routing(account))
        }
    }))
}
