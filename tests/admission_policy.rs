//! The ValidatingAdmissionPolicies shipped in `deploy/admission-policy.yaml` (the mode lock and
//! the skip-release guard), checked twice:
//! - offline: their CEL expressions (read from the YAML file itself) run with `kube_cel`'s VAP
//!   evaluator against admission requests from admins and non-admins;
//! - on a real kube-apiserver (`TELEPHONY_E2E_KUBECONFIG`, see `tests/real-cluster/`): the server
//!   enforces the same file for real identities — the tenant user of
//!   `TELEPHONY_E2E_TENANT_KUBECONFIG` (bound to deploy/'s tenant edit role) and a member of the
//!   admin group (impersonated from the admin kubeconfig). Without a cluster that part is skipped
//!   with a message.

use kube_cel::{AdmissionRequest, VapEvaluator, VapExpression};
use serde_json::{Value, json};

const POLICY: &str = include_str!("../deploy/admission-policy.yaml");
const ANNOTATION: &str = "telephony.agni.ai/mode-change-approved";
const SKIP_RELEASE: &str = "telephony.agni.ai/skip-release";
const MODE_LOCK_POLICY: &str = "telephonyaccount-mode-lock.telephony.agni.ai";
const SKIP_RELEASE_POLICY: &str = "telephony-skip-release.telephony.agni.ai";

fn documents() -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(POLICY).expect("deploy/admission-policy.yaml parses")
}

fn doc(kind: &str) -> Value {
    documents()
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/admission-policy.yaml"))
}

fn named(kind: &str, name: &str) -> Value {
    documents()
        .into_iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/admission-policy.yaml"))
}

/// kube-cel 0.8 escapes EVERY map key of the bound objects the way Kubernetes escapes schema
/// property names (`.` → `__dot__`, `/` → `__slash__`, `-` → `__dash__`), including the keys of
/// `metadata.annotations`, which the API server leaves as they are (it indexes them with
/// `annotations['telephony.agni.ai/mode-change-approved']`). The policy file keeps the API
/// server's form; only here, for the offline evaluator, the quoted keys are rewritten to their
/// escaped form.
fn for_kube_cel(expression: &str) -> String {
    let mut out = expression.to_string();
    for key in [ANNOTATION, SKIP_RELEASE] {
        let escaped = key
            .replace('-', "__dash__")
            .replace('.', "__dot__")
            .replace('/', "__slash__");
        out = out.replace(&format!("'{key}'"), &format!("'{escaped}'"));
    }
    out
}

fn expressions_of(policy_name: &str) -> Vec<VapExpression> {
    let policy = named("ValidatingAdmissionPolicy", policy_name);
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

fn expressions() -> Vec<VapExpression> {
    expressions_of(MODE_LOCK_POLICY)
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

/// Denial messages of the skip-release policy for one request (empty = admitted).
fn admit_skip_release(op: &str, groups: &[&str], old: Option<Value>, new: Value) -> Vec<String> {
    let mut b = VapEvaluator::builder()
        .object(new)
        .request(request(op, groups))
        .params(params());
    if let Some(old) = old {
        b = b.old_object(old);
    }
    let results = b.build().evaluate(&expressions_of(SKIP_RELEASE_POLICY));
    assert_eq!(results.len(), 1);
    results
        .into_iter()
        .filter(|r| !r.passed)
        .map(|r| r.message.unwrap_or_default())
        .collect()
}

fn phone_number(skip_release: Option<&str>) -> Value {
    let mut obj = json!({
        "apiVersion": "telephony.agni.ai/v1alpha1",
        "kind": "PhoneNumber",
        "metadata": {"name": "n1", "namespace": "team-a"},
        "spec": {"accountRef": {"name": "main"}, "number": "+15005550006"},
    });
    if let Some(v) = skip_release {
        obj["metadata"]["annotations"] = json!({ SKIP_RELEASE: v, "other": "x" });
    }
    obj
}

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

// ---------------------------------------------------------------------------------------------
// The same policies, enforced by a real kube-apiserver.
// ---------------------------------------------------------------------------------------------

mod real_server {
    use super::*;
    use futures::FutureExt;
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use k8s_openapi::api::rbac::v1::RoleBinding;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{
        Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
        PostParams,
    };
    use kube::core::Status;
    use kube::{Client, Config};
    use std::future::Future;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    const CRDS: &str = include_str!("../crds/telephony.agni.ai.yaml");
    const FIELD_MANAGER: &str = "telephony-admission-policy-test";
    /// How long the server may take to see a new RoleBinding, CRD or policy binding.
    const PROPAGATION: Duration = Duration::from_secs(20);

    /// The admin kubeconfig of the real cluster, or `None` (with a message) when none is set.
    pub fn admin_kubeconfig() -> Option<PathBuf> {
        match std::env::var_os("TELEPHONY_E2E_KUBECONFIG").filter(|p| !p.is_empty()) {
            Some(p) => Some(p.into()),
            None => {
                eprintln!(
                    "skipped: the real-server part of the admission-policy tests needs a cluster: \
                     run through tests/real-cluster/start.sh or set TELEPHONY_E2E_KUBECONFIG \
                     (and TELEPHONY_E2E_TENANT_KUBECONFIG)"
                );
                None
            }
        }
    }

    pub async fn client(path: &Path, impersonate: Option<(&str, &[&str])>) -> Client {
        // reqwest (aws-lc-rs) and kube (ring) both enable a rustls provider: pick one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let kc = kube::config::Kubeconfig::read_from(path)
            .unwrap_or_else(|e| panic!("read kubeconfig {}: {e}", path.display()));
        let mut cfg = Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("kubeconfig");
        if let Some((user, groups)) = impersonate {
            cfg.auth_info.impersonate = Some(user.to_string());
            cfg.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
        }
        Client::try_from(cfg).expect("client")
    }

    /// The three identities of a test: the cluster admin (setup), the tenant (a non-admin) and
    /// an approver (a member of the admin group, impersonated by the admin).
    pub struct Identities {
        pub admin: Client,
        pub tenant: Client,
        pub tenant_user: String,
        pub approver: Client,
        pub admin_group: String,
    }

    pub async fn identities(admin_path: &Path) -> Identities {
        let admin = client(admin_path, None).await;
        let tenant = match std::env::var_os("TELEPHONY_E2E_TENANT_KUBECONFIG")
            .filter(|p| !p.is_empty())
        {
            Some(p) => client(Path::new(&p), None).await,
            None => {
                eprintln!(
                    "note: no TELEPHONY_E2E_TENANT_KUBECONFIG: the tenant is user tenant-alice, impersonated"
                );
                client(
                    admin_path,
                    Some((
                        "tenant-alice",
                        &["telephony-tenants", "system:authenticated"],
                    )),
                )
                .await
            }
        };
        let tenant_user = whoami(&tenant).await;
        let admin_group = admin_group(&admin).await;
        assert!(
            !whoami_groups(&tenant).await.contains(&admin_group),
            "the tenant identity is in the admin group {admin_group}: it cannot play the non-admin"
        );
        let approver = client(
            admin_path,
            Some((
                "approver-carol",
                &[admin_group.as_str(), "system:authenticated"],
            )),
        )
        .await;
        Identities {
            admin,
            tenant,
            tenant_user,
            approver,
            admin_group,
        }
    }

    async fn self_review(client: &Client) -> SelfSubjectReview {
        Api::<SelfSubjectReview>::all(client.clone())
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .expect("SelfSubjectReview")
    }

    async fn whoami(client: &Client) -> String {
        self_review(client)
            .await
            .status
            .and_then(|s| s.user_info)
            .and_then(|u| u.username)
            .expect("a username")
    }

    async fn whoami_groups(client: &Client) -> Vec<String> {
        self_review(client)
            .await
            .status
            .and_then(|s| s.user_info)
            .and_then(|u| u.groups)
            .unwrap_or_default()
    }

    /// `data.adminGroup` of the parameter ConfigMap the bindings name, as the server has it.
    async fn admin_group(admin: &Client) -> String {
        let binding = named("ValidatingAdmissionPolicyBinding", MODE_LOCK_POLICY);
        let param = &binding["spec"]["paramRef"];
        let (ns, name) = (
            param["namespace"].as_str().expect("paramRef.namespace"),
            param["name"].as_str().expect("paramRef.name"),
        );
        let cm = Api::<ConfigMap>::namespaced(admin.clone(), ns)
            .get(name)
            .await
            .unwrap_or_else(|e| {
                panic!("ConfigMap {ns}/{name} (apply deploy/admission-policy.yaml): {e}")
            });
        cm.data
            .and_then(|d| d.get("adminGroup").cloned())
            .expect("data.adminGroup")
    }

    /// Server-side applies the CRDs from crds/ and waits until both are Established.
    pub async fn install_crds(admin: &Client) {
        let api = Api::<CustomResourceDefinition>::all(admin.clone());
        let docs: Vec<Value> = serde_saphyr::from_multiple(CRDS).expect("crds/ parses");
        for crd in docs.into_iter().filter(|d| d.is_object()) {
            let name = crd["metadata"]["name"].as_str().expect("name").to_string();
            api.patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(crd),
            )
            .await
            .unwrap_or_else(|e| panic!("apply CRD {name}: {e}"));
            eventually(&format!("CRD {name} Established"), || {
                let api = api.clone();
                let name = name.clone();
                async move {
                    let crd = api.get(&name).await.ok()?;
                    crd.status?
                        .conditions?
                        .iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                        .then_some(())
                }
            })
            .await;
        }
    }

    /// Checks that the server holds deploy/'s policies and bindings as the file has them (every
    /// field the file sets; the server adds defaults). `start.sh` applies the file when it
    /// starts the server; this test does not re-apply it, because the admission plugin picks a
    /// changed policy up asynchronously and the checks below would race with it.
    pub async fn require_policies(admin: &Client) {
        for (kind, plural) in [
            ("ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
            (
                "ValidatingAdmissionPolicyBinding",
                "validatingadmissionpolicybindings",
            ),
        ] {
            let ar = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("admissionregistration.k8s.io", "v1", kind),
                plural,
            );
            let api = Api::<DynamicObject>::all_with(admin.clone(), &ar);
            for d in documents().into_iter().filter(|d| d["kind"] == kind) {
                let name = d["metadata"]["name"].as_str().expect("name");
                let server = api.get(name).await.unwrap_or_else(|e| {
                    panic!("{kind} {name} is not on the server (kubectl apply -f deploy/admission-policy.yaml): {e}")
                });
                let mismatch = first_difference(&d["spec"], &server.data["spec"], "spec");
                assert!(
                    mismatch.is_none(),
                    "{kind} {name} on the server differs from deploy/admission-policy.yaml at {}: re-apply the file",
                    mismatch.unwrap_or_default()
                );
            }
        }
    }

    /// The first path where `server` lacks or differs from what `file` sets.
    fn first_difference(file: &Value, server: &Value, path: &str) -> Option<String> {
        match (file, server) {
            (Value::Object(f), Value::Object(s)) => f.iter().find_map(|(k, v)| {
                first_difference(v, s.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}"))
            }),
            (Value::Array(f), Value::Array(s)) if f.len() == s.len() => f
                .iter()
                .zip(s)
                .enumerate()
                .find_map(|(i, (f, s))| first_difference(f, s, &format!("{path}[{i}]"))),
            // YAML folded scalars (`>-`) arrive as the same string.
            (f, s) if f == s => None,
            _ => Some(path.to_string()),
        }
    }

    /// Polls `probe` until it yields, or fails the test after [`PROPAGATION`].
    pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + PROPAGATION;
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {PROPAGATION:?} waiting for: {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn unique(prefix: &str) -> String {
        format!("{prefix}-{:08x}", rand::random::<u32>())
    }

    pub async fn create_namespace(admin: &Client, name: &str) {
        Api::<Namespace>::all(admin.clone())
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
            )
            .await
            .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
    }

    /// Deletes the namespace (it stays Terminating on a server without kube-controller-manager;
    /// its name is unique to this run, so that is harmless).
    pub async fn delete_namespace(admin: &Client, name: &str) {
        let _ = Api::<Namespace>::all(admin.clone())
            .delete(name, &DeleteParams::default())
            .await;
    }

    /// Binds deploy/'s tenant edit role in `ns` to the tenant user and to the admin group, and
    /// waits until both may patch TelephonyAccounts and PhoneNumbers there.
    pub async fn bind_edit_role(ids: &Identities, ns: &str) {
        let rb: RoleBinding = serde_json::from_value(json!({
            "metadata": {"name": "telephony-edit", "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "telephony-operator-edit"},
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": ids.tenant_user},
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": ids.admin_group},
            ],
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(ids.admin.clone(), ns)
            .create(&PostParams::default(), &rb)
            .await
            .expect(
                "RoleBinding to telephony-operator-edit (is deploy/tenant-roles.yaml applied?)",
            );
        for who in [&ids.tenant, &ids.approver] {
            for resource in ["telephonyaccounts", "phonenumbers"] {
                eventually(&format!("RBAC: patch {resource} in {ns}"), || async {
                    allowed(who, ns, resource, "patch").await.then_some(())
                })
                .await;
            }
        }
    }

    async fn allowed(client: &Client, ns: &str, resource: &str, verb: &str) -> bool {
        let review: SelfSubjectAccessReview = serde_json::from_value(json!({
            "spec": {"resourceAttributes": {
                "namespace": ns, "group": "telephony.agni.ai", "resource": resource, "verb": verb,
            }}
        }))
        .unwrap();
        Api::<SelfSubjectAccessReview>::all(client.clone())
            .create(&PostParams::default(), &review)
            .await
            .expect("SelfSubjectAccessReview")
            .status
            .is_some_and(|s| s.allowed)
    }

    pub fn resource(kind: &str) -> ApiResource {
        let plural = match kind {
            "TelephonyAccount" => "telephonyaccounts",
            "PhoneNumber" => "phonenumbers",
            other => panic!("unknown kind {other}"),
        };
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("telephony.agni.ai", "v1alpha1", kind),
            plural,
        )
    }

    pub fn api(client: &Client, ns: &str, kind: &str) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), ns, &resource(kind))
    }

    pub async fn create(client: &Client, ns: &str, obj: Value) -> DynamicObject {
        let kind = obj["kind"].as_str().expect("kind").to_string();
        api(client, ns, &kind)
            .create(
                &PostParams::default(),
                &serde_json::from_value(obj).expect("object"),
            )
            .await
            .unwrap_or_else(|e| panic!("create {kind} in {ns}: {e}"))
    }

    /// A JSON merge patch of a TelephonyAccount or PhoneNumber.
    pub async fn merge(
        client: &Client,
        ns: &str,
        kind: &str,
        name: &str,
        patch: Value,
    ) -> Result<DynamicObject, kube::Error> {
        api(client, ns, kind)
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
    }

    /// The request was denied by the admission policy `policy`: its Status.
    pub fn denied_by(
        policy: &str,
        what: &str,
        result: Result<DynamicObject, kube::Error>,
    ) -> Box<Status> {
        let status = match result {
            Ok(_) => panic!("{what}: admitted, expected a denial by {policy}"),
            Err(kube::Error::Api(status)) => status,
            Err(e) => panic!("{what}: {e}"),
        };
        assert!(
            status
                .message
                .contains(&format!("ValidatingAdmissionPolicy '{policy}'")),
            "{what}: not denied by {policy}: {status:?}"
        );
        status
    }

    /// Runs `body`, then `cleanup` whether or not `body` panicked.
    pub async fn with_cleanup<B, C>(body: B, cleanup: C)
    where
        B: Future<Output = ()>,
        C: Future<Output = ()>,
    {
        let outcome = std::panic::AssertUnwindSafe(body).catch_unwind().await;
        cleanup.await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    pub fn annotations(obj: &DynamicObject) -> std::collections::BTreeMap<String, String> {
        obj.metadata.annotations.clone().unwrap_or_default()
    }
}

/// Reads back an object's current state as the admin.
async fn current(admin: &kube::Client, ns: &str, kind: &str, name: &str) -> Value {
    let obj = real_server::api(admin, ns, kind)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {kind} {ns}/{name}: {e}"));
    serde_json::to_value(obj).expect("json")
}

#[tokio::test]
async fn mode_lock_on_a_real_server() {
    use real_server::*;
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let ids = identities(&path).await;
    install_crds(&ids.admin).await;
    require_policies(&ids.admin).await;
    let ns = unique("adm-mode");
    create_namespace(&ids.admin, &ns).await;
    with_cleanup(
        mode_lock_scenario(&ids, &ns),
        delete_namespace(&ids.admin, &ns),
    )
    .await;
}

async fn mode_lock_scenario(ids: &real_server::Identities, ns: &str) {
    use kube::api::{Patch, PatchParams};
    use real_server::*;
    const TA: &str = "TelephonyAccount";
    bind_edit_role(ids, ns).await;

    // The tenant creates its account; the operator, at its first connection, locks the mode
    // (here the admin plays the operator: status subresource, as the operator writes it).
    create(
        &ids.tenant,
        ns,
        json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": TA,
            "metadata": {"name": "main"},
            "spec": {"mode": "BringYourOwn", "friendlyName": "acme", "credentialsSecretRef": {"name": "twilio"}},
        }),
    )
    .await;
    api(&ids.admin, ns, TA)
        .patch_status(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"mode": "BringYourOwn"}})),
        )
        .await
        .expect("status.mode set through the status subresource");
    assert_eq!(
        current(&ids.admin, ns, TA, "main").await["status"]["mode"],
        "BringYourOwn"
    );

    let to_managed =
        json!({"spec": {"mode": "Managed", "managed": {"credits": {"perCycle": "10"}}}});
    let unchanged = |before: &Value, after: &Value, what: &str| {
        assert_eq!(
            before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
            "{what}: a denied request changed the object"
        );
    };

    // 1. A non-admin changes the mode: denied, with the policy's message.
    let before = current(&ids.admin, ns, TA, "main").await;
    let status = denied_by(
        MODE_LOCK_POLICY,
        "mode change by the tenant",
        merge(&ids.tenant, ns, TA, "main", to_managed.clone()).await,
    );
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status.message.contains(
            "spec.mode is permanent: this TelephonyAccount is locked to BringYourOwn; changing it to Managed requires a member of the admin group"
        ),
        "{status:?}"
    );
    unchanged(&before, &current(&ids.admin, ns, TA, "main").await, "1");

    // 2. An admin-group member without the approval annotation: denied, same message.
    let status = denied_by(
        MODE_LOCK_POLICY,
        "mode change by an admin without the annotation",
        merge(&ids.approver, ns, TA, "main", to_managed.clone()).await,
    );
    assert!(
        status.message.contains("spec.mode is permanent"),
        "{status:?}"
    );
    // ... and with the annotation set to something else than "true".
    let mut half = to_managed.clone();
    half["metadata"] = json!({"annotations": {ANNOTATION: "yes"}});
    denied_by(
        MODE_LOCK_POLICY,
        "mode change by an admin with the annotation \"yes\"",
        merge(&ids.approver, ns, TA, "main", half).await,
    );
    unchanged(&before, &current(&ids.admin, ns, TA, "main").await, "2");

    // 3. A non-admin sets the approval annotation: denied.
    let status = denied_by(
        MODE_LOCK_POLICY,
        "annotation set by the tenant",
        merge(
            &ids.tenant,
            ns,
            TA,
            "main",
            json!({"metadata": {"annotations": {ANNOTATION: "true"}}}),
        )
        .await,
    );
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status.message.contains(
            "only members of the admin group may set or change the annotation telephony.agni.ai/mode-change-approved"
        ),
        "{status:?}"
    );
    unchanged(&before, &current(&ids.admin, ns, TA, "main").await, "3");

    // 4. Unrelated edits by a non-admin: allowed.
    merge(
        &ids.tenant,
        ns,
        TA,
        "main",
        json!({"spec": {"region": "ie1", "friendlyName": "acme-2"}}),
    )
    .await
    .expect("an unrelated edit by the tenant is admitted");
    let now = current(&ids.admin, ns, TA, "main").await;
    assert_eq!(now["spec"]["region"], "ie1");
    assert_eq!(now["spec"]["friendlyName"], "acme-2");

    // 5. An admin-group member with the annotation, in the same request: allowed.
    let mut approved = to_managed.clone();
    approved["metadata"] = json!({"annotations": {ANNOTATION: "true"}});
    let obj = merge(&ids.approver, ns, TA, "main", approved)
        .await
        .expect("a mode change by an admin with the annotation is admitted");
    assert_eq!(obj.data["spec"]["mode"], "Managed");
    assert_eq!(
        annotations(&obj).get(ANNOTATION).map(String::as_str),
        Some("true")
    );

    // 6. The approval is no licence for a non-admin: with the annotation in place, the tenant
    //    may edit other fields (annotation unchanged) but not change the mode.
    merge(
        &ids.tenant,
        ns,
        TA,
        "main",
        json!({"spec": {"region": "au1"}}),
    )
    .await
    .expect("the tenant re-applies with the admin's annotation unchanged");

    // 7. Back to the locked mode, by the non-admin: allowed.
    let obj = merge(
        &ids.tenant,
        ns,
        TA,
        "main",
        json!({"spec": {"mode": "BringYourOwn"}}),
    )
    .await
    .expect("setting spec.mode back to status.mode is admitted");
    assert_eq!(obj.data["spec"]["mode"], "BringYourOwn");
    // ... and away from it again, by the non-admin, although the object is still approved: denied.
    denied_by(
        MODE_LOCK_POLICY,
        "mode change by the tenant on an approved object",
        merge(
            &ids.tenant,
            ns,
            TA,
            "main",
            json!({"spec": {"mode": "Managed"}}),
        )
        .await,
    );

    // 8. The tenant changes the annotation's value: denied; removes it: allowed.
    denied_by(
        MODE_LOCK_POLICY,
        "annotation changed by the tenant",
        merge(
            &ids.tenant,
            ns,
            TA,
            "main",
            json!({"metadata": {"annotations": {ANNOTATION: "false"}}}),
        )
        .await,
    );
    let obj = merge(
        &ids.tenant,
        ns,
        TA,
        "main",
        json!({"metadata": {"annotations": {ANNOTATION: null}}}),
    )
    .await
    .expect("removing the approval is admitted");
    assert!(!annotations(&obj).contains_key(ANNOTATION));

    // 9. Status writes are not matched (the operator locks the mode while the object's spec
    //    differs): the admin writes status.mode = Managed although spec.mode is BringYourOwn.
    api(&ids.admin, ns, TA)
        .patch_status(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"mode": "Managed"}})),
        )
        .await
        .expect("status writes are not subject to the policy");
}

#[tokio::test]
async fn skip_release_guard_on_a_real_server() {
    use real_server::*;
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let ids = identities(&path).await;
    install_crds(&ids.admin).await;
    require_policies(&ids.admin).await;
    let ns = unique("adm-skip");
    create_namespace(&ids.admin, &ns).await;
    with_cleanup(
        skip_release_scenario(&ids, &ns),
        delete_namespace(&ids.admin, &ns),
    )
    .await;
}

async fn skip_release_scenario(ids: &real_server::Identities, ns: &str) {
    use real_server::*;
    bind_edit_role(ids, ns).await;
    create(
        &ids.tenant,
        ns,
        json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "main"},
            "spec": {"mode": "Managed", "managed": {"credits": {"perCycle": "0"}}},
        }),
    )
    .await;
    create(
        &ids.tenant,
        ns,
        json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "n1"},
            "spec": {"accountRef": {"name": "main"}, "number": "+15005550006"},
        }),
    )
    .await;
    let set = |v: Value| json!({"metadata": {"annotations": {SKIP_RELEASE: v}}});
    for (kind, name) in [("PhoneNumber", "n1"), ("TelephonyAccount", "main")] {
        let status = denied_by(
            SKIP_RELEASE_POLICY,
            &format!("{kind}: skip-release set by the tenant"),
            merge(&ids.tenant, ns, kind, name, set(json!("true"))).await,
        );
        assert_eq!(status.code, 403, "{status:?}");
        assert!(
            status.message.contains(
                "only members of the admin group may set or change the annotation telephony.agni.ai/skip-release"
            ),
            "{status:?}"
        );
        let obj = merge(&ids.approver, ns, kind, name, set(json!("true")))
            .await
            .unwrap_or_else(|e| panic!("{kind}: skip-release set by an admin: {e}"));
        assert_eq!(
            annotations(&obj).get(SKIP_RELEASE).map(String::as_str),
            Some("true")
        );
        merge(
            &ids.tenant,
            ns,
            kind,
            name,
            json!({"metadata": {"labels": {"team": "a"}}}),
        )
        .await
        .unwrap_or_else(|e| panic!("{kind}: unrelated edit by the tenant: {e}"));
        denied_by(
            SKIP_RELEASE_POLICY,
            &format!("{kind}: skip-release changed by the tenant"),
            merge(&ids.tenant, ns, kind, name, set(json!("false"))).await,
        );
        let obj = merge(&ids.tenant, ns, kind, name, set(Value::Null))
            .await
            .unwrap_or_else(|e| panic!("{kind}: skip-release removed by the tenant: {e}"));
        assert!(!annotations(&obj).contains_key(SKIP_RELEASE));
    }
    // Set at creation by the tenant: denied.
    let result = api(&ids.tenant, ns, "PhoneNumber")
        .create(
            &kube::api::PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
                "metadata": {"name": "n2", "annotations": {SKIP_RELEASE: "true"}},
                "spec": {"accountRef": {"name": "main"}, "number": "+15005550007"},
            }))
            .unwrap(),
        )
        .await;
    denied_by(
        SKIP_RELEASE_POLICY,
        "PhoneNumber created with skip-release by the tenant",
        result,
    );
}

/// The policies fail closed: a binding whose parameter is missing denies every write. Tested
/// with an extra binding of the mode lock limited to this test's namespace (the cluster's own
/// binding and parameter stay as they are).
#[tokio::test]
async fn without_its_parameter_the_policy_denies_on_a_real_server() {
    use kube::api::{
        Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    };
    use real_server::*;
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let ids = identities(&path).await;
    install_crds(&ids.admin).await;
    require_policies(&ids.admin).await;
    let ns = unique("adm-closed");
    create_namespace(&ids.admin, &ns).await;
    let binding_name = format!("{ns}.telephony.agni.ai");
    let bindings = Api::<DynamicObject>::all_with(
        ids.admin.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(
                "admissionregistration.k8s.io",
                "v1",
                "ValidatingAdmissionPolicyBinding",
            ),
            "validatingadmissionpolicybindings",
        ),
    );
    let body = async {
        bind_edit_role(&ids, &ns).await;
        create(
            &ids.tenant,
            &ns,
            json!({
                "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
                "metadata": {"name": "main"},
                "spec": {"mode": "BringYourOwn", "friendlyName": "acme", "credentialsSecretRef": {"name": "twilio"}},
            }),
        )
        .await;
        let mut binding = named("ValidatingAdmissionPolicyBinding", MODE_LOCK_POLICY);
        binding["metadata"] = json!({"name": binding_name});
        binding["spec"]["paramRef"]["name"] = json!(format!("absent-{ns}"));
        binding["spec"]["matchResources"] =
            json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}});
        bindings
            .patch(
                &binding_name,
                &PatchParams::apply("telephony-admission-policy-test").force(),
                &Patch::Apply(binding),
            )
            .await
            .expect("extra binding");
        let status = eventually("the extra binding is enforced", || async {
            match merge(
                &ids.tenant,
                &ns,
                "TelephonyAccount",
                "main",
                json!({"spec": {"region": "ie1"}}),
            )
            .await
            {
                Err(kube::Error::Api(s)) if s.message.contains(&binding_name) => Some(s),
                Err(kube::Error::Api(s)) => panic!("denied for another reason: {s:?}"),
                Err(e) => panic!("{e}"),
                Ok(_) => None,
            }
        })
        .await;
        assert!(
            status
                .message
                .contains("no params found for policy binding"),
            "{status:?}"
        );
        // An admin is denied too: without the parameter nobody is admin.
        let admin_try = merge(
            &ids.approver,
            &ns,
            "TelephonyAccount",
            "main",
            json!({"spec": {"region": "au1"}}),
        )
        .await;
        denied_by(
            MODE_LOCK_POLICY,
            "update by an admin without the parameter",
            admin_try,
        );
    };
    let cleanup = async {
        let _ = bindings
            .delete(&binding_name, &DeleteParams::default())
            .await;
        delete_namespace(&ids.admin, &ns).await;
    };
    with_cleanup(body, cleanup).await;
}

/// The server holds the policies as the file has them (`require_policies`) and reports no type
/// checking warnings (status.typeChecking is written by kube-controller-manager; without one it
/// stays empty and that part is skipped with a message).
#[tokio::test]
async fn the_server_holds_and_type_checks_the_policies() {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
    use real_server::*;
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let admin = client(&path, None).await;
    install_crds(&admin).await;
    require_policies(&admin).await;
    let policies = Api::<DynamicObject>::all_with(
        admin,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(
                "admissionregistration.k8s.io",
                "v1",
                "ValidatingAdmissionPolicy",
            ),
            "validatingadmissionpolicies",
        ),
    );
    for name in [MODE_LOCK_POLICY, SKIP_RELEASE_POLICY] {
        let server = policies
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let status = &server.data["status"];
        if status["typeChecking"].is_object() {
            assert_eq!(
                status["observedGeneration"].as_i64(),
                server.metadata.generation,
                "{name}: type checked an older generation"
            );
            let warnings = status["typeChecking"]["expressionWarnings"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                warnings.is_empty(),
                "{name}: type checking warnings: {warnings:?}"
            );
        } else {
            eprintln!(
                "note: {name}: no status.typeChecking (the server runs no kube-controller-manager); type checking skipped"
            );
        }
    }
}
