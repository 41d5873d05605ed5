//! From what the controller observed (the gate, the Twilio connection or the error reaching it,
//! inventory and credits summaries) to the status to write and the events to record.

use super::gate::{Gate, Terms};
use crate::api::condition::{CREDENTIALS_VALID, MODE_LOCKED, STALLED, TERMS_ACCEPTED};
use crate::api::{
    ACCOUNT_CHANGE_APPROVED_ANNOTATION, AccountMode, Balance, CreditsStatus, InventoryStatus,
    MODE_CHANGE_APPROVED_ANNOTATION, TelephonyAccount, TelephonyAccountStatus,
};
use crate::conditions::{
    ReasonMessage, Summary, get_condition, kstatus, remove_condition, set_condition, time,
};
use crate::reason::Reason;
use crate::twilio::TwilioError;
use kube_core::ResourceExt;

/// The Twilio account the TelephonyAccount reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub account_sid: String,
    /// `active`, `suspended` or `closed`.
    pub account_status: String,
    /// `Trial` or `Full`.
    pub account_type: String,
    /// BringYourOwn: Twilio's balance (None when it could not be read).
    pub balance: Option<Balance>,
    /// When Twilio was asked (the fetch this view comes from; `None`: not known).
    pub verified_at: Option<jiff::Timestamp>,
}

/// What happened when the controller tried to reach Twilio.
#[derive(Debug, Clone)]
pub enum Connection {
    /// Not attempted: a Managed account that has not accepted the terms gets no subaccount.
    NotAttempted,
    /// The credentials could not be read (`AccessError::reason()` and its message).
    AccessFailed {
        reason: Reason,
        message: String,
        transient: bool,
    },
    /// Twilio answered with an error, or could not be reached.
    Twilio(TwilioError),
    /// Reached and verified.
    Connected(Connected),
}

/// Everything observed in one reconcile.
#[derive(Debug, Clone)]
pub struct Observation {
    pub connection: Connection,
    /// New inventory summary (None: keep the previous one).
    pub inventory: Option<InventoryStatus>,
    /// New credits status (Managed; None: keep the previous one).
    pub credits: Option<CreditsStatus>,
    /// A subaccount was created in this reconcile (its SID).
    pub subaccount_created: Option<String>,
    /// Extra warning about the subaccount (duplicates found by FriendlyName).
    pub subaccount_warning: Option<String>,
    /// PhoneNumbers of the account still being worked on (bought, released, not reconciled
    /// yet): while there are any, the summary is refreshed soon rather than at the resync.
    pub numbers_in_progress: usize,
    /// When this process last wrote the inventory summary (`None`: not yet): while numbers are
    /// in progress, the next is written [`SUMMARY_EVERY_WHILE_NUMBERS_CHANGE`] after it.
    pub summary_written_at: Option<jiff::Timestamp>,
}

impl Observation {
    pub fn new(connection: Connection) -> Self {
        Self {
            connection,
            inventory: None,
            credits: None,
            subaccount_created: None,
            subaccount_warning: None,
            numbers_in_progress: 0,
            summary_written_at: None,
        }
    }
}

pub use crate::reason::Event;

/// When to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// A transient failure: retry with backoff.
    Retry,
    /// Nothing pending: the periodic resync (or a watch event).
    Resync,
    /// Connected, and some of its PhoneNumbers are still being bought or released: look again
    /// shortly, so the inventory summary and the balance follow them (a burst of purchases is
    /// summed up once it is over, not one resync later).
    WhileNumbersChange,
}

/// The outcome of the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub status: TelephonyAccountStatus,
    pub events: Vec<Event>,
    pub requeue: Requeue,
}

/// Clears what belonged to the old mode when an approved mode change is adopted: the account
/// connects afresh in the new mode (a Managed→BringYourOwn change keeps no credits).
pub fn adopt_mode_change(status: &mut TelephonyAccountStatus, new_mode: AccountMode) {
    status.mode = None;
    status.account_sid = None;
    status.account_status = None;
    status.r#type = None;
    status.balance = None;
    status.inventory = None;
    if new_mode != AccountMode::Managed {
        status.credits = None;
    }
}

/// Condition reason and message for a Twilio error, and whether retrying can help.
pub fn classify_twilio_error(err: &TwilioError, mode: AccountMode) -> (ReasonMessage, bool) {
    if err.is_auth() {
        let whose = match mode {
            AccountMode::BringYourOwn => {
                "check the Account SID and the Auth Token or API key in the credentials Secret"
            }
            AccountMode::Managed => {
                "the platform's master credentials were refused; an operator administrator must fix them"
            }
        };
        return (
            ReasonMessage::new(
                Reason::AuthenticationFailed,
                format!("Twilio refused the credentials (error 20003): {whose}"),
            ),
            false,
        );
    }
    if err.is_retryable() || err.is_outcome_unknown() {
        return (
            ReasonMessage::new(
                Reason::TwilioUnavailable,
                format!("Twilio could not be reached; retrying: {err}"),
            ),
            true,
        );
    }
    if err.is_not_found() && mode == AccountMode::Managed {
        return (
            ReasonMessage::new(
                Reason::SubaccountNotFound,
                format!(
                    "the Twilio subaccount recorded in status.accountSid no longer exists: {err}"
                ),
            ),
            false,
        );
    }
    (
        ReasonMessage::new(
            Reason::TwilioError,
            format!("Twilio refused the request: {err}"),
        ),
        false,
    )
}

/// The status and events for `account` (already adjusted by `adopt_mode_change` when the gate
/// adopts a change) after `obs`.
pub fn decide(
    account: &TelephonyAccount,
    terms_version: &str,
    now: jiff::Timestamp,
    gate: &Gate,
    obs: Observation,
) -> Decision {
    let generation = account.metadata.generation;
    let prev = account.status.clone().unwrap_or_default();
    let summaries_now = summaries_due(obs.numbers_in_progress, obs.summary_written_at, now);
    let mut st = prev.clone();
    st.observed_generation = generation;
    let mut events = Vec::new();
    let name = account.name_any();

    let terms = match gate {
        Gate::ModeRefused {
            locked,
            requested,
            message,
        } => {
            set_condition(
                &mut st.conditions,
                MODE_LOCKED,
                true,
                Reason::ModeChangeNotApproved,
                message,
                generation,
                now,
            );
            let already = get_condition(&prev.conditions, STALLED)
                .is_some_and(|c| c.status == "True" && c.reason == Reason::ModeChangeNotApproved);
            if !already {
                events.push(Event::warning(
                    Reason::ModeChangeRefused,
                    format!(
                        "spec.mode {requested} refused: the account is locked to {locked}; nothing was changed at Twilio. \
                         An administrator may approve with the annotation {MODE_CHANGE_APPROVED_ANNOTATION}=\"true\""
                    ),
                ));
            }
            kstatus(
                &mut st.conditions,
                &Summary::Stalled(ReasonMessage::new(
                    Reason::ModeChangeNotApproved,
                    message.clone(),
                )),
                generation,
                now,
            );
            return Decision {
                status: st,
                events,
                requeue: Requeue::Resync,
            };
        }
        Gate::Proceed {
            adopt_mode_change,
            terms,
        } => {
            if let Some((from, to)) = adopt_mode_change {
                events.push(Event::normal(
                    Reason::ModeChangeApproved,
                    format!("approved mode change {from} → {to} adopted; connecting in mode {to}"),
                ));
            }
            terms
        }
    };

    // TermsAccepted.
    match terms {
        Terms::NotApplicable => remove_condition(&mut st.conditions, TERMS_ACCEPTED),
        Terms::Accepted => {
            let msg = format!("the platform's terms version {terms_version} are accepted");
            set_condition(
                &mut st.conditions,
                TERMS_ACCEPTED,
                true,
                Reason::Accepted,
                &msg,
                generation,
                now,
            );
        }
        Terms::Blocked { reason, message } => {
            let already = get_condition(&prev.conditions, TERMS_ACCEPTED)
                .is_some_and(|c| c.status == "False" && c.reason == *reason);
            if !already {
                events.push(Event::warning(
                    reason.clone(),
                    format!("nothing is bought for {name}: {message}"),
                ));
            }
            set_condition(
                &mut st.conditions,
                TERMS_ACCEPTED,
                false,
                reason,
                message,
                generation,
                now,
            );
        }
    }

    let mut requeue = Requeue::Resync;
    let mut problem: Option<(ReasonMessage, bool)> = None; // (why, transient)
    let mut sid_changed = false;
    match obs.connection {
        Connection::NotAttempted => {
            set_condition(
                &mut st.conditions,
                MODE_LOCKED,
                false,
                Reason::NotConnected,
                "the mode is locked at the first successful connection",
                generation,
                now,
            );
        }
        Connection::AccessFailed {
            reason,
            message,
            transient,
        } => {
            set_condition(
                &mut st.conditions,
                CREDENTIALS_VALID,
                false,
                &reason,
                &message,
                generation,
                now,
            );
            problem = Some((ReasonMessage::new(reason, message), transient));
        }
        Connection::Twilio(err) => {
            let (why, transient) = classify_twilio_error(&err, account.spec.mode);
            credentials_refused(&mut st, &why, generation, now);
            problem = Some((why, transient));
        }
        Connection::Connected(c) if account_changed(account, &prev, &c.account_sid).is_some() => {
            // The Twilio account SID is locked like the mode: the credentials reach another
            // account; nothing is bought, configured or released through it until a person acts.
            let recorded = prev.account_sid.clone().unwrap_or_default();
            let why = ReasonMessage::new(
                Reason::AccountChanged,
                format!(
                    "the credentials now reach Twilio account {}, but this TelephonyAccount is bound to {recorded}: \
                     nothing is bought, configured or released through it until the Secret names {recorded} again, \
                     or an administrator approves with the annotation {ACCOUNT_CHANGE_APPROVED_ANNOTATION}=\"{}\" \
                     (numbers bought in {recorded} stay there)",
                    c.account_sid, c.account_sid
                ),
            );
            credentials_refused(&mut st, &why, generation, now);
            sid_changed = true;
            problem = Some((why, false));
        }
        Connection::Connected(c) => {
            let was_valid = get_condition(&prev.conditions, CREDENTIALS_VALID)
                .is_some_and(|c| c.status == "True");
            if let Some(old) = prev
                .account_sid
                .as_deref()
                .filter(|old| !old.is_empty() && *old != c.account_sid)
            {
                events.push(Event::normal(
                    Reason::AccountChangeApproved,
                    format!(
                        "bound to Twilio account {} instead of {old}, approved by an administrator \
                         ({ACCOUNT_CHANGE_APPROVED_ANNOTATION}); numbers bought in {old} stay there",
                        c.account_sid
                    ),
                ));
            }
            st.account_sid = Some(c.account_sid.clone());
            st.account_status = Some(c.account_status.clone());
            if let Some(at) = c.verified_at {
                st.verified_at = Some(time(at));
            }
            st.r#type = (!c.account_type.is_empty()).then(|| c.account_type.clone());
            if account.spec.mode == AccountMode::BringYourOwn {
                if c.balance.is_some() && summaries_now {
                    st.balance = c.balance.clone();
                }
            } else {
                st.balance = None;
            }
            if st.mode.is_none() {
                st.mode = Some(account.spec.mode);
                events.push(Event::normal(
                    Reason::ModeLocked,
                    format!("mode {} locked at the first connection", account.spec.mode),
                ));
            }
            let locked_msg = format!(
                "mode {} is locked; changing it requires an administrator's annotation {MODE_CHANGE_APPROVED_ANNOTATION}=\"true\"",
                account.spec.mode
            );
            set_condition(
                &mut st.conditions,
                MODE_LOCKED,
                true,
                Reason::Locked,
                &locked_msg,
                generation,
                now,
            );
            match c.account_status.to_ascii_lowercase().as_str() {
                "suspended" => {
                    let why = ReasonMessage::new(
                        Reason::AccountSuspended,
                        format!(
                            "Twilio account {} is suspended: calls and purchases fail until it is reactivated",
                            c.account_sid
                        ),
                    );
                    credentials_refused(&mut st, &why, generation, now);
                    problem = Some((why, false));
                }
                "closed" => {
                    let why = ReasonMessage::new(
                        Reason::AccountClosed,
                        format!(
                            "Twilio account {} is closed (permanent; its numbers were released)",
                            c.account_sid
                        ),
                    );
                    credentials_refused(&mut st, &why, generation, now);
                    problem = Some((why, false));
                }
                _ => {
                    let msg = format!(
                        "connected to Twilio account {} ({})",
                        c.account_sid, c.account_type
                    );
                    set_condition(
                        &mut st.conditions,
                        CREDENTIALS_VALID,
                        true,
                        Reason::Verified,
                        &msg,
                        generation,
                        now,
                    );
                    if !was_valid {
                        events.push(Event::normal(
                            Reason::Connected,
                            format!(
                                "connected to Twilio account {} in mode {}",
                                c.account_sid, account.spec.mode
                            ),
                        ));
                    }
                }
            }
        }
    }

    if let Some(sid) = obs.subaccount_created {
        events.push(Event::normal(
            Reason::SubaccountCreated,
            format!("created Twilio subaccount {sid}"),
        ));
    }
    if let Some(w) = obs.subaccount_warning {
        events.push(Event::warning(Reason::DuplicateSubaccounts, w));
    }
    // Another account's inventory says nothing about this one.
    if let Some(inv) = obs.inventory.filter(|_| !sid_changed && summaries_now) {
        st.inventory = Some(keep_observed_at_if_same(prev.inventory.as_ref(), inv));
    }
    if let Some(credits) = obs.credits {
        st.credits = Some(credits);
    }

    // Problems with the connection first, then the terms.
    let summary = if let Some((why, transient)) = problem {
        if transient {
            requeue = Requeue::Retry;
            Summary::Progressing(why)
        } else {
            let already = get_condition(&prev.conditions, CREDENTIALS_VALID)
                .is_some_and(|c| c.status == "False" && c.reason == why.reason);
            if !already {
                events.push(Event::warning(why.reason.clone(), why.message.clone()));
            }
            Summary::Stalled(why)
        }
    } else if let Terms::Blocked { reason, message } = terms {
        Summary::Stalled(ReasonMessage::new(reason.clone(), message.clone()))
    } else if st.account_sid.is_none() {
        Summary::Progressing(ReasonMessage::new(
            Reason::Connecting,
            "connecting to Twilio",
        ))
    } else {
        let sid = st.account_sid.clone().unwrap_or_default();
        Summary::Ready {
            reason: Reason::Connected,
            message: format!(
                "connected to Twilio account {sid} in mode {}",
                account.spec.mode
            ),
        }
    };
    if requeue == Requeue::Resync
        && matches!(summary, Summary::Ready { .. })
        && obs.numbers_in_progress > 0
    {
        requeue = Requeue::WhileNumbersChange;
    }
    kstatus(&mut st.conditions, &summary, generation, now);
    Decision {
        status: st,
        events,
        requeue,
    }
}

/// `CredentialsValid=False` with `why`.
fn credentials_refused(
    st: &mut TelephonyAccountStatus,
    why: &ReasonMessage,
    generation: Option<i64>,
    now: jiff::Timestamp,
) {
    set_condition(
        &mut st.conditions,
        CREDENTIALS_VALID,
        false,
        &why.reason,
        &why.message,
        generation,
        now,
    );
}

/// `Some(recorded)` when the credentials reach `fetched`, another Twilio account than the one
/// the account is bound to (`status.accountSid`), without an administrator's approval naming
/// `fetched` (annotation `telephony.agni.ai/account-change-approved`).
pub fn account_changed(
    account: &TelephonyAccount,
    prev: &TelephonyAccountStatus,
    fetched: &str,
) -> Option<String> {
    let recorded = prev.account_sid.as_deref().filter(|s| !s.is_empty())?;
    if recorded == fetched {
        return None;
    }
    let approved = account
        .annotations()
        .get(ACCOUNT_CHANGE_APPROVED_ANNOTATION)
        .is_some_and(|v| v.trim() == fetched);
    (!approved).then(|| recorded.to_string())
}

/// While some of an account's PhoneNumbers are being bought or released, its inventory summary
/// and Twilio balance are written at most this often (100 accounts in a 5-minute burst wrote
/// theirs every 5 s: 0.05 writes per purchased number); once none is in progress, at once.
pub const SUMMARY_EVERY_WHILE_NUMBERS_CHANGE: jiff::SignedDuration =
    jiff::SignedDuration::from_secs(30);

/// Whether an account's inventory summary and balance are due (observed, and then written):
/// when none of its numbers is in progress (`in_progress`: a burst is summed up as soon as it
/// is over), when this process has written none yet (`written_at`), or
/// [`SUMMARY_EVERY_WHILE_NUMBERS_CHANGE`] after the last. The controller reads the Twilio
/// balance only when this holds, so a balance is read when it will be written.
pub fn summaries_due(
    in_progress: usize,
    written_at: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> bool {
    in_progress == 0
        || written_at.is_none_or(|at| now.duration_since(at) >= SUMMARY_EVERY_WHILE_NUMBERS_CHANGE)
}

/// The inventory summary's `observedAt` only moves when its content changes, so an unchanged
/// account is not rewritten on every resync.
fn keep_observed_at_if_same(
    prev: Option<&InventoryStatus>,
    mut new: InventoryStatus,
) -> InventoryStatus {
    if let Some(p) = prev {
        let mut cmp = new.clone();
        cmp.observed_at = p.observed_at.clone();
        if &cmp == p {
            new.observed_at = p.observed_at.clone();
        }
    }
    new
}
