//! The finalizer: an account is not deleted while PhoneNumbers of its namespace reference it;
//! a Managed account's subaccount is closed once they are gone; then the finalizer goes.

use super::Error;
use super::ports::{AccountStore, Ports};
use super::write::{publish, write_status};
use crate::api::TelephonyAccount;
use crate::controller::account_access::routing;
use crate::controller::conditions::Reason;
use crate::controller::conditions::{ReasonMessage, Summary, get_condition, kstatus};
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
    let numbers = ports.store.phone_numbers(&namespace).await?;
    let referencing = decisions::referencing(&account.name_any(), &numbers);
    match decisions::deletion_step(account, &referencing) {
        DeletionStep::Blocked { message } => {
            let now = ctx.clock.now();
            write_status(&ports.store, account, |fresh| {
                let mut st = fresh.status.clone().unwrap_or_default();
                let already = get_condition(&st.conditions, crate::api::condition::READY)
                    .is_some_and(|c| c.reason == Reason::DeletionBlocked && c.message == message);
                let events = if already {
                    Vec::new()
                } else {
                    vec![Event::warning(Reason::DeletionBlocked, message.clone())]
                };
                let summary = Summary::Progressing(ReasonMessage::new(
                    Reason::DeletionBlocked,
                    message.clone(),
                ));
                kstatus(&mut st.conditions, &summary, fresh.metadata.generation, now);
                (st, events, ())
            })
            .await?;
            Err(Error::DeletionBlocked(message))
        }
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
