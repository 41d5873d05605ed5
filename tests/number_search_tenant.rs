//! NumberSearch as the tenant, on the real API server (`tests/real-cluster/start.sh` exports
//! `TELEPHONY_E2E_KUBECONFIG` and `TELEPHONY_E2E_TENANT_KUBECONFIG`: user tenant-alice, group
//! telephony-tenants). With deploy/'s `telephony-operator-edit` role bound in one namespace, the
//! tenant creates, reads (with the operator's candidates and prices) and deletes a NumberSearch
//! there; it is refused (403) one in a namespace where it has no role, and the status
//! subresource. Then the plugin runs as the tenant: `search` (the operator answers), and `plan
//! -k` with the server's dry run refusing a bad webhook URL, a CreditGrant not validated (the
//! tenant may not write one) and nothing created. Skipped without a real server.

#[path = "e2e/common.rs"]
mod common;
#[path = "plugin/support.rs"]
mod support;

use common::*;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::plugin;
use telephony_operator::api::{NumberSearchResource, PhoneNumber, TelephonyAccount};
use telephony_operator::sandbox::stack::StackOptions;

/// The tenant's kubeconfig, or `None` (with a message) when the harness did not write one.
fn tenant_kubeconfig() -> Option<PathBuf> {
    let path = std::env::var_os("TELEPHONY_E2E_TENANT_KUBECONFIG").filter(|p| !p.is_empty());
    if path.is_none() {
        eprintln!(
            "skipped: set TELEPHONY_E2E_TENANT_KUBECONFIG (tests/real-cluster/start.sh does) to run the tenant's NumberSearch checks"
        );
    }
    path.map(Into::into)
}

async fn client_of(path: &Path) -> Client {
    let kc = kube::config::Kubeconfig::read_from(path).expect("tenant kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("tenant kubeconfig");
    Client::try_from(cfg).expect("tenant client")
}

/// The tenant's user name, as the server sees it.
async fn whoami(tenant: &Client) -> String {
    let review: k8s_openapi::api::authentication::v1::SelfSubjectReview = Api::all(tenant.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({})).expect("review"),
        )
        .await
        .expect("SelfSubjectReview");
    review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .expect("a user name")
}

async fn can(tenant: &Client, ns: &str, resource: &str, verb: &str) -> bool {
    let review: SelfSubjectAccessReview = serde_json::from_value(json!({
        "spec": {"resourceAttributes": {"namespace": ns, "group": "telephony.agni.ai",
                                        "resource": resource, "verb": verb}}
    }))
    .expect("review");
    Api::<SelfSubjectAccessReview>::all(tenant.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("SelfSubjectAccessReview")
        .status
        .is_some_and(|s| s.allowed)
}

#[track_caller]
fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) {
    match result {
        Err(kube::Error::Api(s)) if s.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

fn search(name: &str, labels: &Value) -> NumberSearchResource {
    serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "NumberSearch",
        "metadata": {"name": name, "labels": labels},
        "spec": {"accountRef": {"name": "acct"}, "search": {"country": "US", "type": "Local", "areaCode": 415},
                 "limit": 3}
    }))
    .expect("NumberSearch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_cluster_number_search_as_the_tenant() {
    let Some(tenant_kc) = tenant_kubeconfig() else {
        return;
    };
    let Some(real) = real_cluster_stack(StackOptions::default()).await else {
        return;
    };
    let admin = real.stack.client.clone();
    let ns = byo_namespace(&admin, "nsearch-tenant").await;
    let elsewhere = format!("{ns}-other");
    Api::<Namespace>::all(admin.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": elsewhere}})).expect("ns"),
        )
        .await
        .expect("namespace created");
    // The operator of this scenario sees only objects with its label: the account's.
    let labels = json!(
        Api::<TelephonyAccount>::namespaced(admin.clone(), &ns)
            .get("acct")
            .await
            .expect("account")
            .labels()
            .clone()
    );
    let (label_key, label_value) = labels
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| *k == STACK_LABEL))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .expect("the scenario's label");

    let tenant = client_of(&tenant_kc).await;
    let user = whoami(&tenant).await;
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "telephony-operator-edit", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "telephony-operator-edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .expect("binding");
    Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("edit role bound");
    wait_for(
        "RBAC: the tenant may create numbersearches",
        CONVERGE,
        async || Some(can(&tenant, &ns, "numbersearches", "create").await),
        |allowed| *allowed,
    )
    .await;

    // In its namespace: create, read the candidates, delete.
    let searches = Api::<NumberSearchResource>::namespaced(tenant.clone(), &ns);
    searches
        .create(&PostParams::default(), &search("sf", &labels))
        .await
        .expect("the tenant creates a NumberSearch in its namespace");
    let answered = wait_for(
        "the operator's candidates, read by the tenant",
        CONVERGE,
        async || searches.get_opt("sf").await.ok().flatten(),
        |s| {
            s.status
                .as_ref()
                .is_some_and(|st| !st.candidates.is_empty())
        },
    )
    .await;
    let status = answered.status.expect("status");
    assert!(status.candidates.len() <= 3, "{status:#?}");
    for c in &status.candidates {
        assert!(c.phone_number.starts_with("+1415"), "{c:?}");
        assert!(c.monthly_fee.is_some(), "priced: {c:?}");
    }
    assert!(
        searches
            .list(&Default::default())
            .await
            .expect("the tenant lists NumberSearches")
            .items
            .iter()
            .any(|s| s.name_any() == "sf")
    );
    // The status is the operator's.
    forbidden(
        "the tenant patches a NumberSearch's status",
        searches
            .patch_status(
                "sf",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"found": 99}})),
            )
            .await,
    );
    assert!(!can(&tenant, &ns, "numbersearches/status", "patch").await);
    assert!(!can(&tenant, &ns, "numbersearches/status", "update").await);
    searches
        .delete("sf", &Default::default())
        .await
        .expect("the tenant deletes its NumberSearch");
    wait_for(
        "sf deleted",
        CONVERGE,
        async || Some(searches.get_opt("sf").await.ok().flatten().is_none()),
        |gone| *gone,
    )
    .await;
    // Elsewhere: nothing.
    forbidden(
        "the tenant creates a NumberSearch where it has no role",
        Api::<NumberSearchResource>::namespaced(tenant.clone(), &elsewhere)
            .create(&PostParams::default(), &search("sf", &labels))
            .await,
    );
    forbidden(
        "the tenant lists NumberSearches where it has no role",
        Api::<NumberSearchResource>::namespaced(tenant.clone(), &elsewhere)
            .list(&Default::default())
            .await,
    );

    // The plugin as the tenant: search (labelled for this scenario's operator).
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = tenant_kc.display().to_string();
    let label = format!("{label_key}={label_value}");
    let (code, stdout, stderr) = plugin(
        dir.path(),
        &[
            "--kubeconfig",
            &kc,
            "-n",
            &ns,
            "--labels",
            &label,
            "search",
            "--account",
            "acct",
            "--area-code",
            "415",
            "--limit",
            "2",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("NUMBER"), "{stdout}");
    assert!(
        stdout.contains("+1415") && stdout.contains("USD"),
        "{stdout}"
    );
    assert!(stdout.contains("Twilio's Pricing API"), "{stdout}");
    // ... where it has no role: one line saying so.
    let (code, _, stderr) = plugin(
        dir.path(),
        &[
            "--kubeconfig",
            &kc,
            "-n",
            &elsewhere,
            "search",
            "--account",
            "acct",
        ],
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.starts_with("error: forbidden:"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // plan -k as the tenant: kustomize's prefix, the server's dry run (schema refusal), a
    // CreditGrant the tenant may not write (not validated, not refused), nothing created.
    let k = dir.path().join("numbers");
    std::fs::create_dir_all(&k).expect("dir");
    std::fs::write(
        k.join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\n\
             namePrefix: t-\nresources: [numbers.yaml]\n"
        ),
    )
    .expect("kustomization");
    let mut bad = search_number("bad", 415);
    bad["spec"]["voice"]["url"] = json!("ftp://example.test/x");
    let grant = json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "CreditGrant",
                       "metadata": {"name": format!("{ns}.acct")},
                       "spec": {"credits": {"perCycle": "100.00", "currency": "USD"}}});
    let docs: Vec<String> = [search_number("support", 212), bad, grant]
        .iter()
        .map(|d| serde_saphyr::to_string(d).expect("yaml"))
        .collect();
    std::fs::write(k.join("numbers.yaml"), docs.join("---\n")).expect("numbers.yaml");
    let kdir = k.display().to_string();
    let (code, stdout, stderr) = plugin(
        dir.path(),
        &[
            "--kubeconfig",
            &kc,
            "-n",
            &ns,
            "plan",
            "-k",
            &kdir,
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("plan json");
    let change = |name: &str| {
        plan["changes"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{name} in {plan:#}"))
    };
    assert_eq!(change("t-support")["action"], "buy", "{plan:#}");
    let bad = change("t-bad");
    assert_eq!(bad["action"], "refuse", "{plan:#}");
    assert!(
        bad["note"]
            .as_str()
            .is_some_and(|n| n.starts_with("the API server refuses it: ")
                && n.contains("must be an absolute http:// or https:// URL")),
        "{plan:#}"
    );
    assert_eq!(plan["refused"], 1, "{plan:#}");
    let dry = &plan["serverDryRun"];
    assert_eq!(
        (dry["accepted"].as_u64(), dry["refused"].as_u64()),
        (Some(1), Some(1)),
        "{plan:#}"
    );
    assert!(
        dry["warnings"].as_array().is_some_and(|w| w.len() == 1
            && w[0]
                .as_str()
                .is_some_and(|w| w.contains("CreditGrant") && w.contains("forbidden"))),
        "{plan:#}"
    );
    let pns = Api::<PhoneNumber>::namespaced(tenant.clone(), &ns)
        .list(&Default::default())
        .await
        .expect("the tenant lists PhoneNumbers");
    assert!(pns.items.is_empty(), "a dry run creates nothing: {pns:?}");
    real.stack.shutdown().await;
}
