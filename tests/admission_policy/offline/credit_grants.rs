//! Credits, offline: only the admin group creates, changes or deletes a CreditGrant; the
//! account-change approval annotation is the admins' like the mode-change one.

use super::evaluator::{ADMIN, USER, account, admit, admit_credit_grant, credit_grant};
use crate::policy::ACCOUNT_CHANGE;
use serde_json::json;

#[test]
fn only_admins_write_credit_grants() {
    for op in ["CREATE", "UPDATE"] {
        assert!(admit_credit_grant(op, ADMIN, Some(credit_grant("25.00"))).is_empty());
        let denied = admit_credit_grant(op, USER, Some(credit_grant("1000.00")));
        assert_eq!(denied.len(), 1, "{op}: {denied:?}");
        assert!(denied[0].contains("only members of the admin group may grant credits"));
    }
    assert!(admit_credit_grant("DELETE", ADMIN, None).is_empty());
    assert_eq!(admit_credit_grant("DELETE", USER, None).len(), 1);
}

#[test]
fn the_account_change_approval_is_reserved_to_admins() {
    let old = account("BringYourOwn", Some("BringYourOwn"), None);
    let mut approved = old.clone();
    approved["metadata"]["annotations"] =
        json!({ ACCOUNT_CHANGE: "AC99999999999999999999999999999999" });
    let denied = admit("UPDATE", USER, Some(old.clone()), approved.clone());
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0].contains(ACCOUNT_CHANGE), "{denied:?}");
    assert!(admit("UPDATE", ADMIN, Some(old.clone()), approved.clone()).is_empty());
    // Re-applied unchanged, or removed, by the tenant: fine.
    assert!(admit("UPDATE", USER, Some(approved.clone()), approved.clone()).is_empty());
    assert!(admit("UPDATE", USER, Some(approved), old).is_empty());
}
