//! The checks made before any Twilio call: the permanent mode and, for Managed accounts, the
//! platform's terms. A refused mode change means NOTHING is done at Twilio.

use super::usable::mode_change_approved;
use crate::api::{AccountMode, MODE_CHANGE_APPROVED_ANNOTATION, TelephonyAccount};
use crate::reason::Reason;
use kube_core::ResourceExt;

/// The terms summary shown in docs and in the `TermsAccepted` condition when not accepted, built
/// from the same constants as the renewal arithmetic (period and grace window), so the terms a
/// tenant accepts are the rules the operator applies.
pub fn terms_summary() -> String {
    use crate::billing::renewal::{GRACE, PERIOD_DAYS};
    format!(
        "Managed terms: the number selection is permanent; prepaid credits are granted per billing \
         cycle and expire at the end of each cycle; numbers are renewed every {PERIOD_DAYS} days from \
         purchase and released permanently when not renewed within {} hours of the due time; no \
         refunds (releasing a number never returns credit).",
        GRACE.as_hours()
    )
}

/// State of the Managed terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terms {
    /// BringYourOwn: no platform terms apply.
    NotApplicable,
    /// Accepted with the operator's version.
    Accepted,
    /// Not accepted (reason `TermsNotAccepted`) or accepted with another version
    /// (`TermsVersionMismatch`). Nothing billable may happen.
    Blocked { reason: Reason, message: String },
}

/// What the operator may do for this account now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// `spec.mode` differs from the locked `status.mode` and the change is not approved: no
    /// Twilio call, Ready=False/Stalled.
    ModeRefused {
        locked: AccountMode,
        requested: AccountMode,
        message: String,
    },
    /// Connect (or keep connected) in `spec.mode`.
    Proceed {
        /// An approved mode change is being adopted: the connection fields of the old mode are
        /// cleared and the account connects afresh in the new mode.
        adopt_mode_change: Option<(AccountMode, AccountMode)>,
        terms: Terms,
    },
}

/// The state of the Managed terms for `account` against the operator's `terms_version`.
pub fn terms(account: &TelephonyAccount, terms_version: &str) -> Terms {
    if account.spec.mode != AccountMode::Managed {
        return Terms::NotApplicable;
    }
    match account.spec.managed.as_ref() {
        Some(m) if m.terms_accepted && m.terms_version == terms_version => Terms::Accepted,
        Some(m) if m.terms_accepted => Terms::Blocked {
            reason: Reason::TermsVersionMismatch,
            message: format!(
                "spec.managed.termsVersion is {:?} but the current terms are version {terms_version:?}: \
                 review them and set termsVersion: {terms_version:?}. Nothing is bought or renewed until then. {}",
                m.terms_version,
                terms_summary()
            ),
        },
        _ => Terms::Blocked {
            reason: Reason::TermsNotAccepted,
            message: format!(
                "set spec.managed.termsAccepted: true and termsVersion: {terms_version:?} to accept the platform's terms. \
                 Nothing is bought until then. {}",
                terms_summary()
            ),
        },
    }
}

/// The gate for `account`: refuse an unapproved mode change, otherwise proceed.
pub fn gate(account: &TelephonyAccount, terms_version: &str) -> Gate {
    let locked = account.status.as_ref().and_then(|s| s.mode);
    let requested = account.spec.mode;
    let adopt = match locked {
        Some(locked) if locked != requested => {
            if !mode_change_approved(account) {
                return Gate::ModeRefused {
                    locked,
                    requested,
                    message: format!(
                        "TelephonyAccount {} connected in mode {locked}; spec.mode {requested} is refused and nothing \
                         is changed at Twilio. The mode is permanent: set spec.mode back to {locked}, or have an \
                         administrator approve the change with the annotation {MODE_CHANGE_APPROVED_ANNOTATION}=\"true\"",
                        account.name_any()
                    ),
                };
            }
            Some((locked, requested))
        }
        _ => None,
    };
    Gate::Proceed {
        adopt_mode_change: adopt,
        terms: terms(account, terms_version),
    }
}

#[cfg(test)]
mod tests {
    use super::terms_summary;

    #[test]
    fn the_terms_summary_states_the_renewal_rules_the_operator_applies() {
        assert_eq!(
            terms_summary(),
            "Managed terms: the number selection is permanent; prepaid credits are granted per billing \
             cycle and expire at the end of each cycle; numbers are renewed every 28 days from purchase \
             and released permanently when not renewed within 48 hours of the due time; no refunds \
             (releasing a number never returns credit)."
        );
    }
}
