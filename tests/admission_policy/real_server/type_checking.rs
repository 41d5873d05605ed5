//! The server holds deploy/'s policies as the file has them and, where a
//! kube-controller-manager type checks them, reports no warnings about their expressions.

use super::fixtures::{admission_api, require_policies};
use crate::policy::{MODE_LOCK_POLICY, SKIP_RELEASE_POLICY};
use crate::support::{admin_kubeconfig, client, install_crds};

/// The server holds the policies as the file has them (`require_policies`) and reports no type
/// checking warnings (status.typeChecking is written by kube-controller-manager; without one it
/// stays empty and that part is skipped with a message).
#[tokio::test]
async fn the_server_holds_and_type_checks_the_policies() {
    let Some(path) = admin_kubeconfig() else {
        return;
    };
    let admin = client(&path, None).await;
    install_crds(&admin).await;
    require_policies(&admin).await;
    let policies = admission_api(
        &admin,
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
    );
    for name in [MODE_LOCK_POLICY, SKIP_RELEASE_POLICY] {
        let server = policies
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let status = &server.data["status"];
        if status["typeChecking"].is_object() {
            assert_eq!(
                status["observedGeneration"].as_i64(),
                server.metadata.generation,
                "{name}: type checked an older generation"
            );
            let warnings = status["typeChecking"]["expressionWarnings"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                warnings.is_empty(),
                "{name}: type checking warnings: {warnings:?}"
            );
        } else {
            eprintln!(
                "note: {name}: no status.typeChecking (the server runs no kube-controller-manager); type checking skipped"
            );
        }
    }
}
