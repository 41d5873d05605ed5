//! The skip-release guard on a real server: on a PhoneNumber and a TelephonyAccount, only an
//! admin-group member sets or changes `telephony.agni.ai/skip-release`; the tenant may edit
//! other fields and remove it, and may not create a PhoneNumber carrying it.

use super::fixtures::{
    Identities, annotations, bind_edit_role, create, denied_by, identities, merge, require_policies,
};
use crate::policy::{SKIP_RELEASE, SKIP_RELEASE_POLICY};
use crate::support::{
    admin_kubeconfig, api, create_namespace, delete_namespace, install_crds, object, phone_number,
    unique, with_cleanup,
};
use kube::api::PostParams;
use serde_json::{Value, json};

#[tokio::test]
async fn skip_release_guard_on_a_real_server() {
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

async fn skip_release_scenario(ids: &Identities, ns: &str) {
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
    create(&ids.tenant, ns, phone_number("n1", "+15005550006")).await;
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
    let mut annotated = phone_number("n2", "+15005550007");
    annotated["metadata"]["annotations"] = json!({SKIP_RELEASE: "true"});
    let result = api(&ids.tenant, ns, "PhoneNumber")
        .create(&PostParams::default(), &object(annotated))
        .await;
    denied_by(
        SKIP_RELEASE_POLICY,
        "PhoneNumber created with skip-release by the tenant",
        result,
    );
}
