//! Whether a PhoneNumber may act (buy, renew, configure) through a TelephonyAccount.
//!
//! Checked against the spec as well as the status, so a change a person just made (a new terms
//! version, a different mode) stops purchases at once, before the account controller has run.

use crate::api::condition::{READY, STALLED};
use crate::api::{AccountMode, MODE_CHANGE_APPROVED_ANNOTATION, TelephonyAccount};
use crate::conditions::get_condition;
use crate::reason::{Reason, ReasonMessage};
use jiff::{SignedDuration, Timestamp};
use kube_core::ResourceExt;

/// How long after an account's creation its numbers wait, without writing their status, for
/// the operator's first verdict on it (see [`NotUsable::first_look_due`]).
pub const FIRST_LOOK_GRACE: SignedDuration = SignedDuration::from_secs(30);

/// Why a TelephonyAccount cannot be used now: a condition reason, a message a person can act
/// on, and whether it resolves itself (the account is still connecting: its numbers wait,
/// Reconciling) or needs a person (its numbers are Stalled with the same reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUsable {
    pub why: ReasonMessage,
    pub transient: bool,
    /// The operator has not given any verdict on the account yet (no Ready condition: it was
    /// just created, its first reconcile is under way): until this time (its creation plus
    /// [`FIRST_LOOK_GRACE`]) a number that has no status of its own waits for that verdict
    /// without writing "waiting for the account" (the account's first status wakes it). Numbers
    /// applied together with their account then go straight to Purchasing; a stuck account
    /// still shows in its numbers after the grace.
    pub first_look_due: Option<Timestamp>,
}

impl NotUsable {
    /// Needs a person.
    fn new(reason: Reason, message: String) -> Self {
        Self {
            why: ReasonMessage::new(reason, message),
            transient: false,
            first_look_due: None,
        }
    }

    /// Resolves itself.
    fn waiting(reason: Reason, message: String) -> Self {
        Self {
            transient: true,
            ..Self::new(reason, message)
        }
    }
}

/// `not_usable.reason` and `.message` read the reason and message.
impl std::ops::Deref for NotUsable {
    type Target = ReasonMessage;
    fn deref(&self) -> &ReasonMessage {
        &self.why
    }
}

impl std::fmt::Display for NotUsable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.why.reason, self.why.message)
    }
}

/// Whether the mode change from `status.mode` to `spec.mode` carries the approval annotation.
pub fn mode_change_approved(account: &TelephonyAccount) -> bool {
    account
        .annotations()
        .get(MODE_CHANGE_APPROVED_ANNOTATION)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `Err` when `account` connected in another mode than its `spec.mode` now says, without an
/// administrator's approval; `consequence` says what that stops.
fn mode_kept(account: &TelephonyAccount, consequence: &str) -> Result<(), NotUsable> {
    match account.status.as_ref().and_then(|s| s.mode) {
        Some(locked) if locked != account.spec.mode && !mode_change_approved(account) => {
            Err(NotUsable::new(
                Reason::ModeChangeNotApproved,
                format!(
                    "TelephonyAccount {} connected in mode {locked} and its spec.mode is now {}; {consequence}",
                    account.name_any(),
                    account.spec.mode
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// `Err` (a wait) until the account has connected (`status.accountSid`).
fn connected(account: &TelephonyAccount) -> Result<(), NotUsable> {
    let sid = account
        .status
        .as_ref()
        .and_then(|s| s.account_sid.as_deref());
    if sid.is_none_or(str::is_empty) {
        return Err(NotUsable::waiting(
            Reason::AccountNotConnected,
            format!(
                "TelephonyAccount {} has not connected to Twilio yet",
                account.name_any()
            ),
        ));
    }
    Ok(())
}

/// `Ok` when PhoneNumbers may act through `account`: not being deleted, the mode it connected
/// with (or an approved change), Managed terms accepted with `terms_version`, connected
/// (`status.accountSid`) and Ready.
pub fn usable(account: &TelephonyAccount, terms_version: &str) -> Result<(), NotUsable> {
    let name = account.name_any();
    if account.metadata.deletion_timestamp.is_some() {
        return Err(NotUsable::new(
            Reason::AccountDeleting,
            format!(
                "TelephonyAccount {name} is being deleted; no number is bought or renewed through it"
            ),
        ));
    }
    let status = account.status.as_ref();
    mode_kept(
        account,
        &format!(
            "the mode is permanent unless an administrator sets the annotation {MODE_CHANGE_APPROVED_ANNOTATION}=true"
        ),
    )?;
    if account.spec.mode == AccountMode::Managed {
        match account.spec.managed.as_ref() {
            None => {
                return Err(NotUsable::new(
                    Reason::TermsNotAccepted,
                    format!("TelephonyAccount {name} is Managed but has no spec.managed section"),
                ));
            }
            Some(m) if !m.terms_accepted => {
                return Err(NotUsable::new(
                    Reason::TermsNotAccepted,
                    format!(
                        "TelephonyAccount {name} has not accepted the platform's terms (version {terms_version}); \
                         nothing is bought until spec.managed.termsAccepted is true"
                    ),
                ));
            }
            Some(m) if m.terms_version != terms_version => {
                return Err(NotUsable::new(
                    Reason::TermsVersionMismatch,
                    format!(
                        "TelephonyAccount {name} accepted terms version {:?} but the current version is {terms_version:?}; \
                         nothing is bought until the current terms are accepted",
                        m.terms_version
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    let conditions = status.map(|s| s.conditions.as_slice()).unwrap_or_default();
    let ready = get_condition(conditions, READY);
    if ready.is_some_and(|c| c.status == "True")
        && status
            .and_then(|s| s.account_sid.as_deref())
            .is_some_and(|sid| !sid.is_empty())
    {
        return Ok(());
    }
    // Not usable now. The account's own kstatus says whether a person must act: a Stalled
    // account (Secret missing, credentials refused, ...) stalls its numbers with its reason; an
    // account still connecting (or briefly unreachable) makes them wait.
    if let Some(stalled) = get_condition(conditions, STALLED).filter(|c| c.status == "True") {
        // The account's reason, parsed (an unknown one is kept as is in `Reason::Other`).
        return Err(NotUsable::new(
            Reason::parse(&stalled.reason),
            format!(
                "TelephonyAccount {name} needs attention ({}): {}",
                stalled.reason, stalled.message
            ),
        ));
    }
    if let Err(mut waiting) = connected(account) {
        if ready.is_none() {
            waiting.first_look_due = account
                .metadata
                .creation_timestamp
                .as_ref()
                .and_then(|created| created.0.checked_add(FIRST_LOOK_GRACE).ok());
        }
        return Err(waiting);
    }
    Err(NotUsable::waiting(
        Reason::AccountNotReady,
        match ready {
            Some(c) => format!(
                "TelephonyAccount {name} is not Ready ({}): {}",
                c.reason, c.message
            ),
            None => format!("TelephonyAccount {name} is not Ready yet"),
        },
    ))
}

/// `Ok` when a PhoneNumber's number may be released through `account`. Looser than [`usable`]:
/// an account being deleted can release (its deletion deletes its PhoneNumbers first, so they
/// are released while its credentials still work), and a release spends nothing, so the terms
/// need not be accepted. It still needs the connection recorded (`status.accountSid`), the mode
/// it connected with (or an approved change), and credentials Twilio has not refused.
pub fn releasable(account: &TelephonyAccount) -> Result<(), NotUsable> {
    let name = account.name_any();
    let status = account.status.as_ref();
    mode_kept(
        account,
        "nothing is released through it until an administrator approves the change",
    )?;
    let conditions = status.map(|s| s.conditions.as_slice()).unwrap_or_default();
    if let Some(refused) = get_condition(conditions, crate::api::condition::CREDENTIALS_VALID)
        .filter(|c| c.status == "False")
    {
        return Err(NotUsable::new(
            Reason::parse(&refused.reason),
            format!(
                "TelephonyAccount {name} cannot reach Twilio ({}): {}",
                refused.reason, refused.message
            ),
        ));
    }
    connected(account)?;
    Ok(())
}

/// `Err` when a PhoneNumber's number (`number_account_sid`, recorded at purchase or adoption)
/// lives in another Twilio account than the one `account` is bound to now (an administrator
/// approved an account change): nothing is looked up, configured, reported lost or released
/// through the new account for it — a 404 there proves nothing about the old one.
pub fn same_twilio_account(
    number_account_sid: Option<&str>,
    account: &TelephonyAccount,
) -> Result<(), NotUsable> {
    let bound = account
        .status
        .as_ref()
        .and_then(|s| s.account_sid.as_deref());
    match (number_account_sid.filter(|s| !s.is_empty()), bound) {
        (Some(number), Some(bound)) if number != bound => Err(NotUsable::new(
            Reason::AccountChanged,
            format!(
                "the number lives in Twilio account {number}, but TelephonyAccount {} is now bound to {bound}; \
                 it is neither managed nor released through {bound}. Release it in {number}, or set the \
                 annotation {}=\"true\" to delete this PhoneNumber without releasing",
                account.name_any(),
                crate::api::SKIP_RELEASE_ANNOTATION
            ),
        )),
        _ => Ok(()),
    }
}
