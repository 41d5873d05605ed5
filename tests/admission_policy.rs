//! The mode-lock ValidatingAdmissionPolicy shipped in `deploy/admission-policy.yaml`, evaluated
//! offline: its CEL expressions (read from the YAML file itself) run with `kube_cel`'s VAP
//! evaluator against admission requests from admins and non-admins. The same checks against a
//! real cluster are in `deploy/README.md`.

use kube_cel::{AdmissionRequest, VapEvaluator, VapExpression};
use serde_json::{Value, json};

const POLICY: &str = include_str!("../deploy/admission-policy.yaml");
const ANNOTATION: &str = "telephony.agni.ai/mode-change-approved";

fn documents() -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(POLICY).expect("deploy/admission-policy.yaml parses")
}

fn doc(kind: &str) -> Value {
    documents()
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/admission-policy.yaml"))
}

/// kube-cel 0.8 escapes EVERY map key of the bound objects the way Kubernetes escapes schema
/// property names (`.` → `__dot__`, `/` → `__slash__`, `-` → `__dash__`), including the keys of
/// `metadata.annotations`, which the API server leaves as they are (it indexes them with
/// `annotations['telephony.agni.ai/mode-change-approved']`). The policy file keeps the API
/// server's form; only here, for the offline evaluator, the quoted key is rewritten to its
/// escaped form.
fn for_kube_cel(expression: &str) -> String {
    let escaped = ANNOTATION
        .replace('-', "__dash__")
        .replace('.', "__dot__")
        .replace('/', "__slash__");
    expression.replace(&format!("'{ANNOTATION}'"), &format!("'{escaped}'"))
}

fn expressions() -> Vec<VapExpression> {
    let policy = doc("ValidatingAdmissionPolicy");
    policy["spec"]["validations"]
        .as_array()
        .expect("validations")
        .iter()
        .map(|v| {
            serde_json::from_value::<VapExpression>(json!({
                "expression": for_kube_cel(v["expression"].as_str().expect("expression")),
                "message": v["message"].as_str(),
                "messageExpression": v["messageExpression"].as_str(),
            }))
            .expect("a VAP validation")
        })
        .collect()
}

/// The parameter ConfigMap shipped with the policy.
fn params() -> Value {
    doc("ConfigMap")
}

fn account(mode: &str, locked: Option<&str>, approved: Option<&str>) -> Value {
    let mut obj = json!({
        "apiVersion": "telephony.agni.ai/v1alpha1",
        "kind": "TelephonyAccount",
        "metadata": {"name": "main", "namespace": "team-a"},
        "spec": {"mode": mode, "friendlyName": "acme"},
    });
    if let Some(v) = approved {
        obj["metadata"]["annotations"] = json!({ ANNOTATION: v });
    }
    if let Some(m) = locked {
        obj["status"] = json!({"mode": m});
    }
    obj
}

fn request(op: &str, groups: &[&str]) -> AdmissionRequest {
    let user = if groups.contains(&"telephony-admins") {
        "alice"
    } else {
        "bob"
    };
    serde_json::from_value(json!({
        "operation": op, "username": user, "uid": "u-1", "groups": groups,
        "name": "main", "namespace": "team-a", "dryRun": false,
        "kind": {"group": "telephony.agni.ai", "version": "v1alpha1", "kind": "TelephonyAccount"},
        "resource": {"group": "telephony.agni.ai", "version": "v1alpha1", "resource": "telephonyaccounts"},
    }))
    .expect("an admission request")
}

const ADMIN: &[&str] = &["system:authenticated", "telephony-admins"];
const USER: &[&str] = &["system:authenticated", "team-a-devs"];

/// Denial messages (empty = admitted).
fn admit(op: &str, groups: &[&str], old: Option<Value>, new: Value) -> Vec<String> {
    let mut b = VapEvaluator::builder()
        .object(new)
        .request(request(op, groups))
        .params(params());
    if let Some(old) = old {
        b = b.old_object(old);
    }
    let results = b.build().evaluate(&expressions());
    assert_eq!(results.len(), 2);
    results
        .into_iter()
        .filter(|r| !r.passed)
        .map(|r| r.message.unwrap_or_default())
        .collect()
}

#[test]
fn the_policy_is_well_formed() {
    let policy = doc("ValidatingAdmissionPolicy");
    assert_eq!(policy["apiVersion"], "admissionregistration.k8s.io/v1");
    assert_eq!(policy["spec"]["paramKind"]["kind"], "ConfigMap");
    let rules = &policy["spec"]["matchConstraints"]["resourceRules"][0];
    assert_eq!(rules["resources"], json!(["telephonyaccounts"]));
    let binding = doc("ValidatingAdmissionPolicyBinding");
    assert_eq!(binding["apiVersion"], "admissionregistration.k8s.io/v1");
    assert_eq!(binding["spec"]["policyName"], policy["metadata"]["name"]);
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    assert_eq!(
        binding["spec"]["paramRef"]["name"],
        params()["metadata"]["name"]
    );
    assert_eq!(params()["data"]["adminGroup"], "telephony-admins");
}

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
    let results = VapEvaluator::builder()
        .object(account("Managed", Some("BringYourOwn"), Some("true")))
        .old_object(old)
        .request(request("UPDATE", ADMIN))
        .params(json!({"data": {}}))
        .build()
        .evaluate(&expressions());
    assert!(results.iter().all(|r| !r.passed), "{results:?}");
}

/// Every manifest in `deploy/` parses as its Kubernetes type (catches typos before a cluster does).
#[test]
fn deploy_manifests_are_valid_kubernetes_objects() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let parsed = match kind.as_str() {
                "Namespace" => serde_json::from_value::<Namespace>(doc.clone()).map(drop),
                "ServiceAccount" => serde_json::from_value::<ServiceAccount>(doc.clone()).map(drop),
                "ClusterRole" => serde_json::from_value::<ClusterRole>(doc.clone()).map(drop),
                "ClusterRoleBinding" => {
                    serde_json::from_value::<ClusterRoleBinding>(doc.clone()).map(drop)
                }
                "Role" => serde_json::from_value::<Role>(doc.clone()).map(drop),
                "RoleBinding" => serde_json::from_value::<RoleBinding>(doc.clone()).map(drop),
                "Deployment" => serde_json::from_value::<Deployment>(doc.clone()).map(drop),
                "Secret" => serde_json::from_value::<Secret>(doc.clone()).map(drop),
                "ConfigMap" => {
                    serde_json::from_value::<k8s_openapi::api::core::v1::ConfigMap>(doc.clone())
                        .map(drop)
                }
                "ValidatingAdmissionPolicy" => serde_json::from_value::<
                    k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy,
                >(doc.clone())
                .map(drop),
                "ValidatingAdmissionPolicyBinding" => serde_json::from_value::<
                    k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
                >(doc.clone())
                .map(drop),
                other => panic!("{}: unexpected kind {other:?}", path.display()),
            };
            parsed.unwrap_or_else(|e| panic!("{}: {kind}: {e}", path.display()));
            kinds.push(kind);
        }
    }
    for k in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "Deployment",
        "ValidatingAdmissionPolicy",
    ] {
        assert!(kinds.iter().any(|x| x == k), "deploy/ lacks a {k}");
    }

    // The Deployment runs the operator with leader election and its pod identity.
    let text = std::fs::read_to_string(dir.join("deployment.yaml")).unwrap();
    let d: Deployment =
        serde_json::from_value(serde_saphyr::from_str::<Value>(&text).unwrap()).unwrap();
    let c = &d.spec.unwrap().template.spec.unwrap().containers[0];
    let args = c.args.clone().unwrap_or_default();
    assert_eq!(args.first().map(String::as_str), Some("run"));
    assert!(args.iter().any(|a| a == "--leader-election"));
    let env: Vec<String> = c
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(env.contains(&"POD_NAMESPACE".to_string()) && env.contains(&"POD_NAME".to_string()));

    // RBAC: Secrets are only read; no wildcard verbs or resources.
    let text = std::fs::read_to_string(dir.join("rbac.yaml")).unwrap();
    for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
        if doc["kind"] == "ClusterRole" || doc["kind"] == "Role" {
            for rule in doc["rules"].as_array().unwrap() {
                let verbs: Vec<&str> = rule["verbs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect();
                assert!(!verbs.contains(&"*"), "{rule}");
                assert!(
                    !rule["resources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r == "*"),
                    "{rule}"
                );
                if rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "secrets")
                {
                    assert_eq!(verbs, vec!["get", "list", "watch"]);
                }
            }
        }
    }
}
