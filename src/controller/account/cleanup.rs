//! The finalizer: an account's PhoneNumbers go first — the account deletes those that reference
//! it and waits while each is released (or kept, per its deletionPolicy) by its own finalizer;
//! a Managed account's subaccount is closed once they are gone; then the finalizer goes.

use super::Error;
use super::holds;
use super::ports::{AccountStore, Ports};
use super::write::{publish, write_status};
use crate::api::TelephonyAccount;
use crate::controller::account_access::routing;
use crate::controller::conditions::Reason;
use crate::controller::conditions::{ReasonMessage, Summary, kstatus};
use crate::reconcile::account::{self as decisions, DeletionStep, Event};
use crate::twilio::{AccountPort, TwilioConnector, codes};
use kube::ResourceExt;
use kube::runtime::controller::Action;

pub(super) async fn cleanup<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
) -> Result<Action, Error> {
    let ctx = &ports.ctx;
    ctx.verified.forget(&account.uid().unwrap_or_default());
    let namespace = account.namespace().ok_or(Error::NoNamespace)?;
    let numbers = ports
        .store
        .phone_numbers(&namespace, &account.name_any())
        .await?;
    let referencing = decisions::referencing(&account.name_any(), &numbers);
    match decisions::deletion_step(account, &referencing) {
        DeletionStep::ReleaseNumbers { message } => {
            // Each PhoneNumber is released (or kept, per its deletionPolicy) by its own
            // finalizer while this account, terminating but still connected, can reach Twilio.
            let mut deleted = Vec::new();
            for name in decisions::numbers_to_delete(&account.name_any(), &numbers) {
                match ports.store.delete_phone_number(&namespace, &name).await {
                    Ok(()) => deleted.push(name),
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let now = ctx.clock.now();
            write_status(&ports.store, account, |fresh| {
                let mut st = fresh.status.clone().unwrap_or_default();
                let events = if deleted.is_empty() {
                    Vec::new()
                } else {
                    vec![Event::normal(
                        Reason::DeletingNumbers,
                        format!(
                            "deleting {} PhoneNumber(s) before the account goes: {}",
                            deleted.len(),
                            deleted.join(", ")
                        ),
                    )]
                };
                let summary = Summary::Progressing(ReasonMessage::new(
                    Reason::DeletingNumbers,
                    message.clone(),
                ));
                kstatus(&mut st.conditions, &summary, fresh.metadata.generation, now);
                (st, events, ())
            })
            .await?;
            Err(Error::DeletionBlocked(message))
        }
        _ if !released_what_it_holds(ports, account).await? => Err(Error::DeletionBlocked(
            "releasing the numbers this account holds after their PhoneNumbers were deleted".into(),
        )),
        DeletionStep::CloseSubaccount { sid } => {
            let master = ports.store.master_credentials().await?;
            let parent = ports.twilio.account(&master, &routing(account));
            match parent.close_subaccount(&sid).await {
                Ok(_) => {}
                // Already closed or gone: nothing left to do.
                Err(e) if e.is_not_found() || e.code() == Some(codes::SUBACCOUNT_CLOSED) => {}
                Err(e) => return Err(e.into()),
            }
            ctx.metrics.action("subaccount_close");
            ctx.inventory.invalidate(&sid);
            publish(
                &ports.store,
                account,
                &[Event::normal(
                    Reason::SubaccountClosed,
                    format!("closed Twilio subaccount {sid}; the account can now be deleted"),
                )],
            )
            .await;
            Ok(Action::await_change())
        }
        DeletionStep::LeaveSubaccountOpen { sid } => {
            publish(
                &ports.store,
                account,
                &[Event::warning(
                    Reason::SubaccountLeftOpen,
                    format!(
                        "Twilio subaccount {sid} was left open at an administrator's request \
                         (annotation {}); close it in the Twilio console",
                        crate::api::SKIP_RELEASE_ANNOTATION
                    ),
                )],
            )
            .await;
            Ok(Action::await_change())
        }
        DeletionStep::RemoveFinalizer => Ok(Action::await_change()),
    }
}

/// Releases every number the account holds (their window no longer matters: the account goes).
/// `true` once none is left.
async fn released_what_it_holds<S: AccountStore, T: TwilioConnector>(
    ports: &Ports<S, T>,
    account: &TelephonyAccount,
) -> Result<bool, Error> {
    let held = ports
        .store
        .held_numbers(&account.uid().unwrap_or_default())
        .await?;
    if held.is_empty() {
        return Ok(true);
    }
    let port = holds::connect(ports, account).await?;
    let settled = holds::settle_listed(ports, account, held, port.as_ref(), true).await?;
    Ok(settled.remaining.is_empty())
}
