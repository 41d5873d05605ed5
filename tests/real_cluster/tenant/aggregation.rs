//! The tenant roles carry the aggregation labels of the built-in `edit`, `admin` and `view`
//! roles, and (where a kube-controller-manager aggregates them) end up in those roles.

use super::fixtures::require_tenant_roles;
use crate::support::{admin_kubeconfig, client};
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::Api;

/// The roles carry the aggregation labels of the built-in roles; whether a namespace's editors
/// get them through `edit`/`view` is kube-controller-manager's job (checked only where one runs).
#[tokio::test]
async fn tenant_roles_aggregate_into_the_built_in_roles() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let admin = client(&path, None).await;
    require_tenant_roles(&admin).await;
    let roles = Api::<ClusterRole>::all(admin);
    for (role, labels, builtin) in [
        (
            "telephony-operator-edit",
            &[
                "rbac.authorization.k8s.io/aggregate-to-edit",
                "rbac.authorization.k8s.io/aggregate-to-admin",
            ][..],
            &["edit", "admin"][..],
        ),
        (
            "telephony-operator-view",
            &["rbac.authorization.k8s.io/aggregate-to-view"][..],
            &["view"][..],
        ),
    ] {
        let r = roles.get(role).await.expect("role");
        for l in labels {
            assert_eq!(
                r.metadata
                    .labels
                    .as_ref()
                    .and_then(|m| m.get(*l))
                    .map(String::as_str),
                Some("true"),
                "{role}: {l}"
            );
        }
        for b in builtin {
            let Ok(built_in) = roles.get(b).await else {
                eprintln!(
                    "note: no built-in ClusterRole {b} on this server: aggregation not checked"
                );
                continue;
            };
            let rules = built_in.rules.unwrap_or_default();
            let has = rules.iter().any(|rule| {
                rule.api_groups
                    .as_ref()
                    .is_some_and(|g| g.iter().any(|g| g == "telephony.agni.ai"))
            });
            if rules.is_empty() {
                eprintln!(
                    "note: ClusterRole {b} is empty (no kube-controller-manager aggregates it here): aggregation of {role} not checked"
                );
            } else {
                assert!(has, "ClusterRole {b} does not aggregate {role}");
            }
        }
    }
}
