//! What the real-server policy tests share beyond `support`: the three identities (admin,
//! tenant, approver in the admin group), the check that the server holds deploy/'s policies as
//! the file has them, the tenant edit role bound in a test namespace, and writes whose denial
//! by a named policy is asserted.

use crate::policy::{MODE_LOCK_POLICY, documents, named};
use crate::support::{api, can, client, eventually, object, self_review, tenant_client, whoami};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::core::Status;
use serde_json::{Value, json};
use std::path::Path;

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
    let tenant = tenant_client(admin_path).await;
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
            panic!("ConfigMap {ns}/{name} (apply deploy/base/admission-policy.yaml): {e}")
        });
    cm.data
        .and_then(|d| d.get("adminGroup").cloned())
        .expect("data.adminGroup")
}

/// The cluster-scoped API of an `admissionregistration.k8s.io/v1` kind.
pub fn admission_api(admin: &Client, kind: &str, plural: &str) -> Api<DynamicObject> {
    Api::<DynamicObject>::all_with(
        admin.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("admissionregistration.k8s.io", "v1", kind),
            plural,
        ),
    )
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
        let api = admission_api(admin, kind, plural);
        for d in documents().into_iter().filter(|d| d["kind"] == kind) {
            let name = d["metadata"]["name"].as_str().expect("name");
            let server = api.get(name).await.unwrap_or_else(|e| {
                panic!("{kind} {name} is not on the server (kubectl apply -f deploy/base/admission-policy.yaml): {e}")
            });
            let mismatch = first_difference(&d["spec"], &server.data["spec"], "spec");
            assert!(
                mismatch.is_none(),
                "{kind} {name} on the server differs from deploy/base/admission-policy.yaml at {}: re-apply the file",
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
            "RoleBinding to telephony-operator-edit (is deploy/base/tenant-roles.yaml applied?)",
        );
    for who in [&ids.tenant, &ids.approver] {
        for resource in ["telephonyaccounts", "phonenumbers"] {
            eventually(&format!("RBAC: patch {resource} in {ns}"), || async {
                can(who, ns, "telephony.agni.ai", resource, "patch")
                    .await
                    .then_some(())
            })
            .await;
        }
    }
}

/// Creates `obj` (a TelephonyAccount or PhoneNumber) in `ns` as `client`; it must be admitted.
pub async fn create(client: &Client, ns: &str, obj: Value) -> DynamicObject {
    let kind = obj["kind"].as_str().expect("kind").to_string();
    api(client, ns, &kind)
        .create(&PostParams::default(), &object(obj))
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

pub fn annotations(obj: &DynamicObject) -> std::collections::BTreeMap<String, String> {
    obj.metadata.annotations.clone().unwrap_or_default()
}

/// Reads back an object's current state as the admin.
pub async fn current(admin: &Client, ns: &str, kind: &str, name: &str) -> Value {
    let obj = api(admin, ns, kind)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {kind} {ns}/{name}: {e}"));
    serde_json::to_value(obj).expect("json")
}
