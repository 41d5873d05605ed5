//! The mode lock, offline: creating and first connecting are free, unrelated updates pass, a
//! locked mode changes only by an admin with the approval annotation, going back to the locked
//! mode always works, the annotation itself is the admins', and without the parameter nobody is
//! admin.

use super::evaluator::{ADMIN, USER, account, admit, request};
use crate::policy::expressions;
use kube_cel::VapEvaluator;
use serde_json::json;

#[test]
fn create_and_first_connect_are_free() {
    // Creating an account, in any mode, by anyone.
    assert!(admit("CREATE", USER, None, account("Managed", None, None)).is_empty());
    // Changing the mode before the first connection (no status.mode yet).
    let old = account("BringYourOwn", None, None);
    assert!(admit("UPDATE", USER, Some(old), account("Managed", None, None)).is_empty());
}

#[test]
fn unrelated_updates_of_a_locked_account_pass() {
    let old = account("BringYourOwn", Some("BringYourOwn"), None);
    let mut new = old.clone();
    new["spec"]["friendlyName"] = json!("acme-renamed");
    assert!(admit("UPDATE", USER, Some(old), new).is_empty());
}

#[test]
fn mode_change_of_a_locked_account_by_a_non_admin_is_denied() {
    let old = account("BringYourOwn", Some("BringYourOwn"), None);
    let denied = admit(
        "UPDATE",
        USER,
        Some(old.clone()),
        account("Managed", Some("BringYourOwn"), None),
    );
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0].contains("spec.mode is permanent"), "{denied:?}");
    assert!(denied[0].contains("locked to BringYourOwn"), "{denied:?}");
    // ... even when the object already carries the approval (set earlier by an admin).
    let old_approved = account("BringYourOwn", Some("BringYourOwn"), Some("true"));
    let denied = admit(
        "UPDATE",
        USER,
        Some(old_approved),
        account("Managed", Some("BringYourOwn"), Some("true")),
    );
    assert_eq!(denied.len(), 1, "{denied:?}");
}

#[test]
fn mode_change_by_an_admin_needs_the_annotation() {
    let old = account("BringYourOwn", Some("BringYourOwn"), None);
    let denied = admit(
        "UPDATE",
        ADMIN,
        Some(old.clone()),
        account("Managed", Some("BringYourOwn"), None),
    );
    assert_eq!(denied.len(), 1, "admin without annotation: {denied:?}");
    let denied = admit(
        "UPDATE",
        ADMIN,
        Some(old.clone()),
        account("Managed", Some("BringYourOwn"), Some("false")),
    );
    assert_eq!(
        denied.len(),
        1,
        "annotation false is no approval: {denied:?}"
    );
    // Admin + annotation (set in the same update): admitted.
    let ok = admit(
        "UPDATE",
        ADMIN,
        Some(old),
        account("Managed", Some("BringYourOwn"), Some("true")),
    );
    assert!(ok.is_empty(), "{ok:?}");
}

#[test]
fn returning_to_the_locked_mode_is_always_allowed() {
    // spec.mode already differs from the lock (e.g. the policy was installed later): anyone may
    // set it back.
    let old = account("Managed", Some("BringYourOwn"), None);
    assert!(
        admit(
            "UPDATE",
            USER,
            Some(old),
            account("BringYourOwn", Some("BringYourOwn"), None)
        )
        .is_empty()
    );
}

#[test]
fn the_annotation_is_reserved_to_admins() {
    // Added by a non-admin on update: denied (even without a mode change).
    let old = account("BringYourOwn", Some("BringYourOwn"), None);
    let denied = admit(
        "UPDATE",
        USER,
        Some(old.clone()),
        account("BringYourOwn", Some("BringYourOwn"), Some("true")),
    );
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0].contains("admin group"), "{denied:?}");
    // Set at creation by a non-admin: denied.
    let denied = admit("CREATE", USER, None, account("Managed", None, Some("true")));
    assert_eq!(denied.len(), 1, "{denied:?}");
    // Changed by a non-admin: denied.
    let old_false = account("BringYourOwn", Some("BringYourOwn"), Some("false"));
    let denied = admit(
        "UPDATE",
        USER,
        Some(old_false.clone()),
        account("BringYourOwn", Some("BringYourOwn"), Some("true")),
    );
    assert_eq!(denied.len(), 1, "{denied:?}");
    // Unchanged (a GitOps re-apply) or removed by a non-admin: fine.
    assert!(admit("UPDATE", USER, Some(old_false.clone()), old_false.clone()).is_empty());
    assert!(
        admit(
            "UPDATE",
            USER,
            Some(old_false),
            account("BringYourOwn", Some("BringYourOwn"), None)
        )
        .is_empty()
    );
    // Added by an admin: fine.
    assert!(
        admit(
            "UPDATE",
            ADMIN,
            Some(old),
            account("BringYourOwn", Some("BringYourOwn"), Some("true"))
        )
        .is_empty()
    );
}

#[test]
fn without_the_admin_group_parameter_nobody_is_admin() {
    let old = account("BringYourOwn", Some("BringYourOwn"), None);
    let mut new = account("Managed", Some("BringYourOwn"), Some("true"));
    new["metadata"]["annotations"][crate::policy::ACCOUNT_CHANGE] =
        json!("AC99999999999999999999999999999999");
    let results = VapEvaluator::builder()
        .object(new)
        .old_object(old)
        .request(request("UPDATE", ADMIN))
        .params(json!({"data": {}}))
        .build()
        .evaluate(&expressions());
    assert!(results.iter().all(|r| !r.passed), "{results:?}");
}
