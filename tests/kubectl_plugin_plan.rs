//! `kubectl telephony plan` end to end against the sandbox stack (Kubernetes API emulator, Twilio
//! simulator and the operator on 127.0.0.1), through the binary installed as `kubectl-telephony`:
//!
//! - `plan -k DIR` renders a kustomization with kubectl (its `namePrefix` and `commonLabels` are
//!   in what the plan compares), combined with `-f`;
//! - every kind of change — buy, adopt, reconfigure, release (pruned), unchanged, and refusals of
//!   the plan's own (price above the guard) and of the API server's dry run (a bad webhook URL,
//!   an immutable number) — with exit code 2, and the dry run changes nothing;
//! - then `kubectl apply --server-side -k` of the accepted manifests (and the prune) does what the
//!   plan said: what it said would be bought is bought at the price it said, the adopted number
//!   is adopted, the reconfigured webhook reaches Twilio, the pruned PhoneNumber is deleted, and
//!   the next plan's monthly cost before is this plan's after;
//! - a kustomize failure and a missing kubectl are one line each.
//!
//! Needs kubectl on PATH (what `plan -k` runs); without it the test says so and passes, unless
//! `CI` is set.

#[path = "e2e/common.rs"]
mod common;
#[path = "plugin/support.rs"]
mod support;

use common::*;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};
use std::path::Path;
use support::kubeconfig;
use telephony_operator::api::PhoneNumber;
use telephony_operator::sandbox::examples::{BYO_ACCOUNT_SID, PRE_OWNED_NUMBER};
use telephony_operator::sandbox::stack::StackOptions;

/// Whether kubectl is on PATH; without it (and without `CI`) the test is skipped.
fn kubectl_available() -> bool {
    let found = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is not on PATH (plan -k runs kubectl kustomize)"
        );
        eprintln!("skipped: kubectl is not on PATH (plan -k runs kubectl kustomize)");
    }
    found
}

/// Runs the plugin with the kubeconfig `kc`: exit code, stdout, stderr.
async fn plugin(dir: &Path, kc: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let kc = kc.display().to_string();
    let argv: Vec<&str> = ["--kubeconfig", kc.as_str()]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    support::plugin(dir, &argv).await
}

fn change<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("{name} in {plan:#}"))
}

fn cost(plan: &Value, account: &str) -> (String, String) {
    let c = plan["costs"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["account"] == account))
        .unwrap_or_else(|| panic!("cost of {account} in {plan:#}"));
    (
        c["before"].as_str().unwrap_or_default().to_string(),
        c["after"].as_str().unwrap_or_default().to_string(),
    )
}

fn exact(name: &str, number: &str) -> Value {
    json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
           "metadata": {"name": name},
           "spec": {"accountRef": {"name": "acct"}, "number": number}})
}

fn yaml(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| serde_saphyr::to_string(d).expect("yaml"))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_kustomize_and_server_dry_run_against_the_sandbox() {
    if !kubectl_available() {
        return;
    }
    let stack = emulator_stack(StackOptions::default()).await;
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "plan").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = stack.emulator.as_ref().expect("emulator").url().to_string();
    let kc = kubeconfig(dir.path(), &server, &ns);
    let pns = Api::<PhoneNumber>::namespaced(client.clone(), &ns);

    // The cluster before: three numbers bought by searches, all with the kustomization's prefix.
    let before_names = ["team-sales", "team-moved", "team-gone", "team-old"];
    for (name, area) in before_names.into_iter().zip([415, 646, 312, 303]) {
        apply(&client, &ns, search_number(name, area)).await;
    }
    let mut bought = Vec::new();
    for name in before_names {
        let pn = wait_ready(&client, &ns, name).await;
        let st = pn.status.clone().expect("status");
        bought.push((
            st.phone_number.expect("a number"),
            st.pricing.expect("a price").monthly_fee,
        ));
    }
    let fee = bought[0].1.clone();
    assert!(
        bought.iter().all(|(_, f)| *f == fee),
        "one US Local price: {bought:?}"
    );
    // The account owns PRE_OWNED_NUMBER, which no PhoneNumber claims: adoptable.
    let accounts =
        Api::<telephony_operator::api::TelephonyAccount>::namespaced(client.clone(), &ns);
    wait_for(
        "the account's inventory with the unclaimed number",
        CONVERGE,
        async || accounts.get_opt("acct").await.ok().flatten(),
        |a| {
            a.status
                .as_ref()
                .and_then(|s| s.inventory.as_ref())
                .is_some_and(|i| i.unclaimed_numbers.iter().any(|n| n == PRE_OWNED_NUMBER))
        },
    )
    .await;

    // The kustomization: names without the prefix (kustomize adds it), one label for all.
    let k = dir.path().join("overlay");
    std::fs::create_dir_all(&k).expect("kustomization dir");
    std::fs::write(
        k.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
         namePrefix: team-\ncommonLabels: {app.kubernetes.io/part-of: plan-test}\n\
         resources: [numbers.yaml]\n",
    )
    .expect("kustomization.yaml");
    let mut sales = search_number("sales", 415);
    sales["spec"]["voice"]["url"] = json!("https://example.test/voice-v2");
    let mut support = search_number("support", 212);
    support["spec"]["maxMonthlyPrice"] = json!(fee);
    let mut pricey = search_number("pricey", 213);
    pricey["spec"]["maxMonthlyPrice"] = json!("0.01");
    let mut bad_url = search_number("bad-url", 214);
    bad_url["spec"]["voice"]["url"] = json!("not a url");
    let moved = exact("moved", "+12125550199");
    // team-old renamed: the same number under another name.
    let mut renamed = exact("renamed", &bought[3].0);
    renamed["spec"]["voice"] = json!({"url": "https://example.test/voice"});
    let accepted = [sales, support, exact("adopted", PRE_OWNED_NUMBER), renamed];
    let refused = [pricey, bad_url, moved];
    let all: Vec<Value> = accepted.iter().chain(refused.iter()).cloned().collect();
    std::fs::write(k.join("numbers.yaml"), yaml(&all)).expect("numbers.yaml");
    // -f next to -k: a file of its own (no prefix), unchanged by definition of the test: it is
    // the namespace's account.
    let account_file = dir.path().join("account.yaml");
    std::fs::write(
        &account_file,
        yaml(&[json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "acct"},
            "spec": {"mode": "BringYourOwn", "friendlyName": "e2e", "credentialsSecretRef": {"name": "twilio"}}
        })]),
    )
    .expect("account.yaml");

    let before: Vec<(String, Option<String>)> = pns
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap_or_default(),
                p.metadata.resource_version.clone(),
            )
        })
        .collect();
    let kdir = k.display().to_string();
    let afile = account_file.display().to_string();
    let (code, stdout, stderr) = plugin(
        dir.path(),
        &kc,
        &["plan", "-k", &kdir, "-f", &afile, "-o", "json"],
    )
    .await;
    assert_eq!(code, Some(2), "something is refused: {stdout}{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("plan json");
    assert_eq!(change(&plan, "team-sales")["action"], "reconfigure");
    assert_eq!(change(&plan, "team-sales")["note"], "spec.voice");
    assert_eq!(change(&plan, "team-support")["action"], "buy", "{plan:#}");
    assert_eq!(change(&plan, "team-support")["monthly"], fee.as_str());
    assert_eq!(change(&plan, "team-adopted")["action"], "adopt", "{plan:#}");
    assert_eq!(change(&plan, "team-gone")["action"], "release");
    assert_eq!(change(&plan, "team-gone")["what"], bought[2].0.as_str());
    assert_eq!(change(&plan, "team-renamed")["action"], "adopt", "{plan:#}");
    assert!(
        change(&plan, "team-old")["note"]
            .as_str()
            .is_some_and(|n| n.contains("adopted by PhoneNumber team-renamed")),
        "{plan:#}"
    );
    let pricey = change(&plan, "team-pricey");
    assert_eq!(pricey["action"], "refuse");
    assert!(
        pricey["note"]
            .as_str()
            .is_some_and(|n| n.contains("above spec.maxMonthlyPrice 0.01")),
        "{plan:#}"
    );
    // The API server's refusals, its message on one line.
    for (name, words) in [
        (
            "team-bad-url",
            "must be an absolute http:// or https:// URL",
        ),
        ("team-moved", "number is immutable"),
    ] {
        let c = change(&plan, name);
        let note = c["note"].as_str().unwrap_or_default();
        assert_eq!(c["action"], "refuse", "{plan:#}");
        assert!(
            note.starts_with("the API server refuses it: ") && note.contains(words),
            "{name}: {note}"
        );
        assert!(!note.contains('\n'), "{note}");
    }
    assert_eq!(plan["refused"], 3, "{plan:#}");
    assert_eq!(
        plan["serverDryRun"],
        json!({"accepted": 6, "refused": 2, "warnings": []}),
        "seven PhoneNumbers and the account: {plan:#}"
    );
    // The plan changed nothing: the same objects at the same versions.
    let after: Vec<(String, Option<String>)> = pns
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap_or_default(),
                p.metadata.resource_version.clone(),
            )
        })
        .collect();
    assert_eq!(before, after, "a dry run writes nothing");
    let (byo_before, byo_after) = cost(&plan, "acct");

    // The text and markdown forms say the same, and that the server validated.
    let (code, text, _) = plugin(dir.path(), &kc, &["plan", "-k", &kdir]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("API server dry run: 5 accepted, 2 refused."),
        "{text}"
    );
    assert!(
        text.lines().next().is_some_and(|l| l.contains("OBJECT")),
        "{text}"
    );
    let (code, md, _) = plugin(dir.path(), &kc, &["plan", "-k", &kdir, "-o", "markdown"]).await;
    assert_eq!(code, Some(2), "{md}");
    assert!(
        md.contains("| ! | refuse | `") && md.contains("/team-bad-url` |"),
        "{md}"
    );
    assert!(md.contains("**3 refused**"), "{md}");

    // Apply what the server accepts (as kubectl does) and prune what the manifests dropped.
    std::fs::write(k.join("numbers.yaml"), yaml(&accepted)).expect("numbers.yaml");
    let applied = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["apply", "--server-side", "--force-conflicts", "-k", &kdir])
        .output()
        .await
        .expect("kubectl runs");
    assert!(
        applied.status.success(),
        "{}{}",
        String::from_utf8_lossy(&applied.stdout),
        String::from_utf8_lossy(&applied.stderr)
    );
    for pruned in ["team-gone", "team-old"] {
        pns.delete(pruned, &Default::default())
            .await
            .expect("pruned");
    }
    let support = wait_ready(&client, &ns, "team-support").await;
    assert_eq!(
        support
            .status
            .and_then(|s| s.pricing)
            .map(|p| p.monthly_fee),
        Some(fee.clone()),
        "bought at the price the plan said"
    );
    let adopted = wait_ready(&client, &ns, "team-adopted").await;
    assert_eq!(
        adopted.status.and_then(|s| s.phone_number).as_deref(),
        Some(PRE_OWNED_NUMBER),
        "adopted"
    );
    wait_gone(&client, &ns, "team-gone").await;
    let owned_before = stack.sim.owned_numbers(BYO_ACCOUNT_SID).len();
    let renamed = wait_ready(&client, &ns, "team-renamed").await;
    assert_eq!(
        renamed.status.and_then(|s| s.phone_number),
        Some(bought[3].0.clone()),
        "the rename keeps its number"
    );
    assert_eq!(
        stack.sim.owned_numbers(BYO_ACCOUNT_SID).len(),
        owned_before,
        "nothing bought for the rename"
    );
    let sales_number = bought[0].0.clone();
    wait_for(
        "the reconfigured webhook at Twilio",
        CONVERGE,
        async || {
            stack
                .sim
                .owned_numbers(BYO_ACCOUNT_SID)
                .into_iter()
                .find(|o| o.phone_number == sales_number)
        },
        |o| o.voice_url == "https://example.test/voice-v2",
    )
    .await;
    assert!(
        pns.get_opt("team-bad-url").await.expect("get").is_none(),
        "never created"
    );
    assert_eq!(
        pns.get("team-moved")
            .await
            .expect("get")
            .status
            .and_then(|s| s.phone_number),
        Some(bought[1].0.clone()),
        "unchanged"
    );
    let labelled = pns.get("team-support").await.expect("get");
    assert_eq!(
        labelled
            .labels()
            .get("app.kubernetes.io/part-of")
            .map(String::as_str),
        Some("plan-test"),
        "kustomize's commonLabels"
    );

    // The next plan (the applied manifests and team-moved as it is): nothing to do, and its
    // monthly cost before is the previous plan's after.
    let mut now = accepted.to_vec();
    now.push(search_number("moved", 646));
    std::fs::write(k.join("numbers.yaml"), yaml(&now)).expect("numbers.yaml");
    let (code, stdout, stderr) =
        plugin(dir.path(), &kc, &["plan", "-k", &kdir, "-o", "json"]).await;
    let next: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stdout}{stderr}"));
    assert_eq!(code, Some(0), "{next:#}");
    assert_eq!(next["changes"], json!([]), "{next:#}");
    assert_eq!(next["unchanged"], 5, "{next:#}");
    let (next_before, next_after) = cost(&next, "acct");
    assert_eq!(
        next_before, byo_after,
        "the plan's after is what the apply did"
    );
    assert_eq!(next_after, next_before);
    assert_ne!(byo_before, byo_after, "{plan:#}");

    // Errors are one line: a directory that is no kustomization, and no kubectl on PATH.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let edir = empty.display().to_string();
    let (code, stdout, stderr) = plugin(dir.path(), &kc, &["plan", "-k", &edir]).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.starts_with(&format!("error: kubectl kustomize {edir} failed: "))
            && stderr.contains("kustomization"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let bin = dir.path().join("kubectl-telephony");
    let out = tokio::process::Command::new(&bin)
        .env("PATH", dir.path().join("nothing-here"))
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["plan", "-k", &kdir])
        .output()
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("plan -k needs kubectl on PATH"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stack.shutdown().await;
}
