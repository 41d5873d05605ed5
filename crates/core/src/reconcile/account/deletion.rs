//! What deleting a TelephonyAccount requires: its PhoneNumbers go first — the account deletes
//! them, and each is released (or kept, per its deletionPolicy) through its own finalizer while
//! the account's credentials still work; a Managed account's subaccount is closed only after its
//! numbers are gone; a BringYourOwn account (the workspace's own Twilio account) is never closed.

use crate::api::{AccountMode, TelephonyAccount};

/// The next step of the deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletionStep {
    /// PhoneNumbers still reference the account: delete those not yet being deleted
    /// (`numbers_to_delete`), then wait for them (status message, event, requeue).
    ReleaseNumbers { message: String },
    /// Close the Managed subaccount `sid` at Twilio, then remove the finalizer.
    CloseSubaccount { sid: String },
    /// Nothing left at Twilio to do: remove the finalizer.
    RemoveFinalizer,
    /// An administrator asked (annotation `telephony.agni.ai/skip-release: "true"`) to leave the
    /// Managed subaccount `sid` open, e.g. when the master credentials are gone for good.
    LeaveSubaccountOpen { sid: String },
}

/// The step for `account` given the PhoneNumbers (names) that still reference it. The mode used
/// is the one the account connected with (`status.mode`), else `spec.mode`.
pub fn deletion_step(account: &TelephonyAccount, referencing: &[String]) -> DeletionStep {
    if !referencing.is_empty() {
        let shown: Vec<&str> = referencing.iter().take(10).map(String::as_str).collect();
        let more = referencing.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        return DeletionStep::ReleaseNumbers {
            message: format!(
                "deleting the {} PhoneNumber(s) that reference this account before it goes, each released or kept per its deletionPolicy: {}{tail}",
                referencing.len(),
                shown.join(", ")
            ),
        };
    }
    let status = account.status.as_ref();
    let mode = status.and_then(|s| s.mode).unwrap_or(account.spec.mode);
    match (mode, status.and_then(|s| s.account_sid.clone())) {
        (AccountMode::Managed, Some(sid))
            if !status
                .and_then(|s| s.account_status.as_deref())
                .is_some_and(|s| s.eq_ignore_ascii_case("closed")) =>
        {
            if crate::reconcile::phone_number::cleanup::skip_release(account) {
                DeletionStep::LeaveSubaccountOpen { sid }
            } else {
                DeletionStep::CloseSubaccount { sid }
            }
        }
        _ => DeletionStep::RemoveFinalizer,
    }
}

/// The PhoneNumbers of `account_name` (in its namespace) the account's deletion must still
/// delete: those referencing it and not already being deleted.
pub fn numbers_to_delete(account_name: &str, numbers: &[crate::api::PhoneNumber]) -> Vec<String> {
    let mut names: Vec<String> = numbers
        .iter()
        .filter(|pn| pn.spec.account_ref.name == account_name)
        .filter(|pn| pn.metadata.deletion_timestamp.is_none())
        .filter_map(|pn| pn.metadata.name.clone())
        .collect();
    names.sort();
    names
}
