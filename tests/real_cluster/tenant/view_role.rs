//! The view role, bound in a namespace: the tenant gets, lists and watches TelephonyAccounts
//! and PhoneNumbers there, and writes nothing (objects or status) and reads no Secrets.

use super::fixtures::{bind, no_secrets, require_tenant_roles, seed, tenant_cannot_write};
use crate::namespaces::Namespaces;
use crate::support::{
    admin_kubeconfig, api, can, client, eventually, install_crds, tenant_client, whoami,
    with_cleanup,
};
use kube::api::ListParams;

#[tokio::test]
async fn tenant_view_role_only_reads() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let admin = client(&path, None).await;
    install_crds(&admin).await;
    require_tenant_roles(&admin).await;
    let tenant = tenant_client(&path).await;
    let user = whoami(&tenant).await;
    let mut namespaces = Namespaces::new(&admin);
    let c = namespaces.create("rc-tenant-view").await;
    let body = async {
        seed(&admin, &c).await;
        bind(&admin, &c, "telephony-operator-view", &user).await;
        for resource in ["telephonyaccounts", "phonenumbers"] {
            eventually(
                &format!("RBAC: {user} may list {resource} in {c}"),
                || async {
                    can(&tenant, &c, "telephony.agni.ai", resource, "list")
                        .await
                        .then_some(())
                },
            )
            .await;
            assert!(
                can(&tenant, &c, "telephony.agni.ai", resource, "watch").await,
                "watch {resource}"
            );
        }
        let tas = api(&tenant, &c, "TelephonyAccount");
        let pns = api(&tenant, &c, "PhoneNumber");
        assert_eq!(
            tas.get("main").await.expect("view: get").data["spec"]["friendlyName"],
            "acme"
        );
        assert_eq!(
            pns.get("sales").await.expect("view: get").data["spec"]["number"],
            "+15005550006"
        );
        assert_eq!(
            pns.list(&ListParams::default())
                .await
                .expect("view: list")
                .items
                .len(),
            1
        );
        assert_eq!(
            tas.list(&ListParams::default())
                .await
                .expect("view: list")
                .items
                .len(),
            1
        );
        tenant_cannot_write(&tenant, &admin, &c, "view").await;
        no_secrets(&tenant, &c, "view").await;
    };
    with_cleanup(body, namespaces.cleanup()).await;
}
