//! What the tenant-role tests share: the roles as the server must hold them, binding them to
//! the tenant, the objects the tenant is shown, and the checks of what the tenant is refused
//! (writes, status, Secrets).

use crate::support::{account, api, can, object, phone_number};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const TENANT_ROLES: &str = include_str!("../../../deploy/base/tenant-roles.yaml");

/// The tenant roles on the server are deploy/base/tenant-roles.yaml's (start.sh applies the file).
pub async fn require_tenant_roles(admin: &Client) {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(TENANT_ROLES).expect("deploy/base/tenant-roles.yaml parses");
    let api = Api::<ClusterRole>::all(admin.clone());
    for d in docs.iter().filter(|d| d["kind"] == "ClusterRole") {
        let name = d["metadata"]["name"].as_str().expect("name");
        let server = api.get(name).await.unwrap_or_else(|e| {
            panic!("ClusterRole {name} is not on the server (kubectl apply -f deploy/base/tenant-roles.yaml): {e}")
        });
        assert_eq!(
            serde_json::to_value(&server.rules).unwrap(),
            d["rules"],
            "ClusterRole {name} on the server differs from deploy/base/tenant-roles.yaml: re-apply it"
        );
    }
}

pub async fn bind(admin: &Client, ns: &str, role: &str, user: &str) {
    let rb: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": role, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &rb)
        .await
        .unwrap_or_else(|e| panic!("bind {role} in {ns}: {e}"));
}

/// The request was refused by RBAC (403 Forbidden naming the user).
#[track_caller]
pub fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) {
    match result {
        Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("cannot") => {}
        other => panic!("{what}: expected 403 Forbidden by RBAC, got {other:?}"),
    }
}

/// Everything the tenant must not do with the objects of `ns` (and their status).
pub async fn tenant_cannot_write(tenant: &Client, admin: &Client, ns: &str, why: &str) {
    for (kind, name, obj, patch) in [
        (
            "TelephonyAccount",
            "main",
            account("other"),
            json!({"spec": {"region": "ie1"}}),
        ),
        (
            "PhoneNumber",
            "sales",
            phone_number("other", "+15005550009"),
            json!({"spec": {"friendlyName": "x"}}),
        ),
    ] {
        let mine = api(tenant, ns, kind);
        forbidden(
            &format!("{why}: create {kind}"),
            mine.create(&PostParams::default(), &object(obj)).await,
        );
        forbidden(
            &format!("{why}: patch {kind}"),
            mine.patch(name, &PatchParams::default(), &Patch::Merge(patch))
                .await,
        );
        forbidden(
            &format!("{why}: delete {kind}"),
            mine.delete(name, &DeleteParams::default()).await,
        );
        forbidden(
            &format!("{why}: deletecollection {kind}"),
            mine.delete_collection(&DeleteParams::default(), &ListParams::default())
                .await,
        );
        // The status (prices, phase, credits ledger, locked mode) is the operator's.
        let before = api(admin, ns, kind).get(name).await.expect("admin reads");
        forbidden(
            &format!("{why}: patch {kind}/status"),
            mine.patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"phase": "Active", "mode": "Managed", "credits": {"balance": "1000000"}}})),
            )
            .await,
        );
        let mut replaced = before.clone();
        replaced.data["status"] = json!({"phase": "Active"});
        forbidden(
            &format!("{why}: update {kind}/status"),
            mine.replace_status(name, &PostParams::default(), &replaced)
                .await,
        );
        let after = api(admin, ns, kind).get(name).await.expect("admin reads");
        assert_eq!(
            before.metadata.resource_version, after.metadata.resource_version,
            "{why}: {kind} changed"
        );
    }
}

/// Objects for the tenant to look at (or be refused), created by the admin.
pub async fn seed(admin: &Client, ns: &str) {
    api(admin, ns, "TelephonyAccount")
        .create(&PostParams::default(), &object(account("main")))
        .await
        .expect("seed TelephonyAccount");
    api(admin, ns, "PhoneNumber")
        .create(
            &PostParams::default(),
            &object(phone_number("sales", "+15005550006")),
        )
        .await
        .expect("seed PhoneNumber");
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "twilio"}, "stringData": {"accountSid": "AC-test", "authToken": "not-a-token"},
    }))
    .unwrap();
    Api::<Secret>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .expect("seed Secret");
}

pub async fn no_secrets(tenant: &Client, ns: &str, why: &str) {
    let secrets = Api::<Secret>::namespaced(tenant.clone(), ns);
    forbidden(&format!("{why}: get Secret"), secrets.get("twilio").await);
    forbidden(
        &format!("{why}: list Secrets"),
        secrets.list(&ListParams::default()).await,
    );
    assert!(
        !can(tenant, ns, "", "secrets", "watch").await,
        "{why}: watch Secrets"
    );
}
