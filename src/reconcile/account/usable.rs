//! Whether a PhoneNumber may act (buy, renew, configure) through a TelephonyAccount.
//!
//! Checked against the spec as well as the status, so a change a person just made (a new terms
//! version, a different mode) stops purchases at once, before the account controller has run.

use crate::api::condition::READY;
use crate::api::{AccountMode, MODE_CHANGE_APPROVED_ANNOTATION, TelephonyAccount};
use crate::controller::conditions::get_condition;
use kube::ResourceExt;

/// Why a TelephonyAccount cannot be used now: a condition reason and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUsable {
    pub reason: String,
    pub message: String,
}

impl NotUsable {
    fn new(reason: &str, message: String) -> Self {
        Self {
            reason: reason.to_string(),
            message,
        }
    }
}

impl std::fmt::Display for NotUsable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

/// Whether the mode change from `status.mode` to `spec.mode` carries the approval annotation.
pub fn mode_change_approved(account: &TelephonyAccount) -> bool {
    account
        .annotations()
        .get(MODE_CHANGE_APPROVED_ANNOTATION)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `Ok` when PhoneNumbers may act through `account`: not being deleted, the mode it connected
/// with (or an approved change), Managed terms accepted with `terms_version`, connected
/// (`status.accountSid`) and Ready.
pub fn usable(account: &TelephonyAccount, terms_version: &str) -> Result<(), NotUsable> {
    let name = account.name_any();
    if account.metadata.deletion_timestamp.is_some() {
        return Err(NotUsable::new(
            "AccountDeleting",
            format!(
                "TelephonyAccount {name} is being deleted; no number is bought or renewed through it"
            ),
        ));
    }
    let status = account.status.as_ref();
    if let Some(locked) = status.and_then(|s| s.mode)
        && locked != account.spec.mode
        && !mode_change_approved(account)
    {
        return Err(NotUsable::new(
            "ModeChangeNotApproved",
            format!(
                "TelephonyAccount {name} connected in mode {locked} and its spec.mode is now {}; \
                 the mode is permanent unless an administrator sets the annotation {MODE_CHANGE_APPROVED_ANNOTATION}=true",
                account.spec.mode
            ),
        ));
    }
    if account.spec.mode == AccountMode::Managed {
        match account.spec.managed.as_ref() {
            None => {
                return Err(NotUsable::new(
                    "TermsNotAccepted",
                    format!("TelephonyAccount {name} is Managed but has no spec.managed section"),
                ));
            }
            Some(m) if !m.terms_accepted => {
                return Err(NotUsable::new(
                    "TermsNotAccepted",
                    format!(
                        "TelephonyAccount {name} has not accepted the platform's terms (version {terms_version}); \
                         nothing is bought until spec.managed.termsAccepted is true"
                    ),
                ));
            }
            Some(m) if m.terms_version != terms_version => {
                return Err(NotUsable::new(
                    "TermsVersionMismatch",
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
    if status
        .and_then(|s| s.account_sid.as_deref())
        .is_none_or(str::is_empty)
    {
        return Err(NotUsable::new(
            "AccountNotConnected",
            format!("TelephonyAccount {name} has not connected to Twilio yet"),
        ));
    }
    match status.and_then(|s| get_condition(&s.conditions, READY)) {
        Some(c) if c.status == "True" => Ok(()),
        Some(c) => Err(NotUsable::new(
            "AccountNotReady",
            format!(
                "TelephonyAccount {name} is not Ready ({}): {}",
                c.reason, c.message
            ),
        )),
        None => Err(NotUsable::new(
            "AccountNotReady",
            format!("TelephonyAccount {name} is not Ready yet"),
        )),
    }
}
