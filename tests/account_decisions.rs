//! Decision-level tests of the TelephonyAccount logic (`reconcile::account`): mode lock, terms,
//! credential and Twilio failures, subaccount naming and choice, inventory summary, deletion,
//! `usable`. Pure functions: no cluster, no Twilio.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::ObjectMeta;
use std::collections::BTreeMap;
use telephony_operator::api::condition::*;
use telephony_operator::api::*;
use telephony_operator::controller::conditions::{condition_is_true, get_condition};
use telephony_operator::reconcile::account::*;
use telephony_operator::reconcile::phone_number::PhoneNumberSummary;
use telephony_operator::twilio::{Account, ErrorClass, TwilioError};

const TV: &str = "2026-01";
const SID: &str = "AC0123456789abcdef0123456789abcdef";

fn now() -> jiff::Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn account(mode: AccountMode) -> TelephonyAccount {
    let spec = TelephonyAccountSpec {
        mode,
        friendly_name: Some("acme".into()),
        credentials_secret_ref: (mode == AccountMode::BringYourOwn).then(|| CredentialsSecretRef {
            name: "twilio".into(),
            account_sid_key: None,
            auth_token_key: None,
            api_key_sid_key: None,
            api_key_secret_key: None,
        }),
        managed: (mode == AccountMode::Managed).then(|| ManagedSpec {
            terms_accepted: true,
            terms_version: TV.into(),
            ..Default::default()
        }),
        region: None,
        edge: None,
    };
    let mut a = TelephonyAccount::new("main", spec);
    a.metadata = ObjectMeta {
        name: Some("main".into()),
        namespace: Some("team-a".into()),
        uid: Some("0f1e2d3c-aaaa-bbbb-cccc-000000000000".into()),
        generation: Some(3),
        ..Default::default()
    };
    a
}

fn connected() -> Connection {
    Connection::Connected(Connected {
        account_sid: SID.into(),
        account_status: "active".into(),
        account_type: "Full".into(),
        balance: Some(Balance {
            amount: "12.50".into(),
            currency: "USD".into(),
        }),
        verified_at: None,
    })
}

fn run(a: &TelephonyAccount, conn: Connection) -> Decision {
    let g = gate(a, TV);
    decide(a, TV, now(), &g, Observation::new(conn))
}

fn with_status(mut a: TelephonyAccount, d: &Decision) -> TelephonyAccount {
    a.status = Some(d.status.clone());
    a
}

fn cond<'a>(
    d: &'a Decision,
    t: &str,
) -> &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    get_condition(&d.status.conditions, t).unwrap_or_else(|| panic!("no condition {t}"))
}

#[test]
fn byo_first_connect_locks_mode_and_is_ready() {
    let a = account(AccountMode::BringYourOwn);
    let d = run(&a, connected());
    assert_eq!(d.status.mode, Some(AccountMode::BringYourOwn));
    assert_eq!(d.status.account_sid.as_deref(), Some(SID));
    assert_eq!(d.status.account_status.as_deref(), Some("active"));
    assert_eq!(d.status.r#type.as_deref(), Some("Full"));
    assert_eq!(d.status.balance.as_ref().unwrap().amount, "12.50");
    assert_eq!(d.status.observed_generation, Some(3));
    assert!(condition_is_true(&d.status.conditions, READY));
    assert!(condition_is_true(&d.status.conditions, CREDENTIALS_VALID));
    assert!(condition_is_true(&d.status.conditions, MODE_LOCKED));
    assert!(get_condition(&d.status.conditions, TERMS_ACCEPTED).is_none());
    assert!(get_condition(&d.status.conditions, STALLED).is_none());
    let reasons: Vec<&str> = d.events.iter().map(|e| e.reason.as_str()).collect();
    assert!(
        reasons.contains(&"Connected") && reasons.contains(&"ModeLocked"),
        "{reasons:?}"
    );

    // A second identical reconcile changes nothing and records no event.
    let a2 = with_status(a, &d);
    let d2 = run(&a2, connected());
    assert_eq!(d2.status, d.status);
    assert!(d2.events.is_empty(), "{:?}", d2.events);
}

#[test]
fn mode_change_without_annotation_is_refused_and_nothing_happens() {
    let a = account(AccountMode::BringYourOwn);
    let d = run(&a, connected());
    let mut changed = with_status(a, &d);
    changed.spec.mode = AccountMode::Managed;
    changed.metadata.generation = Some(4);
    let g = gate(&changed, TV);
    assert!(matches!(
        g,
        Gate::ModeRefused {
            locked: AccountMode::BringYourOwn,
            requested: AccountMode::Managed,
            ..
        }
    ));
    let d2 = decide(
        &changed,
        TV,
        now(),
        &g,
        Observation::new(Connection::NotAttempted),
    );
    assert_eq!(cond(&d2, READY).status, "False");
    assert_eq!(cond(&d2, READY).reason, "ModeChangeNotApproved");
    assert_eq!(cond(&d2, STALLED).status, "True");
    assert_eq!(cond(&d2, STALLED).reason, "ModeChangeNotApproved");
    assert!(
        cond(&d2, STALLED)
            .message
            .contains(MODE_CHANGE_APPROVED_ANNOTATION)
    );
    // The locked mode and connection stay as they were.
    assert_eq!(d2.status.mode, Some(AccountMode::BringYourOwn));
    assert_eq!(d2.status.account_sid.as_deref(), Some(SID));
    assert_eq!(d2.status.observed_generation, Some(4));
    assert_eq!(d2.events.len(), 1);
    assert!(d2.events[0].warning && d2.events[0].reason == "ModeChangeRefused");
    // Not usable by PhoneNumbers.
    let refused = with_status(changed.clone(), &d2);
    assert_eq!(
        usable(&refused, TV).unwrap_err().reason,
        "ModeChangeNotApproved"
    );
    // Repeated reconciles do not repeat the event.
    let d3 = decide(
        &refused,
        TV,
        now(),
        &gate(&refused, TV),
        Observation::new(Connection::NotAttempted),
    );
    assert!(d3.events.is_empty());
    // The annotation "false" is no approval.
    let mut no = refused.clone();
    no.metadata.annotations = Some(BTreeMap::from([(
        MODE_CHANGE_APPROVED_ANNOTATION.to_string(),
        "false".to_string(),
    )]));
    assert!(matches!(gate(&no, TV), Gate::ModeRefused { .. }));
}

#[test]
fn approved_mode_change_is_adopted() {
    let a = account(AccountMode::BringYourOwn);
    let d = run(&a, connected());
    let mut changed = with_status(account(AccountMode::Managed), &d);
    changed.metadata.annotations = Some(BTreeMap::from([(
        MODE_CHANGE_APPROVED_ANNOTATION.to_string(),
        "true".to_string(),
    )]));
    let g = gate(&changed, TV);
    assert_eq!(
        g,
        Gate::Proceed {
            adopt_mode_change: Some((AccountMode::BringYourOwn, AccountMode::Managed)),
            terms: Terms::Accepted
        }
    );
    let mut working = changed.clone();
    adopt_mode_change(working.status.as_mut().unwrap(), AccountMode::Managed);
    assert_eq!(working.status.as_ref().unwrap().account_sid, None);
    assert_eq!(working.status.as_ref().unwrap().mode, None);
    let sub = "AC11111111111111111111111111111111";
    let conn = Connection::Connected(Connected {
        account_sid: sub.into(),
        account_status: "active".into(),
        account_type: "Full".into(),
        balance: None,
        verified_at: None,
    });
    let d2 = decide(&working, TV, now(), &g, Observation::new(conn));
    assert_eq!(d2.status.mode, Some(AccountMode::Managed));
    assert_eq!(d2.status.account_sid.as_deref(), Some(sub));
    assert_eq!(d2.status.balance, None);
    assert!(condition_is_true(&d2.status.conditions, READY));
    assert!(d2.events.iter().any(|e| e.reason == "ModeChangeApproved"));
}

#[test]
fn managed_without_accepted_terms_is_stalled_with_the_summary() {
    let mut a = account(AccountMode::Managed);
    a.spec.managed.as_mut().unwrap().terms_accepted = false;
    let g = gate(&a, TV);
    assert!(matches!(
        &g,
        Gate::Proceed {
            terms: Terms::Blocked {
                reason: telephony_operator::controller::conditions::Reason::TermsNotAccepted,
                ..
            },
            ..
        }
    ));
    let d = decide(
        &a,
        TV,
        now(),
        &g,
        Observation::new(Connection::NotAttempted),
    );
    let t = cond(&d, TERMS_ACCEPTED);
    assert_eq!(
        (t.status.as_str(), t.reason.as_str()),
        ("False", "TermsNotAccepted")
    );
    for needle in [
        "permanent",
        "expire at the end of each cycle",
        "28 days",
        "48 hours",
        "no refunds",
    ] {
        assert!(
            t.message.contains(needle),
            "terms message lacks {needle:?}: {}",
            t.message
        );
    }
    assert_eq!(cond(&d, READY).reason, "TermsNotAccepted");
    assert_eq!(cond(&d, STALLED).status, "True");
    assert_eq!(
        d.status.mode, None,
        "not connected, so the mode is not locked yet"
    );
    assert!(
        d.events
            .iter()
            .any(|e| e.warning && e.reason == "TermsNotAccepted")
    );
    assert_eq!(
        usable(&with_status(a, &d), TV).unwrap_err().reason,
        "TermsNotAccepted"
    );
}

#[test]
fn terms_version_mismatch_blocks_even_a_connected_account() {
    let a = account(AccountMode::Managed);
    let d = run(&a, connected());
    assert!(condition_is_true(&d.status.conditions, READY));
    assert!(condition_is_true(&d.status.conditions, TERMS_ACCEPTED));
    let ok = with_status(a, &d);
    assert_eq!(usable(&ok, TV), Ok(()));
    // The operator moves to new terms: blocked until re-accepted.
    let d2 = run(&ok, connected()); // same version: still fine
    assert!(condition_is_true(&d2.status.conditions, READY));
    let g = gate(&ok, "2026-06");
    let d3 = decide(&ok, "2026-06", now(), &g, Observation::new(connected()));
    assert_eq!(cond(&d3, TERMS_ACCEPTED).reason, "TermsVersionMismatch");
    assert_eq!(cond(&d3, READY).status, "False");
    assert_eq!(
        usable(&ok, "2026-06").unwrap_err().reason,
        "TermsVersionMismatch"
    );
}

#[test]
fn credential_failures_have_reasons() {
    let a = account(AccountMode::BringYourOwn);
    // Secret problems are Stalled (a person must act).
    for reason in ["SecretNotFound", "KeyMissing", "InvalidCredentials"] {
        let d = run(
            &a,
            Connection::AccessFailed {
                reason: telephony_operator::controller::conditions::Reason::parse(reason),
                message: format!("{reason} msg"),
                transient: false,
            },
        );
        assert_eq!(cond(&d, CREDENTIALS_VALID).reason, reason);
        assert_eq!(cond(&d, CREDENTIALS_VALID).status, "False");
        assert_eq!(cond(&d, STALLED).reason, reason);
        assert_eq!(d.requeue, Requeue::Resync);
        assert!(d.events.iter().any(|e| e.warning && e.reason == reason));
        assert_eq!(d.status.mode, None);
    }
    // Twilio 20003.
    let mut err = TwilioError {
        class: ErrorClass::Permanent,
        status: Some(401),
        code: Some(20003),
        message: "Authenticate".into(),
        more_info: None,
        operation: "fetch_account",
    };
    let d = run(&a, Connection::Twilio(err.clone()));
    assert_eq!(cond(&d, CREDENTIALS_VALID).reason, "AuthenticationFailed");
    assert!(cond(&d, CREDENTIALS_VALID).message.contains("20003"));
    assert_eq!(cond(&d, STALLED).reason, "AuthenticationFailed");
    // Twilio down: Reconciling, retried.
    err.class = ErrorClass::Retryable;
    err.status = Some(503);
    err.code = Some(20503);
    let d = run(&a, Connection::Twilio(err));
    assert_eq!(cond(&d, CREDENTIALS_VALID).reason, "TwilioUnavailable");
    assert_eq!(cond(&d, RECONCILING).status, "True");
    assert!(get_condition(&d.status.conditions, STALLED).is_none());
    assert_eq!(d.requeue, Requeue::Retry);
}

#[test]
fn suspended_and_closed_accounts() {
    let a = account(AccountMode::BringYourOwn);
    for (st, reason) in [
        ("suspended", "AccountSuspended"),
        ("closed", "AccountClosed"),
    ] {
        let conn = Connection::Connected(Connected {
            account_sid: SID.into(),
            account_status: st.into(),
            account_type: "Full".into(),
            balance: None,
            verified_at: None,
        });
        let d = run(&a, conn);
        assert_eq!(cond(&d, CREDENTIALS_VALID).reason, reason);
        assert_eq!(cond(&d, READY).reason, reason);
        assert_eq!(d.status.account_status.as_deref(), Some(st));
        // The account needs a person (Stalled): its numbers stall with the account's reason.
        let not_usable = usable(&with_status(a.clone(), &d), TV).unwrap_err();
        assert_eq!(not_usable.reason, reason);
        assert!(!not_usable.transient);
    }
}

#[test]
fn rotation_recovers_and_keeps_transition_time() {
    let a = account(AccountMode::BringYourOwn);
    let d = run(
        &a,
        Connection::AccessFailed {
            reason: telephony_operator::controller::conditions::Reason::KeyMissing,
            message: "m".into(),
            transient: false,
        },
    );
    let a = with_status(a, &d);
    let t0 = cond(&d, READY).last_transition_time.clone();
    let d2 = run(
        &a,
        Connection::AccessFailed {
            reason: telephony_operator::controller::conditions::Reason::KeyMissing,
            message: "m".into(),
            transient: false,
        },
    );
    assert_eq!(cond(&d2, READY).last_transition_time, t0);
    assert!(d2.events.is_empty());
    let d3 = run(&a, connected());
    assert!(condition_is_true(&d3.status.conditions, READY));
    assert!(get_condition(&d3.status.conditions, STALLED).is_none());
}

#[test]
fn subaccount_friendly_name_is_deterministic_and_short() {
    let a = account(AccountMode::Managed);
    assert_eq!(subaccount_friendly_name(&a), "agni/team-a/main/0f1e2d3c");
    let mut long = a.clone();
    long.metadata.namespace = Some("n".repeat(63));
    long.metadata.name = Some("x".repeat(253));
    let name = subaccount_friendly_name(&long);
    assert!(name.len() <= MAX_FRIENDLY_NAME, "{name}");
    assert!(name.ends_with("/0f1e2d3c"));
    assert_eq!(name, subaccount_friendly_name(&long));
}

fn acct(sid: &str, name: &str, status: &str, created: &str) -> Account {
    Account {
        sid: sid.into(),
        owner_account_sid: "AC00000000000000000000000000000000".into(),
        friendly_name: name.into(),
        status: status.into(),
        r#type: "Full".into(),
        date_created: Some(created.parse().unwrap()),
    }
}

#[test]
fn picking_a_subaccount_skips_closed_and_prefers_the_oldest() {
    let n = "agni/team-a/main/0f1e2d3c";
    let listed = vec![
        acct("AC3", n, "closed", "2026-01-01T00:00:00Z"),
        acct("AC2", n, "active", "2026-01-03T00:00:00Z"),
        acct("AC1", n, "active", "2026-01-02T00:00:00Z"),
        acct("AC9", "other", "active", "2025-01-01T00:00:00Z"),
    ];
    assert_eq!(pick_subaccount(&listed, n).unwrap().sid, "AC1");
    assert_eq!(duplicates(&listed, n, "AC1"), vec!["AC2"]);
    assert!(
        pick_subaccount(&listed[..1], n).is_none(),
        "a closed subaccount is never reused"
    );
}

fn pn(
    name: &str,
    account: &str,
    number: Option<&str>,
    phase: Option<Phase>,
    fee: Option<&str>,
) -> PhoneNumber {
    let mut p: PhoneNumber = serde_json::from_value(serde_json::json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"accountRef": {"name": account}, "search": {"country": "US", "type": "Local"}}
    }))
    .unwrap();
    let mut st = PhoneNumberStatus {
        phase,
        phone_number: number.map(Into::into),
        ..Default::default()
    };
    if let Some(fee) = fee {
        st.pricing = Some(
            serde_json::from_value(
                serde_json::json!({"currency": "USD", "monthlyFee": fee, "source": "RateCard"}),
            )
            .unwrap(),
        );
    }
    p.status = Some(st);
    p
}

#[test]
fn inventory_summary_counts_claimed_and_unclaimed() {
    let numbers = vec![
        pn(
            "a",
            "main",
            Some("+14155550001"),
            Some(Phase::Active),
            Some("1.15"),
        ),
        pn(
            "b",
            "main",
            Some("+14155550002"),
            Some(Phase::Active),
            Some("1.15"),
        ),
        pn(
            "c",
            "other",
            Some("+14155550003"),
            Some(Phase::Active),
            Some("1.15"),
        ),
        pn(
            "d",
            "main",
            Some("+14155550004"),
            Some(Phase::Released),
            Some("1.15"),
        ),
        pn(
            "e",
            "main",
            Some("+14155550009"),
            Some(Phase::Active),
            Some("2.00"),
        ), // lost at Twilio
    ];
    let summaries: Vec<PhoneNumberSummary> = numbers.iter().map(PhoneNumberSummary::of).collect();
    let claims = claims_of("main", &summaries);
    assert_eq!(claims.len(), 3);
    let mut owned: Vec<String> = (1..=4).map(|i| format!("+1415555000{i}")).collect();
    owned.extend((10..40).map(|i| format!("+141555501{i:02}")));
    let inv = summarize(&owned, &claims, now());
    assert_eq!(inv.managed, 2);
    assert_eq!(inv.unclaimed, 32);
    assert_eq!(inv.unclaimed_numbers.len(), MAX_UNCLAIMED_LISTED);
    assert!(inv.unclaimed_numbers.contains(&"+14155550003".to_string()));
    assert_eq!(inv.monthly_cost.as_deref(), Some("2.30"));
    assert_eq!(inv.currency.as_deref(), Some("USD"));
    assert_eq!(referencing("main", &numbers), vec!["a", "b", "d", "e"]);
}

#[test]
fn unchanged_inventory_does_not_rewrite_status() {
    let a = account(AccountMode::BringYourOwn);
    let mut obs = Observation::new(connected());
    obs.inventory = Some(summarize(&["+14155550001".to_string()], &[], now()));
    let d = decide(&a, TV, now(), &gate(&a, TV), obs);
    let a = with_status(a, &d);
    let later: jiff::Timestamp = "2026-03-01T13:00:00Z".parse().unwrap();
    let mut obs = Observation::new(connected());
    obs.inventory = Some(summarize(&["+14155550001".to_string()], &[], later));
    let d2 = decide(&a, TV, later, &gate(&a, TV), obs);
    assert_eq!(d2.status, d.status);
}

#[test]
fn deletion_waits_for_numbers_then_closes_managed_subaccount() {
    let a = account(AccountMode::Managed);
    let d = run(&a, connected());
    let a = with_status(a, &d);
    match deletion_step(&a, &["n1".to_string(), "n2".to_string()]) {
        DeletionStep::ReleaseNumbers { message } => {
            assert!(message.contains("n1, n2"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        deletion_step(&a, &[]),
        DeletionStep::CloseSubaccount { sid: SID.into() }
    );
    // An administrator may leave it open (credentials gone for good).
    let mut skip = a.clone();
    skip.metadata.annotations = Some(BTreeMap::from([(
        SKIP_RELEASE_ANNOTATION.to_string(),
        "true".to_string(),
    )]));
    assert_eq!(
        deletion_step(&skip, &[]),
        DeletionStep::LeaveSubaccountOpen { sid: SID.into() }
    );
    assert!(matches!(
        deletion_step(&skip, &["n1".to_string()]),
        DeletionStep::ReleaseNumbers { .. }
    ));
    // BringYourOwn: the workspace's own account is never closed.
    let b = account(AccountMode::BringYourOwn);
    let b = with_status(b.clone(), &run(&b, connected()));
    assert_eq!(deletion_step(&b, &[]), DeletionStep::RemoveFinalizer);
    // A Managed account that never connected has nothing to close.
    assert_eq!(
        deletion_step(&account(AccountMode::Managed), &[]),
        DeletionStep::RemoveFinalizer
    );
}

#[test]
fn usable_requires_connection_and_readiness() {
    let a = account(AccountMode::BringYourOwn);
    assert_eq!(usable(&a, TV).unwrap_err().reason, "AccountNotConnected");
    let ok = with_status(a, &run(&account(AccountMode::BringYourOwn), connected()));
    assert_eq!(usable(&ok, TV), Ok(()));
    let mut deleting = ok.clone();
    deleting.metadata.deletion_timestamp = Some(Time(now()));
    assert_eq!(usable(&deleting, TV).unwrap_err().reason, "AccountDeleting");
}

/// Issue: a Secret rotated to another valid Twilio account switched accounts silently. The
/// Account SID is locked like the mode: Stalled `AccountChanged` (one event), the recorded SID
/// kept, the other account's inventory ignored, its numbers unusable and unreleasable through
/// the new account — until an administrator's annotation names the new SID.
#[test]
fn a_secret_naming_another_twilio_account_stops_the_account_until_approved() {
    const OTHER: &str = "AC99999999999999999999999999999999";
    let a = account(AccountMode::BringYourOwn);
    let bound = with_status(a.clone(), &run(&a, connected()));
    let other = Connection::Connected(Connected {
        account_sid: OTHER.into(),
        account_status: "active".into(),
        account_type: "Full".into(),
        balance: None,
        verified_at: None,
    });
    let mut obs = Observation::new(other.clone());
    obs.inventory = Some(summarize(&["+14155550199".to_string()], &[], now()));
    let d = decide(&bound, TV, now(), &gate(&bound, TV), obs);
    assert_eq!(
        d.status.account_sid.as_deref(),
        Some(SID),
        "the bound SID is kept"
    );
    assert_eq!(cond(&d, STALLED).status, "True");
    assert_eq!(cond(&d, STALLED).reason, "AccountChanged");
    assert!(
        cond(&d, STALLED).message.contains(OTHER),
        "{}",
        cond(&d, STALLED).message
    );
    assert_eq!(cond(&d, READY).status, "False");
    assert_eq!(d.status.inventory, bound.status.as_ref().unwrap().inventory);
    assert_eq!(
        d.events
            .iter()
            .filter(|e| e.reason.as_str() == "AccountChanged")
            .count(),
        1
    );
    let stopped = with_status(bound.clone(), &d);
    // Its numbers: neither bought through it nor released through it.
    assert_eq!(
        usable(&stopped, TV).unwrap_err().reason.as_str(),
        "AccountChanged"
    );
    assert_eq!(
        releasable(&stopped).unwrap_err().reason.as_str(),
        "AccountChanged"
    );
    // Once stopped, the next reconcile repeats no event.
    let again = decide(
        &stopped,
        TV,
        now(),
        &gate(&stopped, TV),
        Observation::new(other.clone()),
    );
    assert!(
        again
            .events
            .iter()
            .all(|e| e.reason.as_str() != "AccountChanged")
    );

    // An approval naming another SID approves nothing.
    let mut wrong = stopped.clone();
    wrong.metadata.annotations = Some(BTreeMap::from([(
        ACCOUNT_CHANGE_APPROVED_ANNOTATION.to_string(),
        "AC00000000000000000000000000000000".to_string(),
    )]));
    let d = decide(
        &wrong,
        TV,
        now(),
        &gate(&wrong, TV),
        Observation::new(other.clone()),
    );
    assert_eq!(d.status.account_sid.as_deref(), Some(SID));

    // Approved: bound to the new account; the old account's numbers stay out of its reach.
    let mut approved = stopped.clone();
    approved.metadata.annotations = Some(BTreeMap::from([(
        ACCOUNT_CHANGE_APPROVED_ANNOTATION.to_string(),
        OTHER.to_string(),
    )]));
    let d = decide(
        &approved,
        TV,
        now(),
        &gate(&approved, TV),
        Observation::new(other),
    );
    assert_eq!(d.status.account_sid.as_deref(), Some(OTHER));
    assert_eq!(cond(&d, READY).status, "True");
    assert!(
        d.events
            .iter()
            .any(|e| e.reason.as_str() == "AccountChangeApproved")
    );
    let rebound = with_status(approved, &d);
    assert_eq!(
        same_twilio_account(Some(SID), &rebound)
            .unwrap_err()
            .reason
            .as_str(),
        "AccountChanged"
    );
    assert!(same_twilio_account(Some(OTHER), &rebound).is_ok());
    assert!(same_twilio_account(None, &rebound).is_ok());
}

/// While numbers are being bought, the inventory summary and the balance are written at most
/// every 30 s (a burst over 100 accounts wrote each account every 5 s); as soon as none is in
/// progress the current ones are written.
#[test]
fn summaries_are_written_at_most_every_30_s_while_numbers_change() {
    let at = |secs: i64| {
        now()
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap()
    };
    let owned = |n: usize| -> Vec<String> { (0..n).map(|i| format!("+1415555{i:04}")).collect() };
    let balance = |amount: &str| {
        Connection::Connected(Connected {
            balance: Some(Balance {
                amount: amount.into(),
                currency: "USD".into(),
            }),
            ..match connected() {
                Connection::Connected(c) => c,
                _ => unreachable!(),
            }
        })
    };
    // The inventory snapshot was listed long before (its purchases are noted in it since): the
    // cadence follows the writes, not the list time.
    let listed = at(-600);
    let step = |a: &TelephonyAccount,
                t: jiff::Timestamp,
                n: usize,
                amount: &str,
                busy: usize,
                written: Option<jiff::Timestamp>| {
        let mut obs = Observation::new(balance(amount));
        obs.inventory = Some(summarize(&owned(n), &[], listed));
        obs.numbers_in_progress = busy;
        obs.summary_written_at = written;
        decide(a, TV, t, &gate(a, TV), obs)
    };
    let a = account(AccountMode::BringYourOwn);
    let d = step(&a, at(0), 1, "12.50", 5, None);
    let a = with_status(a, &d);
    let summary = |a: &TelephonyAccount| {
        let st = a.status.as_ref().unwrap();
        (
            st.inventory.as_ref().unwrap().unclaimed,
            st.balance.as_ref().unwrap().amount.clone(),
        )
    };
    assert_eq!(summary(&a), (1, "12.50".into()), "the first summary");
    assert_eq!(d.requeue, Requeue::WhileNumbersChange);

    // 5 and 29 s later, numbers still in progress: the written summary stands (no write).
    for secs in [5, 29] {
        let d = step(&a, at(secs), 3, "10.20", 3, Some(at(0)));
        assert_eq!(d.status, a.status.clone().unwrap(), "{secs} s");
        assert_eq!(d.requeue, Requeue::WhileNumbersChange);
    }
    // 30 s after the last one: written.
    let d = step(&a, at(30), 4, "9.05", 2, Some(at(0)));
    let a = with_status(a, &d);
    assert_eq!(summary(&a), (4, "9.05".into()));
    // The burst is over 2 s later: the final summary at once.
    let d = step(&a, at(32), 6, "6.75", 0, Some(at(30)));
    assert_eq!(d.requeue, Requeue::Resync);
    let a = with_status(a, &d);
    assert_eq!(summary(&a), (6, "6.75".into()));
}
