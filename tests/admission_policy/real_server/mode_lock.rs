//! The mode lock on a real server, step by step on one TelephonyAccount whose mode the
//! "operator" (the admin, through the status subresource) has locked: who may change the mode,
//! who may set the approval annotation, what stays free, and that status writes are not matched.

use super::fixtures::{
    Identities, annotations, bind_edit_role, create, current, denied_by, identities, merge,
    require_policies,
};
use crate::policy::{ANNOTATION, MODE_LOCK_POLICY};
use crate::support::{
    account, admin_kubeconfig, api, create_namespace, delete_namespace, install_crds, unique,
    with_cleanup,
};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

#[tokio::test]
async fn mode_lock_on_a_real_server() {
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

async fn mode_lock_scenario(ids: &Identities, ns: &str) {
    const TA: &str = "TelephonyAccount";
    bind_edit_role(ids, ns).await;

    // The tenant creates its account; the operator, at its first connection, locks the mode
    // (here the admin plays the operator: status subresource, as the operator writes it).
    create(&ids.tenant, ns, account("main")).await;
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

    let to_managed = json!({"spec": {"mode": "Managed", "managed": {"termsAccepted": true}}});
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
