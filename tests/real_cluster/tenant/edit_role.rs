//! The edit role, bound in one namespace: there the tenant runs the whole life cycle of
//! TelephonyAccounts and PhoneNumbers (create, read, list, patch, delete) but never writes their
//! status and reads no Secrets; in another namespace, and across namespaces, it gets nothing.

use super::fixtures::{
    bind, forbidden, no_secrets, require_tenant_roles, seed, tenant_cannot_write,
};
use crate::namespaces::Namespaces;
use crate::support::{
    account, admin_kubeconfig, api, can, client, eventually, install_crds, object, phone_number,
    resource, tenant_client, whoami, with_cleanup,
};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn tenant_edit_role_works_in_its_namespace_only() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let admin = client(&path, None).await;
    install_crds(&admin).await;
    require_tenant_roles(&admin).await;
    let tenant = tenant_client(&path).await;
    let user = whoami(&tenant).await;
    let mut namespaces = Namespaces::new(&admin);
    let a = namespaces.create("rc-tenant-a").await;
    let b = namespaces.create("rc-tenant-b").await;
    let body = async {
        bind(&admin, &a, "telephony-operator-edit", &user).await;
        seed(&admin, &b).await;
        for resource in ["telephonyaccounts", "phonenumbers"] {
            eventually(
                &format!("RBAC: {user} may create {resource} in {a}"),
                || async {
                    can(&tenant, &a, "telephony.agni.ai", resource, "create")
                        .await
                        .then_some(())
                },
            )
            .await;
        }

        // In A: the whole life cycle, with real requests.
        let tas = api(&tenant, &a, "TelephonyAccount");
        let pns = api(&tenant, &a, "PhoneNumber");
        tas.create(&PostParams::default(), &object(account("main")))
            .await
            .expect("tenant creates a TelephonyAccount in its namespace");
        pns.create(
            &PostParams::default(),
            &object(phone_number("sales", "+15005550006")),
        )
        .await
        .expect("tenant creates a PhoneNumber in its namespace");
        assert_eq!(
            tas.get("main").await.expect("get").data["spec"]["mode"],
            "BringYourOwn"
        );
        let listed = pns
            .list(&ListParams::default())
            .await
            .expect("list PhoneNumbers");
        assert_eq!(
            listed
                .items
                .iter()
                .filter_map(|o| o.metadata.name.clone())
                .collect::<Vec<_>>(),
            vec!["sales".to_string()]
        );
        assert_eq!(
            tas.list(&ListParams::default())
                .await
                .expect("list")
                .items
                .len(),
            1
        );
        let patched = pns
            .patch(
                "sales",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"friendlyName": "Sales line"}})),
            )
            .await
            .expect("tenant patches its PhoneNumber");
        assert_eq!(patched.data["spec"]["friendlyName"], "Sales line");
        tas.patch(
            "main",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"region": "ie1"}})),
        )
        .await
        .expect("tenant patches its TelephonyAccount");
        for resource in ["telephonyaccounts", "phonenumbers"] {
            for verb in ["watch", "update", "deletecollection"] {
                assert!(
                    can(&tenant, &a, "telephony.agni.ai", resource, verb).await,
                    "{verb} {resource} in A"
                );
            }
        }
        // Not the status, not in A either.
        for resource in ["telephonyaccounts/status", "phonenumbers/status"] {
            for verb in ["update", "patch"] {
                assert!(
                    !can(&tenant, &a, "telephony.agni.ai", resource, verb).await,
                    "{verb} {resource} in A"
                );
            }
        }
        let before = api(&admin, &a, "PhoneNumber")
            .get("sales")
            .await
            .expect("admin reads");
        forbidden(
            "A: patch phonenumbers/status",
            pns.patch_status(
                "sales",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"phase": "Active", "pricing": {"monthlyFee": "0.00", "currency": "USD", "source": "tenant"}}})),
            )
            .await,
        );
        forbidden(
            "A: update telephonyaccounts/status",
            tas.replace_status("main", &PostParams::default(), &{
                let mut o = tas.get("main").await.expect("get");
                o.data["status"] = json!({"mode": "Managed", "credits": {"balance": "1000000"}});
                o
            })
            .await,
        );
        let after = api(&admin, &a, "PhoneNumber")
            .get("sales")
            .await
            .expect("admin reads");
        assert_eq!(
            before.metadata.resource_version,
            after.metadata.resource_version
        );
        // No Secrets: not in A (the tenant roles grant none), not elsewhere.
        no_secrets(&tenant, &a, "A").await;
        no_secrets(&tenant, &b, "B").await;
        no_secrets(&tenant, "telephony-system", "telephony-system").await;
        // Delete, for real. No operator runs here: the PhoneNumber's finalizer (added at its
        // creation by deploy/'s finalizer policy, when the server has MutatingAdmissionPolicy)
        // holds it Terminating until the tenant takes it off (its edit role may).
        pns.delete("sales", &DeleteParams::default())
            .await
            .expect("tenant deletes its PhoneNumber");
        match pns
            .patch(
                "sales",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"finalizers": null}})),
            )
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {} // no finalizer held it
            Err(e) => panic!("tenant removes the finalizer of its PhoneNumber: {e}"),
        }
        tas.delete("main", &DeleteParams::default())
            .await
            .expect("tenant deletes its TelephonyAccount");
        eventually("the tenant's objects are gone", || async {
            let gone = |r: Result<DynamicObject, kube::Error>| matches!(r, Err(kube::Error::Api(s)) if s.code == 404);
            (gone(pns.get("sales").await) && gone(tas.get("main").await)).then_some(())
        })
        .await;

        // In B: nothing.
        for kind in ["TelephonyAccount", "PhoneNumber"] {
            let theirs = api(&tenant, &b, kind);
            let name = if kind == "PhoneNumber" {
                "sales"
            } else {
                "main"
            };
            forbidden(&format!("B: get {kind}"), theirs.get(name).await);
            forbidden(
                &format!("B: list {kind}"),
                theirs.list(&ListParams::default()).await,
            );
            // Nor across namespaces.
            forbidden(
                &format!("all namespaces: list {kind}"),
                Api::<DynamicObject>::all_with(tenant.clone(), &resource(kind))
                    .list(&ListParams::default())
                    .await,
            );
        }
        tenant_cannot_write(&tenant, &admin, &b, "B").await;
    };
    with_cleanup(body, namespaces.cleanup()).await;
}
