//! The policies fail closed on a real server: a binding whose parameter ConfigMap is missing
//! denies every write, an admin's too.

use super::fixtures::{
    admission_api, bind_edit_role, create, denied_by, identities, merge, require_policies,
};
use crate::policy::{MODE_LOCK_POLICY, named};
use crate::support::{
    account, admin_kubeconfig, create_namespace, delete_namespace, eventually, install_crds,
    unique, with_cleanup,
};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

/// The policies fail closed: a binding whose parameter is missing denies every write. Tested
/// with an extra binding of the mode lock limited to this test's namespace (the cluster's own
/// binding and parameter stay as they are).
#[tokio::test]
async fn without_its_parameter_the_policy_denies_on_a_real_server() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let ids = identities(&path).await;
    install_crds(&ids.admin).await;
    require_policies(&ids.admin).await;
    let ns = unique("adm-closed");
    create_namespace(&ids.admin, &ns).await;
    let binding_name = format!("{ns}.telephony.agni.ai");
    let bindings = admission_api(
        &ids.admin,
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    );
    let body = async {
        bind_edit_role(&ids, &ns).await;
        create(&ids.tenant, &ns, account("main")).await;
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
