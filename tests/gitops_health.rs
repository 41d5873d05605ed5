//! GitOps health, judged by the GitOps tools' own code on objects read back from a real
//! kube-apiserver (run by `tests/real-cluster/run-suite.sh`, suite `gitops-health`, or any
//! cluster named by `TELEPHONY_E2E_KUBECONFIG`; without one the cluster test is skipped with a
//! message):
//!
//! - every lifecycle state of a PhoneNumber and a TelephonyAccount (the table in
//!   `gitops_health/states.rs`) is created, its status built by the operator's core decisions
//!   and written through the status subresource, and read back from the server;
//! - `tests/real-cluster/tools/gitops-health` (Go) judges each object with kstatus
//!   (sigs.k8s.io/cli-utils, what Flux uses) and with the Argo CD health check of
//!   `deploy/argocd/` run in gopher-lua as Argo CD runs it;
//! - each state must read as the table says, and a Stalled state must carry a reason that needs
//!   a person (`Reason::transient`), a Reconciling one a reason that resolves itself;
//! - `deploy/argocd/argocd-cm-patch.yaml`, applied with `kubectl patch`, puts exactly the scripts
//!   into `argocd-cm`.
//!
//! Without a cluster: `docs/gitops-health.md` holds the table as rendered here, and the argocd-cm
//! patch embeds the scripts byte for byte (`UPDATE_GITOPS_DOCS=1` rewrites both).

use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Printed, and the test skipped, when no cluster is configured.
const NO_CLUSTER: &str = "skipped: the GitOps health check needs a cluster: run tests/real-cluster/run-suite.sh \
                          (or tests/real-cluster/start.sh -- cargo test --test gitops_health), or set \
                          TELEPHONY_E2E_KUBECONFIG";
/// The field manager of this target's server-side applies.
const FIELD_MANAGER: &str = "telephony-gitops-health-test";
/// How long the server may take to see a new CRD.
const PROPAGATION: Duration = Duration::from_secs(30);
/// How often `support::eventually` looks again.
const POLL: Duration = Duration::from_millis(200);

#[allow(dead_code)] // shared with tests/real_cluster.rs; this target uses part of it
#[path = "real_cluster/support.rs"]
mod support;

#[path = "gitops_health/states.rs"]
mod states;

use states::{Kind, Row, TABLE};

const GROUP: &str = "telephony.agni.ai";
const DOCS: &str = "docs/gitops-health.md";
const DOCS_BEGIN: &str = "<!-- BEGIN TABLE: rendered from tests/gitops_health/states.rs -->";
const DOCS_END: &str = "<!-- END TABLE -->";
const ARGOCD_DIR: &str = "deploy/argocd";
const ARGOCD_PATCH: &str = "deploy/argocd/argocd-cm-patch.yaml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn update() -> bool {
    std::env::var_os("UPDATE_GITOPS_DOCS").is_some()
}

// --- the table in the docs, the scripts in the argocd-cm patch ------------------------------

/// The table as docs/gitops-health.md shows it.
fn render_table() -> String {
    let mut out = String::new();
    out.push_str("| kind | state | phase | conditions (the one that decides: reason) | kstatus (Flux) | Argo CD |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    let mut notes = Vec::new();
    for r in TABLE {
        let state = match r.gap {
            Some(gap) => {
                notes.push((r.name, gap));
                format!("{} (known gap {})", r.state, notes.len())
            }
            None => r.state.to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.kind.as_str(),
            state,
            r.phase,
            r.conditions,
            r.kstatus,
            r.argocd
        ));
    }
    for (i, (name, gap)) in notes.iter().enumerate() {
        out.push_str(&format!("\nKnown gap {} (`{name}`): {gap}.\n", i + 1));
    }
    out
}

#[test]
fn the_docs_hold_the_table() {
    let path = root().join(DOCS);
    let docs = std::fs::read_to_string(&path).expect("docs/gitops-health.md exists");
    let (Some(begin), Some(end)) = (docs.find(DOCS_BEGIN), docs.find(DOCS_END)) else {
        panic!("{DOCS} lacks the markers {DOCS_BEGIN:?} … {DOCS_END:?}");
    };
    let body = &docs[begin + DOCS_BEGIN.len()..end];
    let want = format!("\n{}", render_table());
    if update() && body != want {
        let new = format!("{}{DOCS_BEGIN}{want}{}", &docs[..begin], &docs[end..]);
        std::fs::write(&path, new).expect("docs are writable");
        return;
    }
    assert!(
        body == want,
        "{DOCS} does not hold the table of tests/gitops_health/states.rs: run UPDATE_GITOPS_DOCS=1 cargo test --test gitops_health\nwant:\n{want}"
    );
}

/// `<group>_<Kind>.lua` of deploy/argocd/ for both kinds: (argocd-cm key, script).
fn scripts() -> Vec<(String, String)> {
    [Kind::PhoneNumber, Kind::TelephonyAccount]
        .iter()
        .map(|k| {
            let file = root()
                .join(ARGOCD_DIR)
                .join(format!("{GROUP}_{}.lua", k.as_str()));
            let script = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            (
                format!("resource.customizations.health.{GROUP}_{}", k.as_str()),
                script,
            )
        })
        .collect()
}

fn render_patch() -> String {
    let mut out = String::from(
        "# The Argo CD health checks of telephony-operator's kinds, for the argocd-cm ConfigMap:\n\
         #   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file deploy/argocd/argocd-cm-patch.yaml\n\
         # Generated from the .lua files next to it (UPDATE_GITOPS_DOCS=1 cargo test --test gitops_health);\n\
         # docs/gitops-health.md says what each state reads as.\n\
         data:\n",
    );
    for (key, script) in scripts() {
        out.push_str(&format!("  {key}: |\n"));
        for line in script.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

#[test]
fn the_argocd_cm_patch_embeds_the_scripts() {
    let path = root().join(ARGOCD_PATCH);
    let want = render_patch();
    if update() {
        std::fs::write(&path, &want).expect("deploy/argocd is writable");
    }
    let on_disk = std::fs::read_to_string(&path).expect("the argocd-cm patch exists");
    assert!(
        on_disk == want,
        "{ARGOCD_PATCH} is stale: run UPDATE_GITOPS_DOCS=1 cargo test --test gitops_health"
    );
    // And as YAML, the values are the scripts byte for byte.
    let parsed: Value = serde_saphyr::from_str(&on_disk).expect("the patch parses as YAML");
    for (key, script) in scripts() {
        assert_eq!(
            parsed["data"][&key].as_str(),
            Some(script.as_str()),
            "{key}"
        );
    }
}

#[test]
fn the_table_names_each_object_once() {
    let mut names: Vec<_> = TABLE.iter().map(|r| (r.kind.as_str(), r.name)).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate names in the table");
}

// --- the real server ---------------------------------------------------------------------------

/// The gitops-health binary, built (or found up to date) by its build.sh.
fn gitops_health_binary() -> PathBuf {
    let build = root().join("tests/real-cluster/tools/gitops-health/build.sh");
    let status = Command::new("bash")
        .arg(&build)
        .status()
        .unwrap_or_else(|e| panic!("run {}: {e}", build.display()));
    assert!(
        status.success(),
        "{} failed ({status}): gitops-health needs Go",
        build.display()
    );
    let dir = std::env::var_os("REAL_CLUSTER_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/real-cluster/tools"));
    dir.join("gitops-health")
}

/// What gitops-health said about one object.
#[derive(Debug, serde::Deserialize)]
struct Judged {
    kind: String,
    name: String,
    kstatus: Verdict,
    argocd: Option<Verdict>,
}

#[derive(Debug, serde::Deserialize)]
struct Verdict {
    status: String,
    message: String,
}

fn judge(binary: &Path, list: &Value) -> Vec<Judged> {
    let mut child = Command::new(binary)
        .arg("--lua-dir")
        .arg(root().join(ARGOCD_DIR))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", binary.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(list.to_string().as_bytes())
        .expect("write the objects");
    let out = child.wait_with_output().expect("gitops-health ends");
    assert!(
        out.status.success(),
        "gitops-health failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("gitops-health prints JSON")
}

fn condition<'a>(o: &'a Value, type_: &str) -> Option<&'a Value> {
    o["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn is_true(o: &Value, type_: &str) -> bool {
    condition(o, type_).is_some_and(|c| c["status"] == "True")
}

/// Ready / Reconciling / Stalled as read back, and the reason of the one that decides (Stalled,
/// else Reconciling, else Ready), in the table's words.
fn conditions_of(o: &Value) -> String {
    let present: Vec<String> = ["Ready", "Reconciling", "Stalled"]
        .iter()
        .filter_map(|t| {
            condition(o, t).map(|c| format!("{t}={}", c["status"].as_str().unwrap_or("?")))
        })
        .collect();
    if present.is_empty() {
        return format!(
            "none (observedGeneration {})",
            o["status"]["observedGeneration"]
        );
    }
    let deciding = ["Stalled", "Reconciling"]
        .iter()
        .find(|t| is_true(o, t))
        .copied()
        .unwrap_or("Ready");
    let reason = condition(o, deciding)
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("?");
    format!("{}: {reason}", present.join(", "))
}

/// The reason's classification must agree with the condition it decides.
fn classification_problem(o: &Value) -> Option<String> {
    for (type_, transient) in [("Stalled", false), ("Reconciling", true)] {
        if is_true(o, type_) {
            let reason = condition(o, type_)?["reason"].as_str()?.to_string();
            let parsed = telephony_core::reason::Reason::parse(&reason);
            if parsed.transient() != Some(transient) {
                return Some(format!(
                    "{type_}=True with reason {reason}, whose Reason::transient() is {:?}",
                    parsed.transient()
                ));
            }
        }
    }
    None
}

fn manifest(r: &Row) -> Value {
    let mut metadata = json!({"name": r.name});
    if r.deleting {
        metadata["finalizers"] = json!([telephony_core::api::FINALIZER]);
    }
    json!({
        "apiVersion": format!("{GROUP}/v1alpha1"), "kind": r.kind.as_str(),
        "metadata": metadata, "spec": (r.spec)(),
    })
}

async fn create_every_state(admin: &kube::Client, ns: &str) {
    for r in TABLE {
        let api = support::api(admin, ns, r.kind.as_str());
        let created = api
            .create(&PostParams::default(), &support::object(manifest(r)))
            .await
            .unwrap_or_else(|e| panic!("create {} {}: {e}", r.kind.as_str(), r.name));
        let created = serde_json::to_value(&created).expect("serializes");
        if let Some(status) = (r.status)(&created) {
            api.patch_status(
                r.name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
            .unwrap_or_else(|e| panic!("write the status of {}: {e}", r.name));
        }
        if r.deleting {
            api.delete(r.name, &DeleteParams::default())
                .await
                .unwrap_or_else(|e| panic!("delete {}: {e}", r.name));
        }
    }
}

/// Everything in `ns`, read back from the server, as one List.
async fn read_back(admin: &kube::Client, ns: &str) -> Value {
    let mut items = Vec::new();
    for kind in [Kind::PhoneNumber, Kind::TelephonyAccount] {
        let list = support::api(admin, ns, kind.as_str())
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("list {}: {e}", kind.as_str()));
        for item in list.items {
            let mut v = serde_json::to_value(&item).expect("serializes");
            v["apiVersion"] = json!(format!("{GROUP}/v1alpha1"));
            v["kind"] = json!(kind.as_str());
            items.push(v);
        }
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

async fn check_every_state(admin: kube::Client, ns: String) {
    let binary = gitops_health_binary();
    create_every_state(&admin, &ns).await;
    let list = read_back(&admin, &ns).await;
    let judged = judge(&binary, &list);
    let items = list["items"].as_array().expect("items");

    let mut measured = String::from(
        "| kind | state | phase | conditions | kstatus (Flux): message | Argo CD: message |\n|---|---|---|---|---|---|\n",
    );
    let mut problems = Vec::new();
    for r in TABLE {
        let kind = r.kind.as_str();
        let Some(o) = items
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == r.name)
        else {
            problems.push(format!("{kind} {}: not read back", r.name));
            continue;
        };
        let Some(j) = judged.iter().find(|j| j.kind == kind && j.name == r.name) else {
            problems.push(format!("{kind} {}: not judged", r.name));
            continue;
        };
        let phase = o["status"]["phase"].as_str().unwrap_or("-").to_string();
        let conditions = conditions_of(o);
        let argo = j.argocd.as_ref();
        let argo_status = argo.map_or("none", |a| a.status.as_str());
        measured.push_str(&format!(
            "| {kind} | {} | {phase} | {conditions} | {}: {} | {}: {} |\n",
            r.state,
            j.kstatus.status,
            j.kstatus.message,
            argo_status,
            argo.map_or("", |a| a.message.as_str())
        ));
        for (what, want, got) in [
            ("phase", r.phase, phase.as_str()),
            ("conditions", r.conditions, conditions.as_str()),
            ("kstatus", r.kstatus, j.kstatus.status.as_str()),
            ("Argo CD health", r.argocd, argo_status),
        ] {
            if want != got {
                problems.push(format!(
                    "{kind} {} ({}): {what} is {got:?}, the table says {want:?}",
                    r.name, r.state
                ));
            }
        }
        if r.gap.is_none()
            && let Some(p) = classification_problem(o)
        {
            problems.push(format!("{kind} {} ({}): {p}", r.name, r.state));
        }
    }
    eprintln!("measured on the server:\n{measured}");
    assert!(
        problems.is_empty(),
        "{} state(s) read otherwise than the table says:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The argocd-cm patch, applied with kubectl as the docs say, leaves exactly the scripts there.
async fn check_the_argocd_cm_patch(admin: kube::Client, ns: String) {
    use k8s_openapi::api::core::v1::ConfigMap;
    let cms = kube::Api::<ConfigMap>::namespaced(admin, &ns);
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "metadata": {"name": "argocd-cm"},
            "data": {"url": "https://argocd.example.com"},
        }))
        .expect("a ConfigMap"),
    )
    .await
    .expect("create argocd-cm");
    let kubeconfig = std::env::var_os("TELEPHONY_E2E_KUBECONFIG").expect("a kubeconfig");
    let home = tempfile::tempdir().expect("a private HOME for kubectl");
    let out = Command::new("kubectl")
        .env("HOME", home.path())
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "-n",
            &ns,
            "patch",
            "configmap",
            "argocd-cm",
            "--type",
            "merge",
        ])
        .arg("--patch-file")
        .arg(root().join(ARGOCD_PATCH))
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl patch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = cms
        .get("argocd-cm")
        .await
        .expect("argocd-cm")
        .data
        .unwrap_or_default();
    assert_eq!(
        data.get("url").map(String::as_str),
        Some("https://argocd.example.com"),
        "the rest of argocd-cm is kept"
    );
    for (key, script) in scripts() {
        assert_eq!(data.get(&key), Some(&script), "{key} in argocd-cm");
    }
}

async fn remove_finalizers(admin: &kube::Client, ns: &str) {
    for r in TABLE.iter().filter(|r| r.deleting) {
        let _ = support::api(admin, ns, r.kind.as_str())
            .patch(
                r.name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"finalizers": null}})),
            )
            .await;
    }
}

#[tokio::test]
async fn every_lifecycle_state_reads_as_the_table_says() {
    let Some(path) = support::admin_kubeconfig() else {
        return;
    };
    let admin = support::client(&path, None).await;
    support::install_crds(&admin).await;
    let ns = support::unique("gitops-health");
    support::create_namespace(&admin, &ns).await;
    let cleanup = {
        let (admin, ns) = (admin.clone(), ns.clone());
        async move {
            remove_finalizers(&admin, &ns).await;
            support::delete_namespace(&admin, &ns).await;
        }
    };
    support::with_cleanup(check_every_state(admin.clone(), ns.clone()), cleanup).await;
}

#[tokio::test]
async fn the_argocd_cm_patch_applies_with_kubectl() {
    let Some(path) = support::admin_kubeconfig() else {
        return;
    };
    let admin = support::client(&path, None).await;
    let ns = support::unique("gitops-argocd");
    support::create_namespace(&admin, &ns).await;
    let cleanup = {
        let (admin, ns) = (admin.clone(), ns.clone());
        async move { support::delete_namespace(&admin, &ns).await }
    };
    support::with_cleanup(
        check_the_argocd_cm_patch(admin.clone(), ns.clone()),
        cleanup,
    )
    .await;
}
