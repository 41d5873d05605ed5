//! The real `kubectl` against the emulator (or, with `TELEPHONY_E2E_KUBECONFIG`, against the
//! real cluster it names): client-side and server-side apply of CRDs and CRs, `get -o
//! wide|yaml|json` with printer columns, `describe`, `wait --for=condition=Ready`, `delete`
//! waiting on a finalizer, `patch --subresource=status`, strict field validation.
//! Each test has its own kubeconfig (the emulator's, or the real cluster's), its own HOME
//! (private discovery cache) and a fresh namespace passed with `-n`; the Widget CRD is installed
//! and Established before kubectl runs. The `kubectl` on PATH is used. Skipped with a message
//! when there is none.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use common::{TestEnv, Widget, eventually};
use kube::CustomResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

struct Kubectl {
    env: TestEnv,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn kubectl_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("kubectl").is_file()))
}

impl Kubectl {
    async fn new(test: &str) -> Option<Kubectl> {
        if !kubectl_on_path() {
            eprintln!("skipping {test}: kubectl is not on PATH");
            return None;
        }
        let env = TestEnv::new().await;
        env.install_crd().await;
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = match (&env.emu, common::real_kubeconfig()) {
            (Some(emu), _) => {
                let path = dir.path().join("kubeconfig");
                emu.write_kubeconfig(&path).unwrap();
                path
            }
            (None, Some(path)) => path,
            (None, None) => unreachable!("a TestEnv without an emulator has a kubeconfig"),
        };
        Some(Kubectl {
            env,
            dir,
            kubeconfig,
        })
    }

    fn ns(&self) -> &str {
        &self.env.namespace
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["-n", self.ns()])
            .args(args);
        c.env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .kill_on_drop(true);
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .expect("kubectl finished in time")
            .expect("run kubectl")
    }

    /// Run and require success; returns stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn write(&self, name: &str, v: &Value) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
        p.to_string_lossy().to_string()
    }

    fn crd_file(&self) -> String {
        self.write("crd.json", &serde_json::to_value(Widget::crd()).unwrap())
    }

    fn widget_file(&self, name: &str, size: i64, extra: Value) -> String {
        let mut w = json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name": name},"spec":{"size": size}});
        if let (Some(m), Some(e)) = (w["spec"].as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        self.write(&format!("{name}-{size}.json"), &w)
    }

    fn widgets(&self) -> Api<Widget> {
        self.env.widgets()
    }

    async fn done(self) {
        self.env.cleanup().await;
    }
}

/// A CRD of its own for one test (a group no other test or run uses), so that `kubectl apply`
/// creates it on a shared real cluster too: `(group, file)`.
fn gizmo_crd(k: &Kubectl) -> (String, String) {
    let group = format!("{}.emu.example.com", common::unique("g"));
    let crd = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name": format!("gizmos.{group}")},
        "spec":{"group": group,"scope":"Namespaced","names":{"plural":"gizmos","singular":"gizmo","kind":"Gizmo"},
            "versions":[{"name":"v1","served":true,"storage":true,
                "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"n":{"type":"integer"}}}}}}}]}});
    let file = k.write("gizmo-crd.json", &crd);
    (group, file)
}

fn get_json(s: &str) -> Value {
    serde_json::from_str(s).expect("kubectl json output")
}

#[tokio::test]
async fn client_side_apply_get_and_describe() {
    let Some(k) = Kubectl::new("client_side_apply_get_and_describe").await else {
        return;
    };
    // kubectl creates a CRD, and a custom object as soon as the CRD is Established
    let (group, gizmo) = gizmo_crd(&k);
    let out = k.ok(&["apply", "-f", &gizmo]).await;
    assert_eq!(
        out.trim(),
        format!("customresourcedefinition.apiextensions.k8s.io/gizmos.{group} created")
    );
    k.ok(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/gizmos.{group}"),
        "--timeout=30s",
    ])
    .await;
    // the (pre-installed) Widget CRD: client-side apply over a server-side applied object
    let out = k.ok(&["apply", "-f", &k.crd_file()]).await;
    assert!(
        out.contains("customresourcedefinition.apiextensions.k8s.io/widgets.emu.example.com"),
        "{out}"
    );
    let out = k
        .ok(&[
            "apply",
            "-f",
            &k.widget_file("w1", 3, json!({"note":"hello"})),
        ])
        .await;
    assert!(out.contains("widget.emu.example.com/w1 created"), "{out}");

    // printer columns: NOTE has priority 1 → only with -o wide
    let plain = k.ok(&["get", "widgets"]).await;
    let header: Vec<&str> = plain.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SIZE", "READY", "AGE"], "{plain}");
    assert!(plain.lines().nth(1).unwrap().starts_with("w1 "), "{plain}");
    let wide = k.ok(&["get", "wd", "-o", "wide"]).await;
    assert!(wide.lines().next().unwrap().contains("NOTE"), "{wide}");
    assert!(wide.contains("hello"), "{wide}");

    let y = k.ok(&["get", "widget", "w1", "-o", "yaml"]).await;
    assert!(y.contains("size: 3") && y.contains("generation: 1"), "{y}");
    let j = get_json(&k.ok(&["get", "widget", "w1", "-o", "json"]).await);
    assert_eq!(j["spec"]["size"], 3);

    // re-apply with a change: merge patch, generation 2, last-applied annotation kept current
    let out = k
        .ok(&["apply", "-f", &k.widget_file("w1", 4, json!({}))])
        .await;
    assert!(out.contains("configured"), "{out}");
    let j = get_json(&k.ok(&["get", "widget", "w1", "-o", "json"]).await);
    assert_eq!(
        (
            j["spec"]["size"].clone(),
            j["metadata"]["generation"].clone()
        ),
        (json!(4), json!(2))
    );
    assert!(
        j["spec"].get("note").is_none(),
        "field removed from the manifest is removed: {j}"
    );
    let unchanged = k
        .ok(&["apply", "-f", &k.widget_file("w1", 4, json!({}))])
        .await;
    assert!(unchanged.contains("unchanged"), "{unchanged}");

    // switching to server-side apply keeps the client-side annotation, re-written by the
    // server from the applied configuration (manager `kubectl`)
    let out = k
        .ok(&[
            "apply",
            "--server-side",
            "-f",
            &k.widget_file("w1", 4, json!({})),
        ])
        .await;
    assert!(out.contains("serverside-applied"), "{out}");
    let j = get_json(&k.ok(&["get", "widget", "w1", "-o", "json"]).await);
    let last = j["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let want = json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace": k.ns()},"spec":{"size":4}});
    assert_eq!(last, format!("{want}\n"), "{j}");

    let d = k.ok(&["describe", "widget", "w1"]).await;
    assert!(
        d.contains("Name:") && d.contains("w1") && d.contains("Size:"),
        "{d}"
    );

    // all namespaces: NAMESPACE column comes from the row metadata
    let all = k.ok(&["get", "widgets", "-A"]).await;
    assert!(all.starts_with("NAMESPACE "), "{all}");
    assert!(
        all.lines()
            .any(|l| l.split_whitespace().take(2).eq([k.ns(), "w1"])),
        "{all}"
    );

    let out = k.ok(&["delete", "-f", &gizmo]).await;
    assert_eq!(
        out.trim(),
        format!("customresourcedefinition.apiextensions.k8s.io \"gizmos.{group}\" deleted")
    );
    k.done().await;
}

#[tokio::test]
async fn server_side_apply_and_strict_validation() {
    let Some(k) = Kubectl::new("server_side_apply_and_strict_validation").await else {
        return;
    };
    k.ok(&["apply", "--server-side", "-f", &k.crd_file()]).await;
    let out = k
        .ok(&[
            "apply",
            "--server-side",
            "-f",
            &k.widget_file("s1", 1, json!({"note":"n"})),
        ])
        .await;
    assert!(out.contains("serverside-applied"), "{out}");
    k.ok(&[
        "apply",
        "--server-side",
        "-f",
        &k.widget_file("s1", 2, json!({})),
    ])
    .await;
    let j = get_json(&k.ok(&["get", "widget", "s1", "-o", "json"]).await);
    assert_eq!(j["spec"]["size"], 2);
    assert!(
        j["spec"].get("note").is_none(),
        "SSA removed the dropped field: {j}"
    );

    // unknown fields are rejected (kubectl sends fieldValidation=Strict once OpenAPI v3 is served)
    let bad = k.widget_file("s2", 1, json!({"bogus": true}));
    let out = k.run(&["apply", "-f", &bad]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field") && err.contains("spec.bogus"),
        "{err}"
    );
    // server-side: the apply patch cannot be typed (a 500 from kube-apiserver)
    let out = k.run(&["apply", "--server-side", "-f", &bad]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        err.trim(),
        format!(
            "Error from server: failed to create typed patch object ({}/s2; emu.example.com/v1, Kind=Widget): .spec.bogus: field not declared in schema",
            k.ns()
        )
    );
    // a JSON patch whose test fails
    let out = k
        .run(&[
            "patch",
            "widget",
            "s1",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/spec/size","value":99}]"#,
        ])
        .await;
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "The request is invalid: the server rejected our request due to an error in our request"
    );
    // a schema violation: size must be an integer
    let wrong = k.write("wrong.json", &json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name":"s3"},"spec":{"size":"big"}}));
    let out = k.run(&["apply", "-f", &wrong]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("is invalid") && err.contains("spec.size"),
        "{err}"
    );
    k.done().await;
}

#[tokio::test]
async fn wait_for_condition_and_patch_status() {
    let Some(k) = Kubectl::new("wait_for_condition_and_patch_status").await else {
        return;
    };
    k.ok(&["apply", "-f", &k.crd_file()]).await;
    k.ok(&["apply", "-f", &k.widget_file("r1", 1, json!({}))])
        .await;
    let waiter = k
        .command(&[
            "wait",
            "--for=condition=Ready",
            "widget/r1",
            "--timeout=60s",
        ])
        .output();
    let waiter = tokio::spawn(waiter);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiter.is_finished(),
        "kubectl wait must block until the condition holds"
    );
    // set the status from the test with kube-rs SSA
    k.widgets()
        .patch_status(
            "r1",
            &PatchParams::apply("test").force(),
            &Patch::Apply(json!({"apiVersion":"emu.example.com/v1","kind":"Widget","status":{"conditions":[{"type":"Ready","status":"True"}]}})),
        )
        .await
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("condition met"));

    // kubectl patch --subresource=status changes status only
    k.ok(&[
        "patch",
        "widget",
        "r1",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"spec":{"size":9},"status":{"message":"patched"}}"#,
    ])
    .await;
    let j = get_json(&k.ok(&["get", "widget", "r1", "-o", "json"]).await);
    assert_eq!(j["status"]["message"], "patched");
    assert_eq!(j["spec"]["size"], 1);
    let ready = k.ok(&["get", "widget", "r1"]).await;
    assert!(
        ready.lines().nth(1).unwrap().contains("True"),
        "READY column: {ready}"
    );
    k.done().await;
}

#[tokio::test]
async fn delete_waits_for_finalizer() {
    let Some(k) = Kubectl::new("delete_waits_for_finalizer").await else {
        return;
    };
    k.ok(&["apply", "-f", &k.crd_file()]).await;
    let f = k.write("fin.json", &json!({"apiVersion":"emu.example.com/v1","kind":"Widget","metadata":{"name":"d1","finalizers":["emu.example.com/hold"]},"spec":{"size":1}}));
    k.ok(&["apply", "-f", &f]).await;
    let deleter = tokio::spawn(
        k.command(&["delete", "widget", "d1", "--timeout=60s"])
            .output(),
    );
    let api = k.widgets();
    eventually("deletionTimestamp set", || async {
        api.get("d1")
            .await
            .ok()?
            .metadata
            .deletion_timestamp
            .map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !deleter.is_finished(),
        "kubectl delete waits while the finalizer is there"
    );
    api.patch(
        "d1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata":{"finalizers":null}})),
    )
    .await
    .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), deleter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted"));
    assert!(api.get_opt("d1").await.unwrap().is_none());
    k.done().await;
}

#[tokio::test]
async fn builtins_and_describe_events() {
    let Some(k) = Kubectl::new("builtins_and_describe_events").await else {
        return;
    };
    let ns = k.ok(&["get", "namespaces"]).await;
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(ns.contains(n), "{ns}");
    }
    let cm = k.write(
        "cm.json",
        &json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"1"}}),
    );
    k.ok(&["apply", "-f", &cm]).await;
    let cm2 = k.write("cm2.json", &json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"1","b":"2"}}));
    k.ok(&["apply", "-f", &cm2]).await; // strategic merge patch
    let got = get_json(&k.ok(&["get", "configmap", "c1", "-o", "json"]).await);
    assert_eq!(got["data"], json!({"a":"1","b":"2"}));
    let sec = k.write(
        "s.json",
        &json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s1"},"stringData":{"k":"v"}}),
    );
    k.ok(&["apply", "-f", &sec]).await;
    let s = get_json(&k.ok(&["get", "secret", "s1", "-o", "json"]).await);
    assert_eq!(s["data"]["k"], "dg==");
    // generators send protobuf bodies
    k.ok(&["create", "configmap", "c2", "--from-literal=x=1"])
        .await;
    k.ok(&["create", "secret", "generic", "s2", "--from-literal=p=q"])
        .await;
    let n1 = common::unique("n1");
    k.ok(&["create", "namespace", &n1]).await;
    k.ok(&["label", "configmap", "c2", "team=voice"]).await;
    let c2 = get_json(&k.ok(&["get", "configmap", "c2", "-o", "json"]).await);
    assert_eq!(
        (
            c2["data"]["x"].as_str(),
            c2["metadata"]["labels"]["team"].as_str()
        ),
        (Some("1"), Some("voice"))
    );
    let s2 = get_json(&k.ok(&["get", "secret", "s2", "-o", "json"]).await);
    assert_eq!(s2["data"]["p"], "cQ==");
    let listed = k.ok(&["get", "secrets,configmaps"]).await;
    assert!(
        listed.contains("secret/s2")
            && listed.contains("Opaque")
            && listed.contains("configmap/c2"),
        "{listed}"
    );
    if k.env.is_real() {
        // Removing a namespace's `kubernetes` finalizer is kube-controller-manager's job: without
        // one the namespace stays Terminating, and `kubectl delete` would wait for it forever.
        eprintln!(
            "real cluster: not waiting for namespace {n1} to disappear (no \
             kube-controller-manager to finalize it); checking it is Terminating instead"
        );
        k.ok(&["delete", "namespace", &n1, "--wait=false"]).await;
        let phase = k
            .ok(&["get", "namespace", &n1, "-o", "jsonpath={.status.phase}"])
            .await;
        assert_eq!(phase, "Terminating");
    } else {
        k.ok(&["delete", "namespace", &n1]).await;
        assert!(!k.run(&["get", "namespace", &n1]).await.status.success());
    }

    // an event about a Widget shows up in describe
    k.ok(&["apply", "-f", &k.crd_file()]).await;
    k.ok(&["apply", "-f", &k.widget_file("e1", 1, json!({}))])
        .await;
    let w = k.widgets().get("e1").await.unwrap();
    let uid = w.metadata.uid.clone().unwrap();
    let ev = k.write("ev.json", &json!({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"e1.abc"},
        "eventTime":"2025-01-01T00:00:00.000000Z","reason":"Bought","note":"bought +15550001111","type":"Normal","action":"Buy",
        "reportingController":"ctrl","reportingInstance":"pod",
        "regarding":{"apiVersion":"emu.example.com/v1","kind":"Widget","name":"e1","namespace": k.ns(),"uid": uid}}));
    k.ok(&["create", "-f", &ev]).await;
    let d = k.ok(&["describe", "widget", "e1"]).await;
    assert!(
        d.contains("Bought") && d.contains("bought +15550001111"),
        "{d}"
    );
    let evs = k.ok(&["get", "events"]).await;
    assert!(evs.contains("Bought"), "{evs}");
    k.done().await;
}

#[tokio::test]
async fn get_watch_prints_printer_columns() {
    use tokio::io::AsyncBufReadExt;
    let Some(k) = Kubectl::new("get_watch_prints_printer_columns").await else {
        return;
    };
    k.ok(&["apply", "-f", &k.crd_file()]).await;
    k.ok(&["apply", "-f", &k.widget_file("g1", 1, json!({}))])
        .await;
    let mut child = k
        .command(&["get", "widgets", "-w"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    let header = next().await;
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "SIZE", "READY", "AGE"]
    );
    assert!(next().await.starts_with("g1"));
    k.widgets()
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"size":42}})),
        )
        .await
        .unwrap();
    let row = next().await;
    assert_eq!(
        row.split_whitespace().take(2).collect::<Vec<_>>(),
        ["g1", "42"],
        "{row}"
    );
    child.kill().await.unwrap();
    k.done().await;
}
