//! Credits on a real server: a tenant cannot grant itself credits — not in its TelephonyAccount
//! (the schema refuses `spec.managed.credits`), not as a CreditGrant with its own roles (RBAC:
//! tenant roles have no rule for them), and not even with a role that wrongly grants them (the
//! admission policy, second layer); an admin-group member can.

use super::fixtures::{
    Identities, bind_edit_role, create, denied_by, identities, merge, require_policies,
};
use crate::policy::CREDIT_GRANTS_POLICY;
use crate::support::{
    admin_kubeconfig, can, create_namespace, delete_namespace, eventually, install_crds, object,
    resource, unique, with_cleanup,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, PostParams};
use serde_json::json;

#[tokio::test]
async fn only_the_platform_grants_credits_on_a_real_server() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let ids = identities(&path).await;
    install_crds(&ids.admin).await;
    require_policies(&ids.admin).await;
    let ns = unique("adm-credits");
    let role = unique("broad-credit-grants");
    create_namespace(&ids.admin, &ns).await;
    with_cleanup(credits_scenario(&ids, &ns, &role), async {
        let _ = Api::<ClusterRoleBinding>::all(ids.admin.clone())
            .delete(&role, &DeleteParams::default())
            .await;
        let _ = Api::<ClusterRole>::all(ids.admin.clone())
            .delete(&role, &DeleteParams::default())
            .await;
        let _ = grants(&ids.admin)
            .delete(&format!("{ns}.main"), &DeleteParams::default())
            .await;
        delete_namespace(&ids.admin, &ns).await;
    })
    .await;
}

fn grants(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &resource("CreditGrant"))
}

fn grant(ns: &str, per_cycle: &str) -> DynamicObject {
    object(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "CreditGrant",
        "metadata": {"name": format!("{ns}.main")},
        "spec": {"credits": {"perCycle": per_cycle, "currency": "USD"}},
    }))
}

async fn credits_scenario(ids: &Identities, ns: &str, role: &str) {
    bind_edit_role(ids, ns).await;
    create(
        &ids.tenant,
        ns,
        json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "main"},
            "spec": {"mode": "Managed", "managed": {"termsAccepted": true}},
        }),
    )
    .await;

    // 1. In its own object: the schema refuses it, saying where credits come from.
    let err = merge(
        &ids.tenant,
        ns,
        "TelephonyAccount",
        "main",
        json!({"spec": {"managed": {"credits": {"perCycle": "1000.00"}}}}),
    )
    .await
    .expect_err("credits in the tenant's spec are refused");
    let kube::Error::Api(status) = err else {
        panic!("{err}")
    };
    assert_eq!(status.code, 422, "{status:?}");
    assert!(status.message.contains("CreditGrant"), "{status:?}");

    // 2. As a CreditGrant with the tenant roles: RBAC forbids it.
    let err = grants(&ids.tenant)
        .create(&PostParams::default(), &grant(ns, "1000.00"))
        .await
        .expect_err("tenant roles have no rule for CreditGrants");
    let kube::Error::Api(status) = err else {
        panic!("{err}")
    };
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        !status.message.contains("ValidatingAdmissionPolicy"),
        "{status:?}"
    );

    // 3. With a role that wrongly grants CreditGrants: the admission policy still denies it.
    let cr: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": role},
        "rules": [{"apiGroups": ["telephony.agni.ai"], "resources": ["creditgrants"],
                   "verbs": ["get", "list", "create", "update", "patch", "delete"]}],
    }))
    .unwrap();
    Api::<ClusterRole>::all(ids.admin.clone())
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    let crb: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": ids.tenant_user},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": ids.admin_group},
        ],
    }))
    .unwrap();
    Api::<ClusterRoleBinding>::all(ids.admin.clone())
        .create(&PostParams::default(), &crb)
        .await
        .unwrap();
    for who in [&ids.tenant, &ids.approver] {
        eventually("RBAC: create creditgrants", || async {
            can(who, "", "telephony.agni.ai", "creditgrants", "create")
                .await
                .then_some(())
        })
        .await;
    }
    let status = denied_by(
        CREDIT_GRANTS_POLICY,
        "a CreditGrant created by the tenant",
        grants(&ids.tenant)
            .create(&PostParams::default(), &grant(ns, "1000.00"))
            .await,
    );
    assert_eq!(status.code, 403, "{status:?}");

    // The platform (an admin-group member) grants; the tenant can neither change nor delete it.
    grants(&ids.approver)
        .create(&PostParams::default(), &grant(ns, "25.00"))
        .await
        .expect("an admin grants credits");
    denied_by(
        CREDIT_GRANTS_POLICY,
        "a CreditGrant raised by the tenant",
        grants(&ids.tenant)
            .patch(
                &format!("{ns}.main"),
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(json!({"spec": {"credits": {"perCycle": "1000.00"}}})),
            )
            .await,
    );
    let deleted = grants(&ids.tenant)
        .delete(&format!("{ns}.main"), &DeleteParams::default())
        .await;
    match deleted {
        Err(kube::Error::Api(s)) => assert!(
            s.message.contains(&format!(
                "ValidatingAdmissionPolicy '{CREDIT_GRANTS_POLICY}'"
            )),
            "{s:?}"
        ),
        other => panic!("a tenant deleted the platform's grant: {other:?}"),
    }
}
