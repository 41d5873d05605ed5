//! The skip-release guard, offline: only admins set or change `telephony.agni.ai/skip-release`
//! on PhoneNumbers and TelephonyAccounts; leaving it as it is or removing it is anyone's; without
//! the parameter nobody is admin.

use super::evaluator::{ADMIN, USER, account, admit_skip_release, phone_number, request};
use crate::policy::{SKIP_RELEASE, SKIP_RELEASE_POLICY, expressions_of};
use kube_cel::VapEvaluator;
use serde_json::json;

#[test]
fn the_skip_release_annotation_is_reserved_to_admins() {
    let plain = phone_number(None);
    let skip = phone_number(Some("true"));
    // Set by a non-admin, at creation or later, or changed: denied.
    for (op, old) in [
        ("CREATE", None),
        ("UPDATE", Some(plain.clone())),
        ("UPDATE", Some(phone_number(Some("false")))),
    ] {
        let denied = admit_skip_release(op, USER, old.clone(), skip.clone());
        assert_eq!(denied.len(), 1, "{op} from {old:?}: {denied:?}");
        assert!(
            denied[0].contains("telephony.agni.ai/skip-release"),
            "{denied:?}"
        );
        // The same by an admin: admitted.
        assert!(admit_skip_release(op, ADMIN, old, skip.clone()).is_empty());
    }
    // Unchanged (a GitOps re-apply), removed, or never there: fine for anyone.
    assert!(admit_skip_release("UPDATE", USER, Some(skip.clone()), skip.clone()).is_empty());
    assert!(admit_skip_release("UPDATE", USER, Some(skip), plain.clone()).is_empty());
    assert!(admit_skip_release("UPDATE", USER, Some(plain.clone()), plain.clone()).is_empty());
    assert!(admit_skip_release("CREATE", USER, None, plain).is_empty());
    // On a TelephonyAccount (a Managed subaccount left open): the same rule.
    let mut acct = account("Managed", Some("Managed"), None);
    let old = acct.clone();
    acct["metadata"]["annotations"] = json!({ SKIP_RELEASE: "true" });
    assert_eq!(
        admit_skip_release("UPDATE", USER, Some(old.clone()), acct.clone()).len(),
        1
    );
    assert!(admit_skip_release("UPDATE", ADMIN, Some(old), acct).is_empty());
    // Without the parameter nobody is admin.
    let results = VapEvaluator::builder()
        .object(phone_number(Some("true")))
        .request(request("CREATE", ADMIN))
        .params(json!({"data": {}}))
        .build()
        .evaluate(&expressions_of(SKIP_RELEASE_POLICY));
    assert!(results.iter().all(|r| !r.passed), "{results:?}");
}
