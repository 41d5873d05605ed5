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

impl TestEnv {
    /// A fresh emulator, or the real cluster named by `TELEPHONY_E2E_KUBECONFIG`.
    pub async fn new() -> TestEnv {
        // reqwest (aws-lc-rs) and kube (ring) both enable a rustls provider: pick one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (client, emu) = match std::env::var("TELEPHONY_E2E_KUBECONFIG") {
            Ok(path) if !path.is_empty() => {
                let kc = kube::config::Kubeconfig::read_from(&path)
                    .expect("read TELEPHONY_E2E_KUBECONFIG");
                let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                    .await
                    .expect("kubeconfig");
                (Client::try_from(cfg).expect("client"), None)
            }
            _ => {
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
        let crds: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        let crd = Widget::crd();
        let name = crd.metadata.name.clone().expect("crd name");
        crds.patch(
            &name,
            &PatchParams::apply("emu-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("apply crd");
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(crds, &name, conditions::is_crd_established()),
        )
        .await
        .expect("crd established in time")
        .expect("await crd");
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
