//! Every manifest of the kustomize base `deploy/base/` (not only the admission policy) parses as its Kubernetes type,
//! and the Deployment and RBAC say what the operator needs: leader election, its pod identity,
//! Secrets only read, no wildcards.

use serde_json::Value;

/// Every manifest in `deploy/base/` parses as its Kubernetes type (catches typos before a cluster does).
#[test]
fn deploy_manifests_are_valid_kubernetes_objects() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // kustomization.yaml lists them (kustomize's own file, not an object).
        if path.extension().and_then(|e| e.to_str()) != Some("yaml")
            || path.file_name().is_some_and(|n| n == "kustomization.yaml")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let parsed = match kind.as_str() {
                "Namespace" => serde_json::from_value::<Namespace>(doc.clone()).map(drop),
                "ServiceAccount" => serde_json::from_value::<ServiceAccount>(doc.clone()).map(drop),
                "ClusterRole" => serde_json::from_value::<ClusterRole>(doc.clone()).map(drop),
                "ClusterRoleBinding" => {
                    serde_json::from_value::<ClusterRoleBinding>(doc.clone()).map(drop)
                }
                "Role" => serde_json::from_value::<Role>(doc.clone()).map(drop),
                "RoleBinding" => serde_json::from_value::<RoleBinding>(doc.clone()).map(drop),
                "Deployment" => serde_json::from_value::<Deployment>(doc.clone()).map(drop),
                "Secret" => serde_json::from_value::<Secret>(doc.clone()).map(drop),
                "Service" => {
                    serde_json::from_value::<k8s_openapi::api::core::v1::Service>(doc.clone())
                        .map(drop)
                }
                "PodDisruptionBudget" => serde_json::from_value::<
                    k8s_openapi::api::policy::v1::PodDisruptionBudget,
                >(doc.clone())
                .map(drop),
                "ConfigMap" => {
                    serde_json::from_value::<k8s_openapi::api::core::v1::ConfigMap>(doc.clone())
                        .map(drop)
                }
                "ValidatingAdmissionPolicy" => serde_json::from_value::<
                    k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy,
                >(doc.clone())
                .map(drop),
                "ValidatingAdmissionPolicyBinding" => serde_json::from_value::<
                    k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
                >(doc.clone())
                .map(drop),
                other => panic!("{}: unexpected kind {other:?}", path.display()),
            };
            parsed.unwrap_or_else(|e| panic!("{}: {kind}: {e}", path.display()));
            kinds.push(kind);
        }
    }
    for k in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "Deployment",
        "ValidatingAdmissionPolicy",
    ] {
        assert!(kinds.iter().any(|x| x == k), "deploy/base/ lacks a {k}");
    }

    // The Deployment runs the operator with leader election and its pod identity.
    let text = std::fs::read_to_string(dir.join("deployment.yaml")).unwrap();
    let d: Deployment =
        serde_json::from_value(serde_saphyr::from_str::<Value>(&text).unwrap()).unwrap();
    let c = &d.spec.unwrap().template.spec.unwrap().containers[0];
    let args = c.args.clone().unwrap_or_default();
    assert_eq!(args.first().map(String::as_str), Some("run"));
    assert!(args.iter().any(|a| a == "--leader-election"));
    let env: Vec<String> = c
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(env.contains(&"POD_NAMESPACE".to_string()) && env.contains(&"POD_NAME".to_string()));

    // RBAC: Secrets are only read; no wildcard verbs or resources.
    let text = std::fs::read_to_string(dir.join("rbac.yaml")).unwrap();
    for doc in serde_saphyr::from_multiple::<Value>(&text).unwrap() {
        if doc["kind"] == "ClusterRole" || doc["kind"] == "Role" {
            for rule in doc["rules"].as_array().unwrap() {
                let verbs: Vec<&str> = rule["verbs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect();
                assert!(!verbs.contains(&"*"), "{rule}");
                assert!(
                    !rule["resources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r == "*"),
                    "{rule}"
                );
                if rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "secrets")
                {
                    assert_eq!(verbs, vec!["get", "list", "watch"]);
                }
            }
        }
    }
}
