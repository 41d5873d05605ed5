//! Shared plumbing of the end-to-end scenarios: start the stack (emulator, or a real cluster
//! when `TELEPHONY_E2E_KUBECONFIG` is set), create objects, wait for states.

#![allow(dead_code)]

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use std::time::Duration;
use telephony_operator::api::{CreditGrant, PhoneNumber, TelephonyAccount};
use telephony_operator::sandbox::examples::{BYO_ACCOUNT_SID, BYO_AUTH_TOKEN};
use telephony_operator::sandbox::stack::{Stack, StackOptions};

/// How long a scenario waits for the operator to converge before failing.
pub const CONVERGE: Duration = Duration::from_secs(60);

/// Where the scenarios run.
pub fn target() -> Option<std::path::PathBuf> {
    std::env::var_os("TELEPHONY_E2E_KUBECONFIG").map(Into::into)
}

/// Starts a stack for one scenario on the emulator.
pub async fn emulator_stack(mut opts: StackOptions) -> Stack {
    opts.external_kubeconfig = None;
    opts.operator_kubeconfig = None;
    Stack::start(opts).await.expect("stack starts")
}

/// Label key that ties the objects of one real-cluster scenario to that scenario's operator.
pub const STACK_LABEL: &str = "e2e.telephony.agni.ai/stack";

/// The label value of the real-cluster scenario now running (`None` on the emulator).
static STACK_LABEL_VALUE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// One real-cluster scenario at a time: each starts its own Twilio simulator, and the
/// cluster-wide master credentials Secret is the current scenario's.
static REAL_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A stack on the real cluster, held exclusively for one scenario.
pub struct RealClusterStack {
    pub stack: Stack,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Starts a stack on the real cluster, or `None` (with a message) when none is configured.
///
/// The operator runs as the identity of `TELEPHONY_E2E_OPERATOR_KUBECONFIG` when it is set
/// (the real-cluster harness points it at deploy/'s ServiceAccount, so deploy/'s RBAC is all
/// it has), and only sees objects labelled for this scenario: objects left behind by an
/// earlier scenario are not its business.
pub async fn real_cluster_stack(mut opts: StackOptions) -> Option<RealClusterStack> {
    let Some(path) = target() else {
        eprintln!(
            "skipped: set TELEPHONY_E2E_KUBECONFIG=/path/to/kubeconfig to run this scenario against a real cluster (kind, k3d)"
        );
        return None;
    };
    let turn = REAL_CLUSTER.lock().await;
    let value = format!("s{}", uuid_like());
    *STACK_LABEL_VALUE.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
    opts.external_kubeconfig = Some(path);
    opts.operator_kubeconfig = std::env::var_os("TELEPHONY_E2E_OPERATOR_KUBECONFIG")
        .filter(|p| !p.is_empty())
        .map(Into::into);
    opts.label_selector = Some(format!("{STACK_LABEL}={value}"));
    let stack = Stack::start(opts)
        .await
        .expect("stack starts against the real cluster");
    Some(RealClusterStack { stack, _turn: turn })
}

/// Adds the running real-cluster scenario's label to a manifest (nothing on the emulator).
pub fn label_for_stack(obj: &mut serde_json::Value) {
    if let Some(value) = STACK_LABEL_VALUE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        obj["metadata"]["labels"][STACK_LABEL] = json!(value);
    }
}

/// A fresh namespace with the BYO credentials Secret and a BYO TelephonyAccount `acct`.
pub async fn byo_namespace(client: &Client, prefix: &str) -> String {
    let ns = format!("{prefix}-{}", &uuid_like());
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("namespace created");
    put_secret(client, &ns, BYO_ACCOUNT_SID, BYO_AUTH_TOKEN).await;
    apply(client, &ns, json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "acct"},
        "spec": {"mode": "BringYourOwn", "friendlyName": "e2e", "credentialsSecretRef": {"name": "twilio"}}
    }))
    .await;
    ns
}

pub async fn put_secret(client: &Client, ns: &str, sid: &str, token: &str) {
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "twilio", "namespace": ns},
        "type": "Opaque", "stringData": {"accountSid": sid, "authToken": token}
    });
    Api::<Secret>::namespaced(client.clone(), ns)
        .patch(
            "twilio",
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(secret),
        )
        .await
        .expect("secret applied");
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:x}{:04x}", nanos, std::process::id() & 0xffff)
}

/// Server-side applies a telephony object into `ns`.
pub async fn apply(client: &Client, ns: &str, mut obj: serde_json::Value) {
    obj["metadata"]["namespace"] = json!(ns);
    label_for_stack(&mut obj);
    let name = obj["metadata"]["name"].as_str().expect("name").to_string();
    match obj["kind"].as_str() {
        Some("PhoneNumber") => {
            Api::<PhoneNumber>::namespaced(client.clone(), ns)
                .patch(
                    &name,
                    &PatchParams::apply("e2e").force(),
                    &Patch::Apply(obj),
                )
                .await
                .expect("PhoneNumber applied");
        }
        Some("TelephonyAccount") => {
            Api::<TelephonyAccount>::namespaced(client.clone(), ns)
                .patch(
                    &name,
                    &PatchParams::apply("e2e").force(),
                    &Patch::Apply(obj),
                )
                .await
                .expect("TelephonyAccount applied");
        }
        other => panic!("apply: unsupported kind {other:?}"),
    }
}

/// The platform grants the Managed account `ns/account` credits (a cluster-scoped CreditGrant).
/// On a real cluster the admission policy lets only the admin group write grants: the grant is
/// written as a member of it (impersonated by the admin).
pub async fn grant_credits(client: &Client, ns: &str, account: &str, per_cycle: &str) {
    let platform = match target() {
        Some(path) => platform_admin(&path, client).await,
        None => client.clone(),
    };
    let client = &platform;
    let mut obj = json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "CreditGrant",
        "metadata": {"name": CreditGrant::name_for(ns, account)},
        "spec": {"credits": {"perCycle": per_cycle, "currency": "USD"}}
    });
    label_for_stack(&mut obj);
    let name = CreditGrant::name_for(ns, account);
    Api::<CreditGrant>::all(client.clone())
        .patch(
            &name,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(obj),
        )
        .await
        .expect("CreditGrant applied");
}

/// A cluster administrator in the admin group named by deploy/'s admission-policy parameter
/// (impersonated): the platform.
async fn platform_admin(path: &std::path::Path, admin: &Client) -> Client {
    let cm: k8s_openapi::api::core::v1::ConfigMap =
        Api::namespaced(admin.clone(), "telephony-system")
            .get("telephony-operator-admission")
            .await
            .expect("the admission policy's parameter ConfigMap");
    let group = cm
        .data
        .and_then(|d| d.get("adminGroup").cloned())
        .expect("data.adminGroup");
    let kc = kube::config::Kubeconfig::read_from(path).expect("kubeconfig");
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig");
    cfg.auth_info.impersonate = Some("platform-admin".into());
    cfg.auth_info.impersonate_groups = Some(vec![group, "system:masters".into()]);
    Client::try_from(cfg).expect("client")
}

/// A PhoneNumber manifest searching a US local number in `area` on account `acct`.
pub fn search_number(name: &str, area: u16) -> serde_json::Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": name},
        "spec": {"accountRef": {"name": "acct"}, "search": {"country": "US", "type": "Local", "areaCode": area},
                 "voice": {"url": "https://example.test/voice"}}
    })
}

/// The Ready condition's (status, reason) of a PhoneNumber.
pub fn ready_of(pn: &PhoneNumber) -> Option<(String, String)> {
    pn.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone()))
}

pub fn account_ready_of(a: &TelephonyAccount) -> Option<(String, String)> {
    a.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone()))
}

/// Polls `get` until `pred` holds; panics with the last value after `timeout`.
pub async fn wait_for<T: std::fmt::Debug>(
    what: &str,
    timeout: Duration,
    mut get: impl AsyncFnMut() -> Option<T>,
    pred: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Some(v) = get().await {
            if pred(&v) {
                return v;
            }
            last = Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for {what}; last seen: {last:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the PhoneNumber satisfies `pred`.
pub async fn wait_number(
    client: &Client,
    ns: &str,
    name: &str,
    what: &str,
    pred: impl Fn(&PhoneNumber) -> bool,
) -> PhoneNumber {
    let api = Api::<PhoneNumber>::namespaced(client.clone(), ns);
    wait_for(
        what,
        CONVERGE,
        async || api.get_opt(name).await.ok().flatten(),
        pred,
    )
    .await
}

/// Waits until the PhoneNumber is Ready=True.
pub async fn wait_ready(client: &Client, ns: &str, name: &str) -> PhoneNumber {
    wait_number(client, ns, name, &format!("{ns}/{name} Ready"), |pn| {
        ready_of(pn).is_some_and(|(s, _)| s == "True")
    })
    .await
}

/// Waits until the PhoneNumber no longer exists.
pub async fn wait_gone(client: &Client, ns: &str, name: &str) {
    let api = Api::<PhoneNumber>::namespaced(client.clone(), ns);
    wait_for(
        &format!("{ns}/{name} deleted"),
        CONVERGE,
        async || Some(api.get_opt(name).await.ok().flatten().map(|p| p.name_any())),
        |v| v.is_none(),
    )
    .await;
}

/// Runs `body` on a fresh emulator stack, or on the real cluster (`real`; skipped with a message
/// when no kubeconfig is given), then stops the stack.
pub async fn run_scenario(real: bool, opts: StackOptions, body: impl AsyncFnOnce(&mut Stack)) {
    if real {
        if let Some(mut real) = real_cluster_stack(opts).await {
            body(&mut real.stack).await;
            real.stack.shutdown().await;
        }
    } else {
        let mut stack = emulator_stack(opts).await;
        body(&mut stack).await;
        stack.shutdown().await;
    }
}

/// Two tests of one scenario body: `$emulator` on a fresh emulator stack, `$real` on the real
/// cluster (skipped without one). A test file using it declares `#[macro_use] mod common;`.
#[allow(unused_macros)]
macro_rules! scenario {
    ($emulator:ident, $real:ident, $body:ident, $opts:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $emulator() {
            $crate::common::run_scenario(false, $opts, $body).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $real() {
            $crate::common::run_scenario(true, $opts, $body).await;
        }
    };
}
