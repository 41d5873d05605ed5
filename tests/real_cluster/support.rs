//! Real-server plumbing shared by the two test targets that talk to a real kube-apiserver
//! (`tests/real_cluster.rs` and `tests/admission_policy.rs`, which both include this file with
//! `#[path = "real_cluster/support.rs"]`): the kubeconfigs `tests/real-cluster/start.sh`
//! exports, clients for the admin and the tenant, polling, namespaces, the CRDs of `crds/` and
//! the objects the tests create.
//!
//! What differs between the two targets is read from the including crate root:
//! `NO_CLUSTER` (the skip message), `FIELD_MANAGER` (server-side apply), `PROPAGATION` (how long
//! to wait for the server to see a change) and `POLL` (how often to look).
//!
//! Every item here is used by both targets (an item only one of them needs lives in that
//! target's own modules), so neither compiles with dead code.

use crate::{FIELD_MANAGER, NO_CLUSTER, POLL, PROPAGATION};
use futures::FutureExt;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::{Client, Config};
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Instant;

const CRDS: &str = include_str!("../../crds/telephony.agni.ai.yaml");

// --- identities -------------------------------------------------------------------------------

/// The admin kubeconfig of the real cluster (`TELEPHONY_E2E_KUBECONFIG`), or `None` with the
/// target's skip message when none is set.
pub fn admin_kubeconfig() -> Option<PathBuf> {
    match std::env::var_os("TELEPHONY_E2E_KUBECONFIG").filter(|p| !p.is_empty()) {
        Some(p) => Some(p.into()),
        None => {
            eprintln!("{NO_CLUSTER}");
            None
        }
    }
}

/// A client for the kubeconfig at `path`, optionally impersonating `(user, groups)`.
pub async fn client(path: &Path, impersonate: Option<(&str, &[&str])>) -> Client {
    // reqwest (aws-lc-rs) and kube (ring) both enable a rustls provider: pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("read kubeconfig {}: {e}", path.display()));
    let mut cfg = Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig");
    if let Some((user, groups)) = impersonate {
        cfg.auth_info.impersonate = Some(user.to_string());
        cfg.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
    }
    Client::try_from(cfg).expect("client")
}

/// The tenant: `TELEPHONY_E2E_TENANT_KUBECONFIG`, else user tenant-alice impersonated by the admin.
pub async fn tenant_client(admin_path: &Path) -> Client {
    match std::env::var_os("TELEPHONY_E2E_TENANT_KUBECONFIG").filter(|p| !p.is_empty()) {
        Some(p) => client(Path::new(&p), None).await,
        None => {
            eprintln!(
                "note: no TELEPHONY_E2E_TENANT_KUBECONFIG: the tenant is user tenant-alice, impersonated"
            );
            client(
                admin_path,
                Some((
                    "tenant-alice",
                    &["telephony-tenants", "system:authenticated"],
                )),
            )
            .await
        }
    }
}

/// Who the server says the client is.
pub async fn self_review(client: &Client) -> SelfSubjectReview {
    Api::<SelfSubjectReview>::all(client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("SelfSubjectReview")
}

/// The client's user name, as the server sees it.
pub async fn whoami(client: &Client) -> String {
    self_review(client)
        .await
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .expect("a username")
}

/// SelfSubjectAccessReview: may the client `verb` `resource` (optionally `/subresource`) in `ns`?
pub async fn can(client: &Client, ns: &str, group: &str, resource: &str, verb: &str) -> bool {
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    let review: SelfSubjectAccessReview = serde_json::from_value(json!({
        "spec": {"resourceAttributes": {
            "namespace": ns, "group": group, "resource": resource, "subresource": subresource, "verb": verb,
        }}
    }))
    .unwrap();
    Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("SelfSubjectAccessReview")
        .status
        .is_some_and(|s| s.allowed)
}

// --- test flow --------------------------------------------------------------------------------

/// Polls `probe` every `POLL` until it yields, or fails the test after `PROPAGATION`.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PROPAGATION;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PROPAGATION:?} waiting for: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Runs `body`, then `cleanup` whether or not `body` panicked.
pub async fn with_cleanup<B, C>(body: B, cleanup: C)
where
    B: Future<Output = ()>,
    C: Future<Output = ()>,
{
    let outcome = std::panic::AssertUnwindSafe(body).catch_unwind().await;
    cleanup.await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A name unique to this run.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

pub async fn create_namespace(admin: &Client, name: &str) {
    Api::<Namespace>::all(admin.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
}

/// Deletes the namespace (it stays Terminating on a server without kube-controller-manager;
/// its name is unique to this run, so that is harmless).
pub async fn delete_namespace(admin: &Client, name: &str) {
    let _ = Api::<Namespace>::all(admin.clone())
        .delete(name, &DeleteParams::default())
        .await;
}

// --- the CRDs ---------------------------------------------------------------------------------

/// The CustomResourceDefinitions of `crds/`.
pub fn crd_documents() -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(CRDS)
        .expect("crds/ parses")
        .into_iter()
        .filter(|d| d.is_object())
        .collect()
}

/// The CRD in `crds/` for `kind`.
pub fn crd_of(kind: &str) -> Value {
    crd_documents()
        .into_iter()
        .find(|d| d["spec"]["names"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind} in crds/"))
}

/// The status of a CRD's condition `type_`, if it has one.
pub fn condition(crd: &CustomResourceDefinition, type_: &str) -> Option<String> {
    crd.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.clone())
}

/// Server-side applies crds/ and waits until both CRDs are Established.
pub async fn install_crds(admin: &Client) {
    let api = Api::<CustomResourceDefinition>::all(admin.clone());
    for crd in crd_documents() {
        let name = crd["metadata"]["name"].as_str().expect("name").to_string();
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(crd),
        )
        .await
        .unwrap_or_else(|e| panic!("apply CRD {name}: {e}"));
        eventually(&format!("CRD {name} Established"), || {
            let api = api.clone();
            let name = name.clone();
            async move { condition(&api.get(&name).await.ok()?, "Established").filter(|s| s == "True") }
        })
        .await;
    }
}

// --- TelephonyAccounts and PhoneNumbers -------------------------------------------------------

/// The API resource of one of the CRDs' kinds (plural from `crds/`).
pub fn resource(kind: &str) -> ApiResource {
    let plural = crd_of(kind)["spec"]["names"]["plural"]
        .as_str()
        .expect("plural")
        .to_string();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("telephony.agni.ai", "v1alpha1", kind),
        &plural,
    )
}

/// The namespaced API of `kind` in `ns`, as `client`.
pub fn api(client: &Client, ns: &str, kind: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &resource(kind))
}

pub fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("an object")
}

/// A BringYourOwn TelephonyAccount whose credentials are in the Secret `twilio`.
pub fn account(name: &str) -> Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": name},
        "spec": {"mode": "BringYourOwn", "friendlyName": "acme", "credentialsSecretRef": {"name": "twilio"}},
    })
}

/// A PhoneNumber of the account `main`.
pub fn phone_number(name: &str, number: &str) -> Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": name},
        "spec": {"accountRef": {"name": "main"}, "number": number},
    })
}
