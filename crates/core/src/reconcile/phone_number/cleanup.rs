//! Deletion of a PhoneNumber (finalizer): release the number at Twilio (`Release`), keep it
//! (`Retain`), or skip the release when an administrator says the credentials are gone for good
//! (annotation `telephony.agni.ai/skip-release: "true"`). A number already gone is fine.
//!
//! A Managed account's numbers live in the platform's subaccount and are paid from credits, so
//! none is kept there after its PhoneNumber goes: `Retain` is released like `Release` (it keeps
//! BringYourOwn numbers, which the workspace's own account pays for), and skip-release only
//! applies while the account cannot be reached (the subaccount's closure, when the account is
//! deleted, releases what is left).
//!
//! A number that would be released is first held by its account for the quarantine window
//! (`crate::reconcile::quarantine`): the PhoneNumber goes at once, the account releases the
//! number when the window ends unless a new PhoneNumber adopts it. An account being deleted
//! holds nothing (its numbers are released at once).

use super::{AccountView, Ownership};
use crate::api::{
    AccountMode, DeletionPolicy, HeldNumber, Phase, PhoneNumber, SKIP_RELEASE_ANNOTATION,
};
use crate::conditions::ReasonMessage;
use crate::reason::Reason;
use crate::reconcile::quarantine;
use jiff::{SignedDuration, Timestamp};
use kube_core::ResourceExt;

/// What deletion observed so far.
#[derive(Debug, Clone)]
pub struct CleanupObserved {
    pub account: AccountView,
    /// Targeted lookup of an intent's number (purchase in flight when the object was deleted).
    pub owned: Option<Ownership>,
    /// The release call succeeded (or answered 404).
    pub released: bool,
    /// How long the account holds a number before releasing it: the operator's quarantine
    /// window, zero when it is off or the account is being deleted (release at once).
    pub hold_window: SignedDuration,
    pub now: Timestamp,
    /// The number is now held by the account (the hold was recorded).
    pub held: Option<HeldNumber>,
    /// The hold could not be recorded because another live PhoneNumber claims the number.
    pub claimed_elsewhere: bool,
}

impl CleanupObserved {
    /// Nothing observed yet beyond the account, at `now`, with the quarantine `hold_window`.
    pub fn new(account: AccountView, now: Timestamp, hold_window: SignedDuration) -> Self {
        CleanupObserved {
            account,
            owned: None,
            released: false,
            hold_window,
            now,
            held: None,
            claimed_elsewhere: false,
        }
    }
}

/// The next step of deletion.
#[derive(Debug, Clone, PartialEq)]
pub enum CleanupAction {
    /// Remove the finalizer. `release_hold`: a Managed purchase hold to drop first (nothing was
    /// bought). `event`: reason and note to record.
    Done {
        release_hold: bool,
        event: Option<(Reason, String)>,
    },
    /// Look the intent's number up before deciding.
    Lookup { number: String },
    /// Release `sid` at Twilio, then decide again.
    Release { sid: String, number: String },
    /// Hand the number to the account, which holds it until `hold.releaseAt`, then decide again.
    Hold(HeldNumber),
    /// Cannot proceed: retry with backoff; the message says how to unblock.
    Blocked(ReasonMessage),
}

/// Whether the skip-release annotation is set (on a PhoneNumber, or on a TelephonyAccount).
pub fn skip_release(obj: &impl ResourceExt) -> bool {
    obj.annotations()
        .get(SKIP_RELEASE_ANNOTATION)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Decides the next deletion step.
pub fn decide_cleanup(pn: &PhoneNumber, obs: &CleanupObserved) -> CleanupAction {
    let st = pn.status.clone().unwrap_or_default();
    let number = st
        .phone_number
        .clone()
        .or_else(|| st.purchase_intent.as_ref().map(|i| i.phone_number.clone()))
        .unwrap_or_default();
    let in_flight = st.sid.is_none() && st.purchase_intent.is_some();
    let managed = matches!(
        obs.account,
        AccountView::Usable {
            mode: AccountMode::Managed,
            ..
        }
    );
    let keep = pn.spec.deletion_policy == DeletionPolicy::Retain && !managed;
    if keep && !in_flight {
        let event = st.sid.as_ref().map(|_| {
            (
                Reason::Retained,
                format!("{number} stays in the Twilio account (deletionPolicy Retain)"),
            )
        });
        return CleanupAction::Done {
            release_hold: false,
            event,
        };
    }
    if skip_release(pn) && !managed {
        let event = Some((
            Reason::ReleaseSkipped,
            format!("{number} was not released at Twilio ({SKIP_RELEASE_ANNOTATION}=true)"),
        ));
        return CleanupAction::Done {
            release_hold: in_flight,
            event,
        };
    }
    if obs.released {
        let why = if pn.spec.deletion_policy == DeletionPolicy::Retain || skip_release(pn) {
            " (a Managed account's numbers are not kept after their PhoneNumber goes: \
             deletionPolicy Retain and skip-release apply to BringYourOwn accounts)"
        } else {
            ""
        };
        return CleanupAction::Done {
            release_hold: false,
            event: Some((
                Reason::Released,
                format!("{number} was released at Twilio{why}"),
            )),
        };
    }
    if st.phase == Some(Phase::Released) || (st.sid.is_none() && st.purchase_intent.is_none()) {
        return CleanupAction::Done {
            release_hold: false,
            event: None,
        };
    }
    if let AccountView::Missing | AccountView::NotUsable { .. } = &obs.account {
        let why = match &obs.account {
            AccountView::NotUsable { why, .. } => why.message.clone(),
            _ => format!(
                "TelephonyAccount {:?} does not exist",
                pn.spec.account_ref.name
            ),
        };
        return CleanupAction::Blocked(ReasonMessage::new(
            Reason::ReleaseBlocked,
            format!(
                "cannot release {number}: {why}. Fix the account, or set the annotation {SKIP_RELEASE_ANNOTATION}=\"true\" to delete without releasing"
            ),
        ));
    }
    if let Some(held) = &obs.held {
        return CleanupAction::Done {
            release_hold: false,
            event: Some((
                Reason::NumberHeld,
                format!(
                    "{number} is held by TelephonyAccount {:?} until {}: a PhoneNumber of that account naming it in spec.number before then adopts it; otherwise it is released at Twilio then",
                    pn.spec.account_ref.name, held.release_at.0
                ),
            )),
        };
    }
    if obs.claimed_elsewhere {
        return CleanupAction::Done {
            release_hold: false,
            event: Some((
                Reason::ReleaseSkipped,
                format!("{number} was not released at Twilio: another PhoneNumber claims it"),
            )),
        };
    }
    if let (Some(_), AccountView::Usable { mode, account_sid }) = (&st.sid, &obs.account)
        && let Some(hold) = quarantine::hold_for(pn, *mode, account_sid, obs.now, obs.hold_window)
    {
        return CleanupAction::Hold(hold);
    }
    if let Some(sid) = &st.sid {
        return CleanupAction::Release {
            sid: sid.clone(),
            number,
        };
    }
    // A purchase was in flight: find out whether it happened.
    match &obs.owned {
        Some(o) if o.targeted => match &o.number {
            Some(n) if !keep => CleanupAction::Release {
                sid: n.sid.clone(),
                number,
            },
            Some(_) => CleanupAction::Done {
                release_hold: false,
                event: Some((
                    Reason::Retained,
                    format!("{number} stays in the Twilio account (deletionPolicy Retain)"),
                )),
            },
            None => CleanupAction::Done {
                release_hold: true,
                event: None,
            },
        },
        _ => CleanupAction::Lookup { number },
    }
}
