//! Whether a PhoneNumber may act through its TelephonyAccount, and how it waits when it may not:
//! an account still connecting (or briefly not Ready) makes its numbers wait (Reconciling); an
//! account that needs a person (Stalled: Secret missing, credentials refused, ...) stalls its
//! numbers with the account's own reason.

use serde_json::json;
use telephony_operator::api::condition::{READY, RECONCILING, STALLED};
use telephony_operator::api::{PhoneNumber, TelephonyAccount};
use telephony_operator::reconcile::account::usable;
use telephony_operator::reconcile::phone_number::{AccountView, Observed, decide};

const TERMS: &str = telephony_operator::DEFAULT_TERMS_VERSION;

fn account(status: serde_json::Value) -> TelephonyAccount {
    serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "acct", "namespace": "team-a", "generation": 1},
        "spec": {"mode": "BringYourOwn", "friendlyName": "acme", "credentialsSecretRef": {"name": "twilio"}},
        "status": status
    }))
    .unwrap()
}

fn condition(type_: &str, status: &str, reason: &str) -> serde_json::Value {
    json!({"type": type_, "status": status, "reason": reason, "message": format!("{reason} message"),
           "lastTransitionTime": "2026-01-01T00:00:00Z"})
}

fn number() -> PhoneNumber {
    let mut p: PhoneNumber = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": "pn", "namespace": "team-a", "generation": 1, "uid": "u1"},
        "spec": {"accountRef": {"name": "acct"}, "number": "+14155550100"}
    }))
    .unwrap();
    p.metadata.generation = Some(1);
    p
}

/// What the PhoneNumber's conditions say when its account is `account`.
fn number_conditions(account: &TelephonyAccount) -> (bool, bool, String) {
    let nu = usable(account, TERMS).expect_err("not usable");
    let obs = Observed::new(
        "2026-01-01T00:00:00Z".parse().unwrap(),
        AccountView::NotUsable {
            why: telephony_operator::controller::conditions::ReasonMessage::new(
                nu.reason.clone(),
                nu.message.clone(),
            ),
            transient: nu.transient,
            first_look_due: nu.first_look_due,
        },
    );
    let d = decide(&number(), &obs);
    let is_true = |t: &str| {
        d.status
            .conditions
            .iter()
            .any(|c| c.type_ == t && c.status == "True")
    };
    let ready = d.status.conditions.iter().find(|c| c.type_ == READY);
    assert!(ready.is_some_and(|c| c.status == "False"), "{d:?}");
    (
        is_true(RECONCILING),
        is_true(STALLED),
        ready.map(|c| c.reason.clone()).unwrap_or_default(),
    )
}

#[test]
fn numbers_of_an_account_still_connecting_are_reconciling_not_stalled() {
    for status in [
        json!(null),
        json!({}),
        json!({"conditions": [condition(READY, "False", "Connecting"), condition(RECONCILING, "True", "Connecting")]}),
        json!({"accountSid": "AC00000000000000000000000000000001",
               "conditions": [condition(READY, "False", "TwilioUnavailable"), condition(RECONCILING, "True", "TwilioUnavailable")]}),
    ] {
        let acct = account(status.clone());
        let nu = usable(&acct, TERMS).expect_err("not usable yet");
        assert!(nu.transient, "{status}: {nu:?}");
        let (reconciling, stalled, _) = number_conditions(&acct);
        assert!(reconciling && !stalled, "{status}");
    }
}

/// An account the operator has not looked at yet (no Ready condition), created moments ago: a
/// number without a status of its own waits for the first verdict without writing anything
/// (its account's first status wakes it), until 30 s after the account's creation. A number
/// with a status, an account with a verdict, and an account past the grace get the usual
/// Reconciling status.
#[test]
fn numbers_wait_silently_for_a_new_accounts_first_verdict() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use telephony_operator::reconcile::phone_number::Action;
    let created: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let at = |secs: i64| {
        created
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap()
    };
    let mut acct = account(json!({"observedGeneration": -1}));
    acct.metadata.creation_timestamp = Some(Time(created));
    let nu = usable(&acct, TERMS).expect_err("not looked at yet");
    assert!(nu.transient);
    assert_eq!(nu.first_look_due, Some(at(30)));
    let view = AccountView::NotUsable {
        why: telephony_operator::controller::conditions::ReasonMessage::new(
            nu.reason.clone(),
            nu.message.clone(),
        ),
        transient: true,
        first_look_due: nu.first_look_due,
    };

    let d = decide(&number(), &Observed::new(at(1), view.clone()));
    assert_eq!(d.action, Action::AwaitAccountFirstLook);
    assert_eq!(
        d.requeue_at,
        Some(at(30)),
        "looks again when the grace ends"
    );
    assert!(d.event.is_none());

    // The grace is over: the account is stuck, its numbers say so.
    let d = decide(&number(), &Observed::new(at(30), view.clone()));
    assert_eq!(d.action, Action::Wait);
    assert!(
        d.status.conditions.iter().any(|c| c.type_ == RECONCILING
            && c.status == "True"
            && c.reason == "WaitingForAccount"),
        "{d:?}"
    );

    // A number that already shows a verdict keeps showing the current one.
    let mut seen = number();
    seen.status = Some(d.status.clone());
    let d = decide(&seen, &Observed::new(at(1), view));
    assert_eq!(d.action, Action::Wait);

    // An account with a verdict (connecting, not Ready yet), or without a creation time: none.
    let mut connecting = account(json!({
        "conditions": [condition(READY, "False", "TwilioUnavailable"), condition(RECONCILING, "True", "TwilioUnavailable")]
    }));
    connecting.metadata.creation_timestamp = Some(Time(created));
    assert_eq!(usable(&connecting, TERMS).unwrap_err().first_look_due, None);
    assert_eq!(
        usable(&account(json!({})), TERMS)
            .unwrap_err()
            .first_look_due,
        None
    );
}

#[test]
fn numbers_of_a_stalled_account_are_stalled_with_its_reason() {
    for reason in ["SecretNotFound", "KeyMissing", "AuthenticationFailed"] {
        let acct = account(json!({
            "conditions": [condition(READY, "False", reason), condition(STALLED, "True", reason)]
        }));
        let nu = usable(&acct, TERMS).expect_err("not usable");
        assert!(!nu.transient);
        assert_eq!(nu.reason, reason);
        assert!(
            nu.message.contains(&format!("{reason} message")),
            "{}",
            nu.message
        );
        let (reconciling, stalled, ready_reason) = number_conditions(&acct);
        assert!(stalled && !reconciling, "{reason}");
        assert_eq!(ready_reason, reason);
    }
}

#[test]
fn a_ready_connected_account_is_usable() {
    let acct = account(json!({
        "accountSid": "AC00000000000000000000000000000001",
        "conditions": [condition(READY, "True", "Connected")]
    }));
    assert_eq!(usable(&acct, TERMS), Ok(()));
}

/// A terminating account (its deletion deletes its PhoneNumbers first) and a Managed account
/// whose terms lapsed can no longer buy, but can still release: nothing deadlocks, nothing leaks.
#[test]
fn a_terminating_account_cannot_buy_but_can_release() {
    use telephony_operator::reconcile::account::releasable;
    let connected = json!({"accountSid": "AC00000000000000000000000000000001", "mode": "BringYourOwn",
        "conditions": [condition(READY, "True", "Connected"), condition("CredentialsValid", "True", "Verified")]});
    let mut deleting = account(connected.clone());
    deleting.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-01-01T00:00:00Z".parse().unwrap(),
        ));
    assert_eq!(
        usable(&deleting, TERMS).unwrap_err().reason.as_str(),
        "AccountDeleting"
    );
    assert!(releasable(&deleting).is_ok());

    // Credentials Twilio refused: nothing can be released, a person must act.
    let refused = account(json!({"accountSid": "AC00000000000000000000000000000001",
        "conditions": [condition(READY, "False", "AuthenticationFailed"),
                       condition("CredentialsValid", "False", "AuthenticationFailed")]}));
    let nu = releasable(&refused).unwrap_err();
    assert_eq!(nu.reason.as_str(), "AuthenticationFailed");
    assert!(!nu.transient);

    // Never connected: nothing was bought through it; waiting is all there is.
    let fresh = account(json!({"conditions": [condition(READY, "False", "Connecting")]}));
    assert!(releasable(&fresh).unwrap_err().transient);
}
