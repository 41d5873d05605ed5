//! The PhoneNumber finalizer policy (deploy/components/finalizer-at-create) on a real server:
//! a PhoneNumber is created with the operator's finalizer whoever creates it and however
//! (create, server-side apply), once, beside any finalizer of its own; a later server-side
//! apply that does not list it keeps it; an update is not touched (the finalizer is the
//! operator's to remove).

use super::fixtures::{admission_api, bind_edit_role, create, identities};
use crate::support::{
    admin_kubeconfig, api, create_namespace, delete_namespace, eventually, install_crds, object,
    phone_number, unique, with_cleanup,
};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use telephony_operator::api::FINALIZER;

const POLICY: &str = "phonenumber-finalizer.telephony.agni.ai";

fn finalizers(obj: &DynamicObject) -> Vec<String> {
    obj.metadata.finalizers.clone().unwrap_or_default()
}

#[tokio::test]
async fn phone_numbers_are_created_with_the_operators_finalizer_on_a_real_server() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let ids = identities(&path).await;
    install_crds(&ids.admin).await;
    let policies = admission_api(
        &ids.admin,
        "MutatingAdmissionPolicy",
        "mutatingadmissionpolicies",
    );
    let on_server = policies.get(POLICY).await.unwrap_or_else(|e| {
        panic!(
            "MutatingAdmissionPolicy {POLICY} is not on the server (kubectl apply -k deploy/): {e}"
        )
    });
    let file: Value = serde_saphyr::from_str(
        include_str!(
            "../../../deploy/components/finalizer-at-create/phonenumber-finalizer-policy.yaml"
        )
        .split("\n---\n")
        .next()
        .expect("the policy document"),
    )
    .expect("the policy file parses");
    assert_eq!(
        on_server.data["spec"]["mutations"], file["spec"]["mutations"],
        "the server holds another finalizer policy than components/finalizer-at-create: re-apply deploy/"
    );
    let ns = unique("adm-finalizer");
    create_namespace(&ids.admin, &ns).await;
    with_cleanup(scenario(&ids, &ns), delete_namespace(&ids.admin, &ns)).await;
}

async fn scenario(ids: &super::fixtures::Identities, ns: &str) {
    bind_edit_role(ids, ns).await;
    // The policy's binding may have been applied a moment ago: the admission plugin picks it up
    // asynchronously. A dry-run create shows when it acts.
    eventually("the finalizer policy acts on creates", || async {
        let created = api(&ids.tenant, ns, "PhoneNumber")
            .create(
                &PostParams {
                    dry_run: true,
                    ..Default::default()
                },
                &object(phone_number("probe", "+15005550001")),
            )
            .await
            .ok()?;
        finalizers(&created)
            .contains(&FINALIZER.to_string())
            .then_some(())
    })
    .await;

    // A tenant's plain create.
    let created = create(&ids.tenant, ns, phone_number("plain", "+15005550006")).await;
    assert_eq!(finalizers(&created), vec![FINALIZER]);

    // A create that lists it already: once.
    let mut own = phone_number("listed", "+15005550007");
    own["metadata"]["finalizers"] = json!([FINALIZER]);
    assert_eq!(
        finalizers(&create(&ids.tenant, ns, own).await),
        vec![FINALIZER]
    );

    // Beside a finalizer of the tenant's own, and an empty list.
    let mut other = phone_number("other", "+15005550008");
    other["metadata"]["finalizers"] = json!(["example.com/keep"]);
    assert_eq!(
        finalizers(&create(&ids.tenant, ns, other).await),
        vec!["example.com/keep", FINALIZER]
    );
    let mut empty = phone_number("empty", "+15005550009");
    empty["metadata"]["finalizers"] = json!([]);
    assert_eq!(
        finalizers(&create(&ids.tenant, ns, empty).await),
        vec![FINALIZER]
    );

    // Server-side apply (Flux; Argo CD with ServerSideApply): created with it, owned by no
    // manager, kept by a later apply that does not list it.
    let pns = api(&ids.tenant, ns, "PhoneNumber");
    let mut applied = phone_number("gitops", "+15005550010");
    applied["metadata"]["namespace"] = json!(ns);
    let params = PatchParams::apply("flux-like");
    let first = pns
        .patch("gitops", &params, &Patch::Apply(applied.clone()))
        .await
        .expect("server-side apply creates");
    assert_eq!(finalizers(&first), vec![FINALIZER]);
    let owners: Vec<String> = first
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .is_some_and(|f| f.0.pointer("/f:metadata/f:finalizers").is_some())
        })
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(owners.is_empty(), "the finalizer is owned by {owners:?}");
    applied["metadata"]["labels"] = json!({"team": "voice"});
    let second = pns
        .patch("gitops", &params, &Patch::Apply(applied))
        .await
        .expect("server-side apply updates");
    assert_eq!(
        finalizers(&second),
        vec![FINALIZER],
        "a later apply keeps it"
    );
    assert_eq!(second.metadata.labels.unwrap_or_default()["team"], "voice");

    // Updates are not mutated: removing it from a live object is the tenant's (the operator puts
    // it back at its next reconcile).
    let removed = pns
        .patch(
            "plain",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .expect("the tenant removes the finalizer");
    assert!(
        finalizers(&removed).is_empty(),
        "{:?}",
        finalizers(&removed)
    );
}
