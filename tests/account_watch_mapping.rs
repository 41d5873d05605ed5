//! Which TelephonyAccounts a watched object wakes: a tenant Secret wakes the accounts of its
//! namespace that name it (credential rotation without a restart); the master credentials wake
//! every Managed account; a PhoneNumber wakes only its account while that account is being
//! deleted.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher;
use serde_json::json;
use telephony_operator::api::{AccountMode, PhoneNumber, TelephonyAccount};
use telephony_operator::controller::account::{
    accounts_using_secret, deleting_account_of, managed_accounts,
};

fn account(ns: &str, name: &str, mode: &str, secret: Option<&str>) -> TelephonyAccount {
    let mut spec = json!({"mode": mode, "friendlyName": "x"});
    if let Some(s) = secret {
        spec["credentialsSecretRef"] = json!({"name": s});
    }
    if mode == "Managed" {
        spec["managed"] = json!({"termsAccepted": true});
    }
    serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": name, "namespace": ns}, "spec": spec
    }))
    .unwrap()
}

fn names(refs: Vec<ObjectRef<TelephonyAccount>>) -> Vec<String> {
    let mut v: Vec<String> = refs
        .into_iter()
        .map(|r| format!("{}/{}", r.namespace.unwrap_or_default(), r.name))
        .collect();
    v.sort();
    v
}

#[test]
fn secrets_and_numbers_map_to_the_right_accounts() {
    let (store, mut writer) = reflector::store::<TelephonyAccount>();
    let mut deleting = account("a", "old", "Managed", None);
    deleting.metadata.deletion_timestamp = Some(Time("2026-01-01T00:00:00Z".parse().unwrap()));
    // A BringYourOwn account switched (with approval) to Managed still counts as Managed.
    let mut switched = account("c", "switched", "BringYourOwn", Some("twilio"));
    switched.status = Some(telephony_operator::api::TelephonyAccountStatus {
        mode: Some(AccountMode::Managed),
        ..Default::default()
    });
    for a in [
        account("a", "one", "BringYourOwn", Some("twilio")),
        account("a", "two", "BringYourOwn", Some("twilio")),
        account("a", "three", "BringYourOwn", Some("other")),
        account("b", "one", "BringYourOwn", Some("twilio")),
        account("b", "managed", "Managed", None),
        deleting,
        switched,
    ] {
        writer.apply_watcher_event(&watcher::Event::Apply(a));
    }
    assert_eq!(
        names(accounts_using_secret(&store, "a", "twilio")),
        vec!["a/one", "a/two"]
    );
    assert_eq!(
        names(accounts_using_secret(&store, "b", "twilio")),
        vec!["b/one"]
    );
    assert!(accounts_using_secret(&store, "c", "nothing").is_empty());
    assert_eq!(
        names(managed_accounts(&store)),
        vec!["a/old", "b/managed", "c/switched"]
    );

    let pn = |ns: &str, account: &str| -> PhoneNumber {
        serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "n", "namespace": ns},
            "spec": {"accountRef": {"name": account}, "number": "+14155550100"}
        }))
        .unwrap()
    };
    assert_eq!(
        deleting_account_of(&store, &pn("a", "old")).map(|r| r.name),
        Some("old".to_string())
    );
    assert!(
        deleting_account_of(&store, &pn("a", "one")).is_none(),
        "live accounts are not woken"
    );
    assert!(
        deleting_account_of(&store, &pn("b", "old")).is_none(),
        "references never cross namespaces"
    );
}
