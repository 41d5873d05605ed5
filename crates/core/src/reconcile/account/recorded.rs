//! What a restarted operator may take from an account's status instead of asking Twilio again.
//!
//! A running operator fetches each account from Twilio (verifying its credentials, reading its
//! status, type and balance) once per re-verification period and trusts its memory in between;
//! the inventory list it makes every resync checks the credentials meanwhile. A restarted one
//! has no memory, and asked Twilio again for every account at once: on a rolling update or a
//! leader handover, minutes after the last answer. The status records when that answer was
//! given (`status.verifiedAt`), so the new process trusts it for what is left of the period.

use super::Connected;
use crate::api::TelephonyAccount;
use crate::api::condition::CREDENTIALS_VALID;
use crate::conditions::condition_is_true;
use jiff::{SignedDuration, Timestamp};

/// The connection recorded in `account`'s status, if it can stand for a fetch now: it describes
/// this generation, the credentials were valid and reach `account_sid` (the Twilio account the
/// credentials name now), the account was active, and it was verified less than `max_age` before
/// `now` (and not after it). With the number count its balance goes with, when known.
pub fn recorded_connection(
    account: &TelephonyAccount,
    account_sid: &str,
    now: Timestamp,
    max_age: SignedDuration,
) -> Option<(Connected, Option<u32>)> {
    let st = account.status.as_ref()?;
    let verified_at = st.verified_at.as_ref()?.0;
    let age = now.duration_since(verified_at);
    let fresh = age >= SignedDuration::ZERO && age < max_age;
    let same = st.observed_generation == account.metadata.generation
        && st.account_sid.as_deref() == Some(account_sid)
        && condition_is_true(&st.conditions, CREDENTIALS_VALID)
        && st
            .account_status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("active"));
    (fresh && same).then(|| {
        (
            Connected {
                account_sid: account_sid.to_string(),
                account_status: st.account_status.clone().unwrap_or_default(),
                account_type: st.r#type.clone().unwrap_or_default(),
                balance: st.balance.clone(),
                verified_at: Some(verified_at),
            },
            st.inventory.as_ref().map(|i| i.managed),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0000000000000000000000000000b0b0";

    fn recorded(verified_at: &str) -> TelephonyAccount {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "main", "namespace": "team", "generation": 2},
            "spec": {"mode": "BringYourOwn", "credentialsSecretRef": {"name": "twilio"}},
            "status": {
                "accountSid": SID, "accountStatus": "active", "type": "Full",
                "balance": {"amount": "12.50", "currency": "USD"},
                "verifiedAt": verified_at, "observedGeneration": 2,
                "inventory": {"managed": 7},
                "conditions": [{"type": "CredentialsValid", "status": "True", "reason": "Verified",
                                "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            },
        }))
        .expect("an account")
    }

    fn now() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    const HOUR: SignedDuration = SignedDuration::from_hours(1);

    #[test]
    fn a_recent_verification_of_the_same_account_stands() {
        let (c, numbers) = recorded_connection(&recorded("2026-03-01T11:30:00Z"), SID, now(), HOUR)
            .expect("half an hour old");
        assert_eq!(c.account_sid, SID);
        assert_eq!(c.account_status, "active");
        assert_eq!(c.account_type, "Full");
        assert_eq!(c.balance.map(|b| b.amount).as_deref(), Some("12.50"));
        assert_eq!(c.verified_at, Some("2026-03-01T11:30:00Z".parse().unwrap()));
        assert_eq!(numbers, Some(7));
    }

    #[test]
    fn anything_else_is_asked_again() {
        let old = recorded("2026-03-01T10:30:00Z");
        assert!(
            recorded_connection(&old, SID, now(), HOUR).is_none(),
            "too old"
        );
        let future = recorded("2026-03-01T12:30:00Z");
        assert!(
            recorded_connection(&future, SID, now(), HOUR).is_none(),
            "a clock moved back"
        );
        let fresh = recorded("2026-03-01T11:30:00Z");
        let other = "AC11111111111111111111111111111111";
        assert!(
            recorded_connection(&fresh, other, now(), HOUR).is_none(),
            "the credentials name another Twilio account"
        );
        let mut spec_changed = fresh.clone();
        spec_changed.metadata.generation = Some(3);
        assert!(recorded_connection(&spec_changed, SID, now(), HOUR).is_none());
        let mut invalid = fresh.clone();
        invalid.status.as_mut().unwrap().conditions[0].status = "False".into();
        assert!(recorded_connection(&invalid, SID, now(), HOUR).is_none());
        let mut suspended = fresh.clone();
        suspended.status.as_mut().unwrap().account_status = Some("suspended".into());
        assert!(recorded_connection(&suspended, SID, now(), HOUR).is_none());
        let mut never = fresh;
        never.status.as_mut().unwrap().verified_at = None;
        assert!(
            recorded_connection(&never, SID, now(), HOUR).is_none(),
            "an older operator's status"
        );
    }
}
