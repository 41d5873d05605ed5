//! Test target selection: a fresh emulator per test, or (when `TELEPHONY_E2E_KUBECONFIG` is set)
//! the real cluster that kubeconfig points at, with a fresh namespace per test either way.
#![allow(dead_code)]

pub mod http;

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A small custom resource for the tests.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "emu.example.com",
    version = "v1",
    kind = "Widget",
    namespaced,
    shortname = "wd",
    status = "WidgetStatus",
    printcolumn = r#"{"name":"SIZE","type":"integer","jsonPath":".spec.size"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"NOTE","type":"string","jsonPath":".spec.note","priority":1}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSpec {
    pub size: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

pub fn widget(name: &str, size: i32) -> Widget {
    Widget::new(name, WidgetSpec { size, note: None })
}

/// Where a test runs.
pub struct TestEnv {
    pub client: Client,
    pub namespace: String,
    /// `None` against a real cluster.
    pub emu: Option<kube_emulator::EmulatorHandle>,
}

/// `prefix-` and ten random hex digits (tests run in parallel against one real cluster, so the
/// name must not depend on the clock).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// The kubeconfig of the real cluster to run against (`TELEPHONY_E2E_KUBECONFIG`), if set.
pub fn real_kubeconfig() -> Option<std::path::PathBuf> {
    std::env::var_os("TELEPHONY_E2E_KUBECONFIG")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
}

impl TestEnv {
    /// A fresh emulator, or the real cluster named by `TELEPHONY_E2E_KUBECONFIG`.
    pub async fn new() -> TestEnv {
        // reqwest (aws-lc-rs) and kube (ring) both enable a rustls provider: pick one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (client, emu) = match real_kubeconfig() {
            Some(path) => {
                let kc = kube::config::Kubeconfig::read_from(&path)
                    .expect("read TELEPHONY_E2E_KUBECONFIG");
                let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                    .await
                    .expect("kubeconfig");
                (Client::try_from(cfg).expect("client"), None)
            }
            None => {
                let emu = kube_emulator::start(kube_emulator::EmulatorConfig::default())
                    .await
                    .expect("start emulator");
                let cfg = kube::Config::new(emu.url().parse().expect("url"));
                (Client::try_from(cfg).expect("client"), Some(emu))
            }
        };
        let namespace = unique("t");
        let ns: Api<Namespace> = Api::all(client.clone());
        let mut obj = Namespace::default();
        obj.metadata.name = Some(namespace.clone());
        ns.create(&PostParams::default(), &obj)
            .await
            .expect("create namespace");
        TestEnv {
            client,
            namespace,
            emu,
        }
    }

    pub fn emu(&self) -> &kube_emulator::EmulatorHandle {
        self.emu.as_ref().expect("emulator")
    }

    pub fn widgets(&self) -> Api<Widget> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Install the Widget CRD and wait until it is Established.
    pub async fn install_crd(&self) {
        self.install_crds(&[Widget::crd()]).await;
    }

    /// Against a real cluster.
    pub fn is_real(&self) -> bool {
        self.emu.is_none()
    }

    /// Server-side apply each CRD (manager `emu-tests`, forced) and wait until it is
    /// Established, its group-version lists it in discovery, and a first LIST of its resources
    /// in the test namespace answers. (A real kube-apiserver serves a CRD's resources a moment
    /// after Established and may answer the first LISTs `429 storage is (re)initializing`;
    /// kube-rs retries those, kubectl might not get that far. The emulator passes at once.)
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) {
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        for crd in crds {
            let name = crd.metadata.name.clone().expect("crd name");
            api.patch(
                &name,
                &PatchParams::apply("emu-tests").force(),
                &Patch::Apply(crd),
            )
            .await
            .expect("apply crd");
        }
        for crd in crds {
            let name = crd.metadata.name.clone().expect("crd name");
            tokio::time::timeout(
                Duration::from_secs(30),
                await_condition(api.clone(), &name, conditions::is_crd_established()),
            )
            .await
            .expect("crd established in time")
            .expect("await crd");
            let group = &crd.spec.group;
            let plural = &crd.spec.names.plural;
            for v in crd.spec.versions.iter().filter(|v| v.served) {
                let gv = format!("{group}/{}", v.name);
                eventually(&format!("{plural} in the discovery of {gv}"), || async {
                    let list = self.client.list_api_group_resources(&gv).await.ok()?;
                    list.resources
                        .iter()
                        .any(|r| &r.name == plural)
                        .then_some(())
                })
                .await;
                let gvk = kube::api::GroupVersionKind::gvk(group, &v.name, &crd.spec.names.kind);
                let ar = kube::api::ApiResource::from_gvk_with_plural(&gvk, plural);
                let objects: Api<kube::api::DynamicObject> = if crd.spec.scope == "Namespaced" {
                    Api::namespaced_with(self.client.clone(), &self.namespace, &ar)
                } else {
                    Api::all_with(self.client.clone(), &ar)
                };
                eventually(&format!("a first list of {plural}"), || async {
                    objects
                        .list(&kube::api::ListParams::default())
                        .await
                        .ok()
                        .map(|_| ())
                })
                .await;
            }
        }
    }

    pub async fn cleanup(self) {
        let ns: Api<Namespace> = Api::all(self.client.clone());
        let _ = ns.delete(&self.namespace, &DeleteParams::default()).await;
        if let Some(emu) = self.emu {
            emu.shutdown().await;
        }
    }
}

/// Wait (bounded) until `f` returns `Some`.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
