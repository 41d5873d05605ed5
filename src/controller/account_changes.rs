//! Which changes of a TelephonyAccount wake whom. Every purchase changes the account's
//! `status.inventory` (the account controller counts the numbers it holds) and its Twilio
//! `status.balance` (each number is charged); if those woke the
//! account controller again, each of its reconciles would list the namespace's PhoneNumbers and
//! write a new count (a loop for as long as numbers are being bought), and if it woke the
//! PhoneNumber controller, every account status write would requeue every PhoneNumber of the
//! account (10,000 reconciles per write). These predicates (hashes for kube-runtime's
//! `predicate_filter`) leave out what the woken side does not act on; the caches are still
//! updated by every change (the filters sit after the reflectors).

use crate::api::{TelephonyAccount, TelephonyAccountStatus};
use std::hash::{DefaultHasher, Hash, Hasher};

/// The account without `status.inventory`, the Twilio `status.balance` and `status.verifiedAt`:
/// what the account controller reacts to. These are its own observations, refreshed at its next requeue (soon
/// while numbers are being bought, the resync, a deadline) instead.
pub fn for_account_controller(account: &TelephonyAccount) -> Option<u64> {
    let status = account.status.as_ref().map(|s| TelephonyAccountStatus {
        inventory: None,
        balance: None,
        verified_at: None,
        ..s.clone()
    });
    Some(hash_of(account, status.as_ref()))
}

/// What a PhoneNumber acts on: the account's spec, metadata (deletion, annotations such as an
/// approved account change) and status without the inventory count, the held numbers, the
/// Twilio balance of a BringYourOwn account (shown, never acted on), the time of the last
/// verification and the credits spent (a
/// purchase or renewal of a sibling changes those). Credits granted and the cycle are kept, so
/// a top-up or a new cycle wakes numbers waiting for credits.
pub fn for_phone_numbers(account: &TelephonyAccount) -> Option<u64> {
    let status = account.status.as_ref().map(|s| {
        let mut s = TelephonyAccountStatus {
            inventory: None,
            held_numbers: Vec::new(),
            balance: None,
            verified_at: None,
            ..s.clone()
        };
        if let Some(c) = s.credits.as_mut() {
            c.spent = String::new();
            c.balance = String::new();
            c.charges = Vec::new();
        }
        s
    });
    Some(hash_of(account, status.as_ref()))
}

fn hash_of(account: &TelephonyAccount, status: Option<&TelephonyAccountStatus>) -> u64 {
    let mut h = DefaultHasher::new();
    let meta = &account.metadata;
    meta.uid.hash(&mut h);
    meta.generation.hash(&mut h);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .hash(&mut h);
    meta.labels.hash(&mut h);
    meta.annotations.hash(&mut h);
    meta.finalizers.hash(&mut h);
    // The spec is covered by the generation; the status (no generation of its own) by its JSON.
    serde_json::to_string(&status)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CreditsStatus, InventoryStatus};

    fn account() -> TelephonyAccount {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "a", "namespace": "t", "uid": "u", "generation": 1},
            "spec": {"mode": "BringYourOwn", "credentialsSecretRef": {"name": "s"}},
            "status": {"accountSid": "AC1", "conditions": []},
        }))
        .unwrap()
    }

    #[test]
    fn an_inventory_count_wakes_neither_side_and_a_spec_change_wakes_both() {
        let a = account();
        let mut counted = a.clone();
        counted.status.as_mut().unwrap().inventory = Some(InventoryStatus::default());
        assert_eq!(for_account_controller(&a), for_account_controller(&counted));
        assert_eq!(for_phone_numbers(&a), for_phone_numbers(&counted));
        let mut changed = a.clone();
        changed.metadata.generation = Some(2);
        assert_ne!(for_account_controller(&a), for_account_controller(&changed));
        assert_ne!(for_phone_numbers(&a), for_phone_numbers(&changed));
        let mut deleting = a.clone();
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-03-01T12:00:00Z".parse().unwrap(),
            ));
        assert_ne!(for_phone_numbers(&a), for_phone_numbers(&deleting));
        let mut not_ready = a.clone();
        not_ready.status.as_mut().unwrap().account_sid = None;
        assert_ne!(for_phone_numbers(&a), for_phone_numbers(&not_ready));
    }

    #[test]
    fn a_twilio_balance_or_verification_time_wakes_neither_side() {
        let a = account();
        let mut charged = a.clone();
        charged.status.as_mut().unwrap().balance = Some(crate::api::Balance {
            amount: "988.50".into(),
            currency: "USD".into(),
        });
        assert_eq!(for_account_controller(&a), for_account_controller(&charged));
        assert_eq!(for_phone_numbers(&a), for_phone_numbers(&charged));
        let mut verified = a.clone();
        verified.status.as_mut().unwrap().verified_at =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-03-01T12:00:00Z".parse().unwrap(),
            ));
        assert_eq!(
            for_account_controller(&a),
            for_account_controller(&verified)
        );
        assert_eq!(for_phone_numbers(&a), for_phone_numbers(&verified));
    }

    #[test]
    fn credits_spent_wake_no_phone_number_but_a_grant_does() {
        let mut a = account();
        a.status.as_mut().unwrap().credits = Some(CreditsStatus {
            granted: "10.00".into(),
            spent: "1.15".into(),
            balance: "8.85".into(),
            ..Default::default()
        });
        let mut spent = a.clone();
        let c = spent.status.as_mut().unwrap().credits.as_mut().unwrap();
        c.spent = "2.30".into();
        c.balance = "7.70".into();
        assert_eq!(for_phone_numbers(&a), for_phone_numbers(&spent));
        assert_ne!(for_account_controller(&a), for_account_controller(&spent));
        let mut topped = a.clone();
        let c = topped.status.as_mut().unwrap().credits.as_mut().unwrap();
        c.granted = "20.00".into();
        c.balance = "18.85".into();
        assert_ne!(for_phone_numbers(&a), for_phone_numbers(&topped));
    }
}
