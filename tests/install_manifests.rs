//! The two install paths say the same thing, and say it about this version:
//!
//! - the copies stay copies: the CRDs in `deploy/base/crds/` and the chart's `crds/` are
//!   `crds/`; the files directly in `deploy/` (read by other tests and older instructions) are
//!   those of the kustomize base `deploy/base/`;
//! - versions: the chart's `version`/`appVersion`, the image tag of `deploy/` and CHANGELOG.md's
//!   newest release follow the crate version;
//! - the Dockerfile builds the deployable binary (no stand-ins) with the one command the
//!   real-cluster install check runs;
//! - with `kubectl` on PATH, `kubectl kustomize` of the base and each overlay: the objects parse
//!   as their Kubernetes types, the base holds no Secret, the namespaced overlay grants
//!   deploy/base/rbac.yaml's rules per watched namespace and nothing cluster-wide, the shard overlay
//!   runs two operators on disjoint objects, pods and Leases;
//! - with helm (`TELEPHONY_HELM`, or the one tools/helm/build.sh builds), `helm template` of the
//!   chart with default and with ci/ values: the same RBAC rules, admission policies, tenant
//!   roles and operator arguments as deploy/.
//!
//! Applying all of it to a real kube-apiserver is tests/real-cluster/suites.d/install.sh.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn docs(text: &str, what: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("{what} parses as YAML: {e}"))
        .into_iter()
        .filter(Value::is_object)
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn get<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    find(objects, kind, name).unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `program args` in the repository root: None when the program is not there; a panic
/// when it ran and failed.
fn run(program: &Path, args: &[&str]) -> Option<String> {
    let output = match Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("{} {args:?}: {e}", program.display()),
    };
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).expect("utf-8 output"))
}

fn kubectl() -> PathBuf {
    std::env::var_os("KUBECTL").map_or_else(|| PathBuf::from("kubectl"), PathBuf::from)
}

fn kustomize(dir: &str) -> Option<Vec<Value>> {
    run(&kubectl(), &["kustomize", dir]).map(|out| docs(&out, &format!("kubectl kustomize {dir}")))
}

fn helm() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TELEPHONY_HELM") {
        return Some(PathBuf::from(path));
    }
    let built = std::env::var_os("REAL_CLUSTER_TOOLS_DIR")
        .map_or_else(|| root().join("target/real-cluster/tools"), PathBuf::from)
        .join("helm");
    built.exists().then_some(built)
}

fn helm_template(helm: &Path, release: &str, namespace: &str, values: Option<&str>) -> Vec<Value> {
    let mut extra = Vec::new();
    if let Some(v) = values {
        extra.extend(["-f", v]);
    }
    helm_template_with(helm, release, namespace, &extra)
}

/// `helm template` with further arguments (values, `--api-versions` of the target cluster).
fn helm_template_with(helm: &Path, release: &str, namespace: &str, extra: &[&str]) -> Vec<Value> {
    let chart = root().join("charts/telephony-operator");
    let chart = chart.to_str().expect("utf-8 path");
    let mut args = vec!["template", release, chart, "--namespace", namespace];
    args.extend(extra);
    let out = run(helm, &args).expect("helm runs");
    docs(&out, "helm template")
}

/// What `helm install` learns from a Kubernetes 1.36+ server's discovery.
const WITH_MUTATING_POLICIES: [&str; 2] = [
    "--api-versions",
    "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy",
];

// --- copies -----------------------------------------------------------------------------------

#[test]
fn the_crd_copies_are_crds() {
    let crds = read("crds/telephony.agni.ai.yaml");
    for copy in [
        "deploy/base/crds/telephony.agni.ai.yaml",
        "charts/telephony-operator/crds/telephony.agni.ai.yaml",
    ] {
        assert!(
            read(copy) == crds,
            "{copy} differs from crds/telephony.agni.ai.yaml; copy it: \
             cp crds/telephony.agni.ai.yaml {copy}"
        );
    }
}

// --- versions ---------------------------------------------------------------------------------

#[test]
fn versions_follow_the_crate() {
    let version = env!("CARGO_PKG_VERSION");
    let chart = docs(&read("charts/telephony-operator/Chart.yaml"), "Chart.yaml")
        .pop()
        .expect("Chart.yaml");
    assert_eq!(chart["version"], version, "Chart.yaml version");
    assert_eq!(chart["appVersion"], version, "Chart.yaml appVersion");

    let values = docs(
        &read("charts/telephony-operator/values.yaml"),
        "values.yaml",
    )
    .pop()
    .expect("values.yaml");
    assert_eq!(
        values["image"]["tag"], "",
        "values.yaml image.tag: leave it empty, it defaults to appVersion"
    );

    for file in ["deploy/base/deployment.yaml", "deploy/base/deployment.yaml"] {
        let deployment = docs(&read(file), file).pop().expect("a Deployment");
        let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .expect("image")
            .to_string();
        assert_eq!(
            image,
            format!(
                "{}:{version}",
                values["image"]["repository"].as_str().unwrap()
            ),
            "{file}: the image is the chart's repository at the crate version"
        );
    }

    let changelog = read("CHANGELOG.md");
    let newest = changelog
        .lines()
        .find(|l| l.starts_with("## [") && !l.starts_with("## [Unreleased]"))
        .expect("CHANGELOG.md has a release section");
    assert!(
        newest.starts_with(&format!("## [{version}]")),
        "CHANGELOG.md's newest release is {newest:?}, the crate is {version}"
    );
}

// --- the image recipe -------------------------------------------------------------------------

/// The build command of the deployable binary: release, the locked dependencies, without the
/// default `sandbox` feature (no Kubernetes emulator, no Twilio simulator), the operator alone.
const DEPLOYABLE_BUILD: &str = "cargo build --release --locked --no-default-features -p telephony-operator --bin telephony-operator";

#[test]
fn the_dockerfile_builds_the_deployable_binary() {
    let dockerfile = read("Dockerfile");
    let builds: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("RUN "))
        .filter(|l| l.contains("cargo"))
        .collect();
    assert_eq!(
        builds,
        vec![DEPLOYABLE_BUILD],
        "the Dockerfile's one cargo command (suites.d/install.sh runs it as written and tests the binary)"
    );
    assert!(
        dockerfile.contains("target/release/telephony-operator"),
        "the image takes the binary that command builds"
    );
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    assert!(
        stages[1].contains("distroless") && stages[1].contains(":nonroot"),
        "{}",
        stages[1]
    );
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER");
    assert!(
        !user.contains("root") && !user.contains(" 0"),
        "non-root: {user}"
    );
    assert!(
        dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/telephony-operator\"]"),
        "the entrypoint is the operator binary"
    );
    let ignore = read(".dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        ".dockerignore leaves target/ out"
    );
}

// --- kustomize --------------------------------------------------------------------------------

/// Every object parses as its Kubernetes type (a typo in a field name is an error here).
fn assert_typed(objects: &[Value], what: &str) {
    use k8s_openapi::api::admissionregistration::v1::{
        ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    };
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service, ServiceAccount};
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    fn typed<T: serde::de::DeserializeOwned>(o: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(o.clone())
            .map(drop)
            .map_err(|e| e.to_string())
    }
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or_default();
        let result = match kind {
            "Namespace" => typed::<Namespace>(o),
            "CustomResourceDefinition" => typed::<CustomResourceDefinition>(o),
            "ServiceAccount" => typed::<ServiceAccount>(o),
            "ClusterRole" => typed::<ClusterRole>(o),
            "ClusterRoleBinding" => typed::<ClusterRoleBinding>(o),
            "Role" => typed::<Role>(o),
            "RoleBinding" => typed::<RoleBinding>(o),
            "ConfigMap" => typed::<ConfigMap>(o),
            "Service" => typed::<Service>(o),
            "Deployment" => typed::<Deployment>(o),
            "PodDisruptionBudget" => typed::<PodDisruptionBudget>(o),
            "ValidatingAdmissionPolicy" => typed::<ValidatingAdmissionPolicy>(o),
            "ValidatingAdmissionPolicyBinding" => typed::<ValidatingAdmissionPolicyBinding>(o),
            // admissionregistration.k8s.io/v1 since Kubernetes 1.36, newer than the k8s-openapi
            // feature this crate builds with: the fields the server needs, checked by hand (the
            // real-cluster install suite applies them).
            "MutatingAdmissionPolicy" => mutating_policy_fields(o),
            "MutatingAdmissionPolicyBinding" => o["spec"]["policyName"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(drop)
                .ok_or_else(|| "spec.policyName missing".to_string()),
            "ServiceMonitor" => Ok(()), // prometheus-operator's; not a built-in type
            other => Err(format!("unexpected kind {other:?}")),
        };
        if let Err(e) = result {
            panic!("{what}: {kind} {}: {e}", o["metadata"]["name"]);
        }
    }
}

/// A MutatingAdmissionPolicy has what the API server requires: resource rules, and JSON patch
/// mutations with an expression.
fn mutating_policy_fields(o: &Value) -> Result<(), String> {
    let spec = &o["spec"];
    if spec["matchConstraints"]["resourceRules"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        return Err("spec.matchConstraints.resourceRules missing".into());
    }
    let mutations = spec["mutations"].as_array().cloned().unwrap_or_default();
    if mutations.is_empty() {
        return Err("spec.mutations missing".into());
    }
    for m in &mutations {
        if m["patchType"] != "JSONPatch" || !m["jsonPatch"]["expression"].is_string() {
            return Err(format!(
                "mutation {m} is not a JSONPatch with an expression"
            ));
        }
    }
    Ok(())
}

/// The PhoneNumber finalizer policy of deploy/components/finalizer-at-create, as written.
fn finalizer_component() -> Vec<Value> {
    docs(
        &read("deploy/components/finalizer-at-create/phonenumber-finalizer-policy.yaml"),
        "phonenumber-finalizer-policy.yaml",
    )
}

const FINALIZER_POLICY: &str = "phonenumber-finalizer.telephony.agni.ai";

/// The operator's pods of a Deployment: selector, PodDisruptionBudget and topology spread agree,
/// probes are /healthz and /readyz on the metrics port the process listens on.
fn assert_operator_pods(objects: &[Value], deployment: &str, pdb: &str, what: &str) {
    let d = get(objects, "Deployment", deployment);
    let selector = &d["spec"]["selector"]["matchLabels"];
    let pod = &d["spec"]["template"]["spec"];
    let labels = &d["spec"]["template"]["metadata"]["labels"];
    for (k, v) in selector.as_object().expect("a selector") {
        assert_eq!(&labels[k], v, "{what}: the pods carry the selector's {k}");
    }
    assert_eq!(
        &get(objects, "PodDisruptionBudget", pdb)["spec"]["selector"]["matchLabels"],
        selector,
        "{what}: the PodDisruptionBudget selects the Deployment's pods"
    );
    let spread = pod["topologySpreadConstraints"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no topologySpreadConstraints"));
    let keys: Vec<&str> = spread
        .iter()
        .filter_map(|c| c["topologyKey"].as_str())
        .collect();
    assert!(
        keys.contains(&"kubernetes.io/hostname"),
        "{what}: spread over nodes"
    );
    for c in spread {
        assert_eq!(
            &c["labelSelector"]["matchLabels"], selector,
            "{what}: spread counts its own pods"
        );
    }
    let c = &pod["containers"][0];
    let port = c["ports"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "metrics"))
        .unwrap_or_else(|| panic!("{what}: no metrics port"))["containerPort"]
        .as_u64()
        .expect("a port number");
    let args = strings(&c["args"]);
    assert!(
        args.contains(&format!("--metrics-addr=0.0.0.0:{port}")),
        "{what}: the operator listens on the probed port: {args:?}"
    );
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{what}");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{what}");
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["port"], "metrics", "{what}: {probe}");
    }
    assert_eq!(
        pod["securityContext"]["runAsNonRoot"], true,
        "{what}: non-root"
    );
}

/// deploy/base/rbac.yaml's ClusterRole rules: what the operator uses (tests/rbac_least_privilege.rs).
fn operator_rules() -> Value {
    let rbac = docs(&read("deploy/base/rbac.yaml"), "rbac.yaml");
    get(&rbac, "ClusterRole", "telephony-operator")["rules"].clone()
}

/// The plurals of the project's cluster-scoped kinds (crds/ with `scope: Cluster`).
fn cluster_scoped_resources() -> Vec<String> {
    docs(&read("crds/telephony.agni.ai.yaml"), "crds/")
        .into_iter()
        .filter(|crd| crd["spec"]["scope"] == "Cluster")
        .filter_map(|crd| crd["spec"]["names"]["plural"].as_str().map(String::from))
        .collect()
}

/// deploy/base/rbac.yaml's ClusterRole rules split by scope: those a namespaced install grants with
/// a Role per watched namespace, and those on cluster-scoped kinds, which only a ClusterRole can
/// grant (a namespaced install then has a ClusterRole `…-cluster-scoped` with exactly these).
fn operator_rules_by_scope() -> (Vec<Value>, Vec<Value>) {
    let cluster = cluster_scoped_resources();
    let is_cluster = |r: &str| {
        cluster
            .iter()
            .any(|c| r == c || r.starts_with(&format!("{c}/")))
    };
    let (mut namespaced, mut cluster_rules) = (Vec::new(), Vec::new());
    for rule in operator_rules().as_array().expect("rules") {
        let resources = strings(&rule["resources"]);
        match resources.iter().filter(|r| is_cluster(r)).count() {
            0 => namespaced.push(rule.clone()),
            n if n == resources.len() => cluster_rules.push(rule.clone()),
            _ => panic!(
                "deploy/base/rbac.yaml: split the rule {rule} into namespaced and cluster-scoped kinds"
            ),
        }
    }
    (namespaced, cluster_rules)
}

/// The same rules, in any order.
fn assert_same_rules(actual: &Value, expected: &[Value], what: &str) {
    let sorted = |rules: Vec<Value>| {
        let mut texts: Vec<String> = rules.iter().map(Value::to_string).collect();
        texts.sort();
        texts
    };
    assert_eq!(
        sorted(actual.as_array().cloned().unwrap_or_default()),
        sorted(expected.to_vec()),
        "{what}: not deploy/base/rbac.yaml's rules"
    );
}

/// A namespaced install grants the cluster-scoped rules (if deploy/base/rbac.yaml has any) with a
/// ClusterRole `name` bound to the operator, and nothing else cluster-wide.
fn assert_cluster_scoped_grant(objects: &[Value], name: &str, what: &str) {
    let (_, cluster_rules) = operator_rules_by_scope();
    let role = find(objects, "ClusterRole", name);
    if cluster_rules.is_empty() {
        assert!(
            role.is_none(),
            "{what}: ClusterRole {name}, but no cluster-scoped rule in deploy/base/rbac.yaml"
        );
    } else {
        let role = role.unwrap_or_else(|| {
            panic!(
                "{what}: no ClusterRole {name} with deploy/base/rbac.yaml's rules on cluster-scoped kinds: {}",
                Value::from(cluster_rules.clone())
            )
        });
        assert_same_rules(
            &role["rules"],
            &cluster_rules,
            &format!("{what}: ClusterRole {name}"),
        );
        let binding = get(objects, "ClusterRoleBinding", name);
        assert_eq!(binding["roleRef"]["name"], name);
    }
    for binding in of_kind(objects, "ClusterRoleBinding") {
        assert_eq!(
            binding["metadata"]["name"], name,
            "{what}: the only cluster-wide binding of a namespaced install"
        );
    }
}

/// Equal as JSON: numbers by value (kustomize writes the CRDs' `minimum: 0.0` as `0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn skip(what: &str) {
    eprintln!("skipped: {what}");
}

#[test]
fn the_kustomize_base_installs_everything_but_the_credentials() {
    let Some(base) = kustomize("deploy") else {
        return skip("no kubectl on PATH for kubectl kustomize");
    };
    assert_typed(&base, "deploy/");
    assert_eq!(
        base.first().map(|o| o["kind"].clone()),
        Some(Value::from("Namespace")),
        "the namespace comes first"
    );
    assert!(
        of_kind(&base, "Secret").is_empty(),
        "deploy/ must not apply a Secret (a template would overwrite the real master credentials)"
    );
    for kind in [
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
    ] {
        assert!(!of_kind(&base, kind).is_empty(), "deploy/ lacks a {kind}");
    }
    let crds = docs(&read("crds/telephony.agni.ai.yaml"), "crds/");
    assert_eq!(
        of_kind(&base, "CustomResourceDefinition").len(),
        crds.len(),
        "every CRD of crds/"
    );
    for o in &base {
        if let Some(ns) = o["metadata"]["namespace"].as_str() {
            assert_eq!(ns, "telephony-system", "{}", o["metadata"]["name"]);
        }
    }
    // kustomize re-serializes every object: what it applies must be what the files say (a
    // folded YAML block with more-indented lines, for one, comes out with an extra blank line).
    let kustomization = docs(
        &read("deploy/base/kustomization.yaml"),
        "kustomization.yaml",
    );
    for file in strings(&kustomization[0]["resources"]) {
        for doc in docs(&read(&format!("deploy/base/{file}")), &file) {
            let kind = doc["kind"].as_str().expect("kind");
            let name = doc["metadata"]["name"].as_str().expect("name");
            assert!(
                same(get(&base, kind, name), &doc),
                "kubectl kustomize deploy/ changes {kind} {name} of deploy/base/{file}"
            );
        }
    }
    for doc in finalizer_component() {
        let kind = doc["kind"].as_str().expect("kind");
        assert!(
            same(get(&base, kind, FINALIZER_POLICY), &doc),
            "kubectl kustomize deploy/ changes {kind} of components/finalizer-at-create"
        );
    }
    assert!(
        get(&base, "MutatingAdmissionPolicyBinding", FINALIZER_POLICY)["spec"]
            .get("matchResources")
            .is_none(),
        "the cluster-wide install adds the finalizer to every PhoneNumber"
    );
    assert_operator_pods(&base, "telephony-operator", "telephony-operator", "deploy/");
    assert_eq!(
        get(&base, "ClusterRole", "telephony-operator")["rules"],
        operator_rules()
    );
}

#[test]
fn the_base_alone_installs_without_a_mutating_policy() {
    // For clusters before Kubernetes 1.36 (no admissionregistration.k8s.io/v1
    // MutatingAdmissionPolicy): deploy/base/ alone, the operator adds the finalizer itself.
    let Some(base) = kustomize("deploy/base") else {
        return skip("no kubectl on PATH for kubectl kustomize");
    };
    assert_typed(&base, "deploy/base/");
    for kind in ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"] {
        assert!(of_kind(&base, kind).is_empty(), "deploy/base/ has a {kind}");
    }
    assert!(!of_kind(&base, "Deployment").is_empty());
}

/// The finalizer policy adds exactly the operator's finalizer, on PhoneNumber creates only.
#[test]
fn the_finalizer_policy_adds_the_operators_finalizer_on_create() {
    let policy = finalizer_component()
        .into_iter()
        .find(|o| o["kind"] == "MutatingAdmissionPolicy")
        .expect("a MutatingAdmissionPolicy");
    let rules = &policy["spec"]["matchConstraints"]["resourceRules"];
    assert_eq!(strings(&rules[0]["operations"]), vec!["CREATE"]);
    assert_eq!(strings(&rules[0]["resources"]), vec!["phonenumbers"]);
    assert_eq!(
        policy["spec"]["failurePolicy"], "Ignore",
        "an optimisation never blocks a create"
    );
    let expression = policy["spec"]["mutations"][0]["jsonPatch"]["expression"]
        .as_str()
        .expect("expression");
    assert!(
        expression.contains(&format!("\"{}\"", telephony_operator::api::FINALIZER)),
        "the policy adds {}: {expression}",
        telephony_operator::api::FINALIZER
    );
}

#[test]
fn the_namespaced_overlay_grants_the_rules_per_namespace_only() {
    let Some(objects) = kustomize("deploy/overlays/namespaced") else {
        return skip("no kubectl on PATH for kubectl kustomize");
    };
    assert_typed(&objects, "overlays/namespaced");
    assert!(
        find(&objects, "ClusterRole", "telephony-operator").is_none()
            && find(&objects, "ClusterRoleBinding", "telephony-operator").is_none(),
        "no cluster-wide grant to the operator"
    );
    let d = get(&objects, "Deployment", "telephony-operator");
    let args = strings(&d["spec"]["template"]["spec"]["containers"][0]["args"]);
    let watched: Vec<String> = args
        .iter()
        .find_map(|a| a.strip_prefix("--namespaces="))
        .expect("--namespaces")
        .split(',')
        .map(String::from)
        .collect();
    let mut granted: Vec<String> = Vec::new();
    for role in of_kind(&objects, "Role") {
        let name = role["metadata"]["name"].as_str().unwrap();
        let ns = role["metadata"]["namespace"].as_str().unwrap().to_string();
        if name == "telephony-operator" {
            assert_same_rules(
                &role["rules"],
                &operator_rules_by_scope().0,
                &format!("Role in {ns}"),
            );
            granted.push(ns);
        }
    }
    granted.sort();
    let mut expected = watched.clone();
    expected.sort();
    assert_eq!(
        granted, expected,
        "a Role with the operator's rules in each watched namespace, and only there"
    );
    for ns in &watched {
        let binding = objects
            .iter()
            .find(|o| {
                o["kind"] == "RoleBinding"
                    && o["metadata"]["namespace"] == ns.as_str()
                    && o["roleRef"]["name"] == "telephony-operator"
            })
            .unwrap_or_else(|| panic!("no RoleBinding in {ns}"));
        assert_eq!(binding["roleRef"]["kind"], "Role");
        assert_eq!(binding["subjects"][0]["name"], "telephony-operator");
        assert_eq!(binding["subjects"][0]["namespace"], "telephony-system");
    }
    assert_cluster_scoped_grant(
        &objects,
        "telephony-operator-cluster-scoped",
        "overlays/namespaced",
    );
    // The finalizer at creation only where this operator will remove it again.
    let binding = get(&objects, "MutatingAdmissionPolicyBinding", FINALIZER_POLICY);
    let selector = &binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(selector["key"], "kubernetes.io/metadata.name");
    assert_eq!(selector["operator"], "In");
    let mut selected = strings(&selector["values"]);
    selected.sort();
    assert_eq!(
        selected, expected,
        "the finalizer policy's namespaces are the watched ones"
    );
    let master = get(&objects, "Role", "telephony-operator-master-credentials");
    assert_eq!(master["metadata"]["namespace"], "telephony-system");
    assert_eq!(
        strings(&master["rules"][0]["resourceNames"]),
        vec!["twilio-master-credentials"]
    );
}

#[test]
fn the_shard_overlay_runs_two_operators_on_disjoint_objects() {
    let Some(objects) = kustomize("deploy/overlays/shard") else {
        return skip("no kubectl on PATH for kubectl kustomize");
    };
    assert_typed(&objects, "overlays/shard");
    let deployments = of_kind(&objects, "Deployment");
    assert_eq!(deployments.len(), 2, "two operators");
    let arg = |d: &Value, flag: &str| -> Vec<String> {
        strings(&d["spec"]["template"]["spec"]["containers"][0]["args"])
            .into_iter()
            .filter_map(|a| a.strip_prefix(flag).map(String::from))
            .collect()
    };
    let a = get(&objects, "Deployment", "telephony-operator");
    let b = get(&objects, "Deployment", "telephony-operator-shard-b");
    assert_eq!(
        arg(a, "--label-selector="),
        vec!["telephony.agni.ai/shard!=b"]
    );
    assert_eq!(
        arg(b, "--label-selector="),
        vec!["telephony.agni.ai/shard=b"]
    );
    assert_ne!(
        arg(a, "--lease-name="),
        arg(b, "--lease-name="),
        "own Leases"
    );
    assert_operator_pods(
        &objects,
        "telephony-operator",
        "telephony-operator",
        "shard a",
    );
    assert_operator_pods(
        &objects,
        "telephony-operator-shard-b",
        "telephony-operator-shard-b",
        "shard b",
    );
    // Neither PodDisruptionBudget (nor Service) selects the other shard's pods.
    for (own, other) in [(a, b), (b, a)] {
        let own_name = own["metadata"]["name"].as_str().unwrap();
        let selector =
            get(&objects, "PodDisruptionBudget", own_name)["spec"]["selector"]["matchLabels"]
                .as_object()
                .unwrap()
                .clone();
        let other_labels = &other["spec"]["template"]["metadata"]["labels"];
        assert!(
            selector.iter().any(|(k, v)| &other_labels[k] != v),
            "the PodDisruptionBudget of {own_name} also selects the other shard's pods"
        );
    }
    // One copy of everything else; every PhoneNumber has an operator, so the finalizer policy
    // covers all of them.
    assert_eq!(of_kind(&objects, "MutatingAdmissionPolicy").len(), 1);
    assert!(
        get(&objects, "MutatingAdmissionPolicyBinding", FINALIZER_POLICY)["spec"]
            .get("matchResources")
            .is_none()
    );
    assert_eq!(of_kind(&objects, "Namespace").len(), 1);
    assert_eq!(of_kind(&objects, "ServiceAccount").len(), 1);
}

// --- the Helm chart ---------------------------------------------------------------------------

fn spec_without_param_namespace(policy_binding: &Value) -> Value {
    let mut spec = policy_binding["spec"].clone();
    if let Some(p) = spec.get_mut("paramRef").and_then(Value::as_object_mut) {
        p.remove("namespace");
    }
    spec
}

#[test]
fn the_chart_renders_deploys_objects() {
    let Some(helm) = helm() else {
        return skip("no helm (TELEPHONY_HELM, or tests/real-cluster/tools/helm/build.sh)");
    };
    let chart = helm_template(&helm, "telephony-operator", "telephony-system", None);
    assert_typed(&chart, "helm template (default values)");
    let base = docs(
        &(read("deploy/base/rbac.yaml")
            + "\n---\n"
            + &read("deploy/base/admission-policy.yaml")
            + "\n---\n"
            + &read("deploy/base/tenant-roles.yaml")
            + "\n---\n"
            + &read("deploy/base/deployment.yaml")),
        "deploy/base",
    );

    assert_same_rules(
        &get(&chart, "ClusterRole", "telephony-operator")["rules"],
        operator_rules().as_array().expect("rules"),
        "the chart's ClusterRole",
    );
    for role in ["telephony-operator-edit", "telephony-operator-view"] {
        let (c, b) = (
            get(&chart, "ClusterRole", role),
            get(&base, "ClusterRole", role),
        );
        assert_eq!(c["rules"], b["rules"], "{role}");
        for (k, v) in b["metadata"]["labels"].as_object().unwrap() {
            assert_eq!(&c["metadata"]["labels"][k], v, "{role}: label {k}");
        }
    }
    assert_eq!(
        get(&chart, "Role", "telephony-operator-leader-election")["rules"],
        get(&base, "Role", "telephony-operator-leader-election")["rules"]
    );
    for kind in [
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    ] {
        for b in of_kind(&base, kind) {
            let name = b["metadata"]["name"].as_str().unwrap();
            assert_eq!(
                get(&chart, kind, name)["spec"],
                b["spec"],
                "{kind} {name}: the chart's differs from deploy/'s"
            );
        }
    }
    assert_eq!(
        get(&chart, "ConfigMap", "telephony-operator-admission")["data"],
        get(&base, "ConfigMap", "telephony-operator-admission")["data"]
    );

    // The same operator: arguments (plus the Lease name), environment, probes, pods.
    let container = |objects: &[Value]| {
        get(objects, "Deployment", "telephony-operator")["spec"]["template"]["spec"]["containers"]
            [0]
        .clone()
    };
    let (c, b) = (container(&chart), container(&base));
    let mut chart_args = strings(&c["args"]);
    chart_args.retain(|a| a != "--lease-name=telephony-operator");
    assert_eq!(chart_args, strings(&b["args"]), "the operator's arguments");
    for field in [
        "image",
        "env",
        "ports",
        "livenessProbe",
        "readinessProbe",
        "resources",
        "securityContext",
    ] {
        assert_eq!(c[field], b[field], "container {field}");
    }
    assert_operator_pods(&chart, "telephony-operator", "telephony-operator", "chart");
    assert!(find(&chart, "Service", "telephony-operator-metrics").is_some());
    assert!(
        of_kind(&chart, "ServiceMonitor").is_empty(),
        "off by default"
    );
}

#[test]
fn the_chart_with_ci_values_is_namespaced_sharded_and_monitored() {
    let Some(helm) = helm() else {
        return skip("no helm (TELEPHONY_HELM, or tests/real-cluster/tools/helm/build.sh)");
    };
    let values = "charts/telephony-operator/ci/namespaced-values.yaml";
    let chart = helm_template(&helm, "t", "ops", Some(values));
    assert_typed(&chart, "helm template -f ci/namespaced-values.yaml");
    let name = "t-telephony-operator";
    assert!(find(&chart, "ClusterRole", name).is_none());
    assert_cluster_scoped_grant(
        &chart,
        "t-telephony-operator-cluster-scoped",
        "chart (ci values)",
    );
    for ns in ["team-a", "team-b"] {
        let role = chart
            .iter()
            .find(|o| {
                o["kind"] == "Role"
                    && o["metadata"]["name"] == name
                    && o["metadata"]["namespace"] == ns
            })
            .unwrap_or_else(|| panic!("no Role in {ns}"));
        assert_same_rules(
            &role["rules"],
            &operator_rules_by_scope().0,
            &format!("Role in {ns}"),
        );
    }
    let master = get(&chart, "Role", "t-telephony-operator-master-credentials");
    assert_eq!(master["metadata"]["namespace"], "ops");
    assert_eq!(
        strings(&master["rules"][0]["resourceNames"]),
        vec!["platform-twilio"]
    );
    let d = get(&chart, "Deployment", name);
    assert_eq!(d["spec"]["replicas"], 3);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.example/telephony-operator:dev");
    let args = strings(&c["args"]);
    for expected in [
        "run",
        "--leader-election",
        "--lease-name=telephony-shard-b",
        "--metrics-addr=0.0.0.0:9500",
        "--namespaces=team-a,team-b",
        "--label-selector=telephony.agni.ai/shard=b",
        "--terms-version=2026-01",
        "--resync-seconds=120",
        "--twilio-account-rate=5",
    ] {
        assert!(args.iter().any(|a| a == expected), "{expected} in {args:?}");
    }
    assert!(
        !args.iter().any(|a| a == "--log-json"),
        "logging.json: false"
    );
    let env = c["env"].as_array().unwrap();
    let value = |n: &str| {
        env.iter()
            .find(|e| e["name"] == n)
            .map(|e| e["value"].clone())
    };
    assert_eq!(
        value("MASTER_CREDENTIALS_SECRET"),
        Some("platform-twilio".into())
    );
    assert_eq!(value("RUST_LOG"), Some("debug".into()));
    assert_eq!(value("TWILIO_TIMEOUT_SECONDS"), Some("20".into()));
    assert_operator_pods(&chart, name, name, "chart (ci values)");
    assert_eq!(
        get(&chart, "PodDisruptionBudget", name)["spec"]["maxUnavailable"],
        2
    );
    let monitor = get(&chart, "ServiceMonitor", name);
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(
        get(&chart, "ConfigMap", "t-telephony-operator-admission")["data"]["adminGroup"],
        "platform-admins"
    );
    for binding in of_kind(&chart, "ValidatingAdmissionPolicyBinding") {
        assert_eq!(
            binding["spec"]["paramRef"]["name"],
            "t-telephony-operator-admission"
        );
        assert_eq!(binding["spec"]["paramRef"]["namespace"], "ops");
        let base = docs(
            &read("deploy/base/admission-policy.yaml"),
            "admission-policy.yaml",
        );
        let name = binding["metadata"]["name"].as_str().unwrap();
        let mut expected =
            spec_without_param_namespace(get(&base, "ValidatingAdmissionPolicyBinding", name));
        expected["paramRef"]["name"] = "t-telephony-operator-admission".into();
        assert_eq!(spec_without_param_namespace(binding), expected, "{name}");
    }
}

#[test]
fn the_chart_renders_the_finalizer_policy_for_what_the_release_serves() {
    let Some(helm) = helm() else {
        return skip("no helm (TELEPHONY_HELM, or tests/real-cluster/tools/helm/build.sh)");
    };
    let component = finalizer_component();
    let policy_spec = &get(&component, "MutatingAdmissionPolicy", FINALIZER_POLICY)["spec"];
    let name = "telephony-operator-phonenumber-finalizer.telephony.agni.ai";

    // A server without MutatingAdmissionPolicy v1 (helm's defaults here): none.
    let old = helm_template(&helm, "telephony-operator", "telephony-system", None);
    assert!(of_kind(&old, "MutatingAdmissionPolicy").is_empty());

    // Default values: deploy/'s policy, for every PhoneNumber.
    let all = helm_template_with(
        &helm,
        "telephony-operator",
        "telephony-system",
        &WITH_MUTATING_POLICIES,
    );
    assert_typed(&all, "helm template (default values, Kubernetes 1.36+)");
    assert_eq!(
        &get(&all, "MutatingAdmissionPolicy", name)["spec"],
        policy_spec,
        "the chart's finalizer policy differs from components/finalizer-at-create's"
    );
    let binding = get(&all, "MutatingAdmissionPolicyBinding", name);
    assert_eq!(binding["spec"]["policyName"], name);
    assert!(binding["spec"].get("matchResources").is_none());

    // A namespaced, sharded release: only its namespaces and its label selector.
    let mut extra = WITH_MUTATING_POLICIES.to_vec();
    extra.extend(["-f", "charts/telephony-operator/ci/namespaced-values.yaml"]);
    let shard = helm_template_with(&helm, "t", "ops", &extra);
    let binding = get(
        &shard,
        "MutatingAdmissionPolicyBinding",
        "t-telephony-operator-phonenumber-finalizer.telephony.agni.ai",
    );
    let resources = &binding["spec"]["matchResources"];
    assert_eq!(
        strings(&resources["namespaceSelector"]["matchExpressions"][0]["values"]),
        vec!["team-a", "team-b"]
    );
    assert_eq!(
        resources["objectSelector"]["matchExpressions"],
        serde_json::json!([{"key": "telephony.agni.ai/shard", "operator": "In", "values": ["b"]}])
    );

    // Each term of a selector without sets, translated; a selector with sets leaves the policy
    // out (a PhoneNumber no release serves must not get the finalizer).
    let dir = tempfile::tempdir().expect("temp dir");
    for (selector, expected) in [
        (
            "a!=b, c,!d,e==f",
            Some(serde_json::json!([
                {"key": "a", "operator": "NotIn", "values": ["b"]},
                {"key": "c", "operator": "Exists"},
                {"key": "d", "operator": "DoesNotExist"},
                {"key": "e", "operator": "In", "values": ["f"]},
            ])),
        ),
        ("env in (a, b)", None),
        ("env notin (a)", None),
    ] {
        let values = dir.path().join("values.yaml");
        std::fs::write(&values, format!("labelSelector: {selector:?}\n")).expect("write values");
        let mut extra = WITH_MUTATING_POLICIES.to_vec();
        extra.extend(["-f", values.to_str().expect("utf-8 path")]);
        let objects = helm_template_with(&helm, "s", "ops", &extra);
        let binding = find(
            &objects,
            "MutatingAdmissionPolicyBinding",
            "s-telephony-operator-phonenumber-finalizer.telephony.agni.ai",
        );
        match expected {
            Some(e) => assert_eq!(
                binding.expect(selector)["spec"]["matchResources"]["objectSelector"]["matchExpressions"],
                e,
                "{selector}"
            ),
            None => assert!(
                binding.is_none() && of_kind(&objects, "MutatingAdmissionPolicy").is_empty(),
                "{selector}: rendered a finalizer policy"
            ),
        }
    }

    // Switched off.
    let mut extra = WITH_MUTATING_POLICIES.to_vec();
    extra.extend(["--set", "finalizerPolicy.enabled=false"]);
    let off = helm_template_with(&helm, "telephony-operator", "telephony-system", &extra);
    assert!(of_kind(&off, "MutatingAdmissionPolicy").is_empty());
}

#[test]
fn more_than_one_replica_needs_leader_election() {
    let Some(helm) = helm() else {
        return skip("no helm (TELEPHONY_HELM, or tests/real-cluster/tools/helm/build.sh)");
    };
    let chart = root().join("charts/telephony-operator");
    let output = Command::new(&helm)
        .args(["template", "x"])
        .arg(&chart)
        .args([
            "--set",
            "replicas=2",
            "--set",
            "leaderElection.enabled=false",
        ])
        .output()
        .expect("helm runs");
    assert!(!output.status.success(), "rendered two active operators");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("needs leaderElection.enabled"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
