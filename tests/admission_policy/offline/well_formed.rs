//! The policies and bindings are shaped as the server needs them: `admissionregistration/v1`,
//! failing closed, matching the operator's API version, denying, with the shipped parameter;
//! and the annotations they guard are the ones the operator reads.

use crate::policy::{
    ANNOTATION, MODE_LOCK_POLICY, SKIP_RELEASE, SKIP_RELEASE_POLICY, named, params,
};
use serde_json::json;

#[test]
fn the_policy_is_well_formed() {
    for (name, resources) in [
        (MODE_LOCK_POLICY, json!(["telephonyaccounts"])),
        (
            SKIP_RELEASE_POLICY,
            json!(["phonenumbers", "telephonyaccounts"]),
        ),
    ] {
        let policy = named("ValidatingAdmissionPolicy", name);
        assert_eq!(policy["apiVersion"], "admissionregistration.k8s.io/v1");
        assert_eq!(policy["spec"]["paramKind"]["kind"], "ConfigMap");
        assert_eq!(
            policy["spec"]["failurePolicy"], "Fail",
            "{name} fails closed"
        );
        let constraints = &policy["spec"]["matchConstraints"];
        // A wildcard version makes kube-controller-manager's type checker skip the policy
        // (status.typeChecking stays empty); Equivalent still matches other versions.
        assert_eq!(constraints["matchPolicy"], "Equivalent", "{name}");
        let rules = constraints["resourceRules"]
            .as_array()
            .expect("resourceRules");
        assert_eq!(rules.len(), 1, "{name}");
        assert_eq!(
            rules[0]["apiGroups"],
            json!(["telephony.agni.ai"]),
            "{name}"
        );
        assert_eq!(
            rules[0]["apiVersions"],
            json!([telephony_operator::api::VERSION]),
            "{name}"
        );
        assert_eq!(
            rules[0]["operations"],
            json!(["CREATE", "UPDATE"]),
            "{name}"
        );
        assert_eq!(rules[0]["resources"], resources, "{name}");
        let binding = named("ValidatingAdmissionPolicyBinding", name);
        assert_eq!(binding["apiVersion"], "admissionregistration.k8s.io/v1");
        assert_eq!(binding["spec"]["policyName"], policy["metadata"]["name"]);
        assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
        assert_eq!(
            binding["spec"]["paramRef"]["name"],
            params()["metadata"]["name"]
        );
        assert_eq!(
            binding["spec"]["paramRef"]["namespace"],
            params()["metadata"]["namespace"]
        );
        assert_eq!(
            binding["spec"]["paramRef"]["parameterNotFoundAction"],
            "Deny"
        );
    }
    // The annotations the policies guard are the ones the operator reads.
    assert_eq!(
        ANNOTATION,
        telephony_operator::api::MODE_CHANGE_APPROVED_ANNOTATION
    );
    assert_eq!(
        SKIP_RELEASE,
        telephony_operator::api::SKIP_RELEASE_ANNOTATION
    );
    assert_eq!(params()["data"]["adminGroup"], "telephony-admins");
}
