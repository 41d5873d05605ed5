//! The bad-input catalogue against a real kube-apiserver (the real-cluster harness,
//! `TELEPHONY_E2E_KUBECONFIG`): apply-time verdicts compared with the emulator's, and the
//! operator's `Stalled` reasons on the real server (and, side by side, on the emulator).

use super::{Case, schema_for};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Client;
use kube_emulator::schema::FieldValidation;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;
use telephony_operator::api::PhoneNumber;
use telephony_operator::sandbox::stack::{Stack, install_crds};

/// How long the operator may take to report `Stalled` for every case.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// What a server (or the schema module) said about one manifest at apply time.
#[derive(Clone, Debug)]
pub enum Verdict {
    Admitted,
    /// An error Status from the server (422 Invalid: schema, CEL; 400 BadRequest: strict
    /// decoding; 500: a server-side apply patch that does not fit the schema's types).
    Rejected {
        code: u16,
        reason: String,
        /// The field paths named by the causes and the message (leading `.` removed).
        fields: Vec<String>,
        message: String,
    },
    /// No answer from the server (transport error): not a verdict.
    Failed(String),
}

impl Verdict {
    fn from_error(e: kube::Error) -> Verdict {
        match e {
            kube::Error::Api(status) => {
                let mut fields: Vec<String> = status
                    .details
                    .iter()
                    .flat_map(|d| d.causes.iter())
                    .map(|c| c.field.trim_start_matches('.').to_string())
                    .filter(|f| !f.is_empty())
                    .collect();
                fields.extend(fields_in_message(&status.message));
                fields.sort();
                fields.dedup();
                Verdict::Rejected {
                    code: status.code,
                    reason: status.reason.clone(),
                    fields,
                    message: status.message.clone(),
                }
            }
            other => Verdict::Failed(other.to_string()),
        }
    }

    /// HTTP code and reason of a rejection.
    fn code(&self) -> Option<(u16, &str)> {
        match self {
            Verdict::Rejected { code, reason, .. } => Some((*code, reason.as_str())),
            _ => None,
        }
    }

    fn is_rejected(&self) -> bool {
        matches!(self, Verdict::Rejected { .. })
    }

    /// The rejection names `field` (or a path below it).
    fn names(&self, field: &str) -> bool {
        match self {
            Verdict::Rejected { fields, .. } => fields.iter().any(|f| under(f, field)),
            _ => false,
        }
    }

    fn short(&self) -> String {
        match self {
            Verdict::Admitted => "admitted".into(),
            Verdict::Rejected {
                code,
                reason,
                fields,
                ..
            } => {
                let fields: Vec<&str> = fields
                    .iter()
                    .filter(|f| f.starts_with("spec") || f.starts_with("metadata"))
                    .map(String::as_str)
                    .collect();
                let fields = fields.join(", ");
                match code {
                    0 => format!("rejected [{fields}]"),
                    _ => format!("rejected {code} {reason} [{fields}]"),
                }
            }
            Verdict::Failed(e) => format!("ERROR {e}"),
        }
    }
}

fn under(path: &str, field: &str) -> bool {
    path == field
        || path.starts_with(&format!("{field}."))
        || path.starts_with(&format!("{field}["))
}

/// Field paths in a Kubernetes error message: `spec.number: Invalid value`, `unknown field
/// "spec.accountRef.namespace"`, `.spec.maxMonthlyPrice: expected string`.
fn fields_in_message(message: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?:^|[\s"(*])\.?([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*|\[[0-9]+\])*)(?:"|:)"#,
    )
    .unwrap();
    re.captures_iter(message)
        .map(|c| c[1].to_string())
        .collect()
}

/// The emulator's schema module, as the emulator's apply path uses it (Strict).
fn schema_verdict(obj: &Value) -> Verdict {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let mut admitted = obj.clone();
    match schema_for(kind).admit(&mut admitted, None, FieldValidation::Strict) {
        Ok(_) => Verdict::Admitted,
        Err(causes) => {
            let mut fields: Vec<String> = causes
                .iter()
                .map(|c| c.field.trim_start_matches('.').to_string())
                .collect();
            fields.sort();
            fields.dedup();
            Verdict::Rejected {
                code: 0,
                reason: String::new(),
                fields,
                message: causes
                    .iter()
                    .map(|c| format!("{}: {}", c.field, c.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        }
    }
}

#[derive(Clone, Copy)]
pub enum How {
    /// `kubectl apply --server-side`: PATCH application/apply-patch+yaml, fieldValidation=Strict.
    ServerSideApply,
    /// `kubectl apply` of a new object: POST, fieldValidation=Strict.
    Create,
    /// A server-side apply with the server's default validation (kube-rs `PatchParams::apply`).
    ServerSideApplyDefault,
    /// A create with the server's default validation (kube-rs `PostParams::default()`): unknown
    /// fields are dropped (with a warning), not refused.
    CreateDefault,
}

impl How {
    const ALL: [How; 4] = [
        How::ServerSideApply,
        How::Create,
        How::ServerSideApplyDefault,
        How::CreateDefault,
    ];
    /// How kubectl applies (the catalogue's promise is about these): the first two.
    const KUBECTL: usize = 2;

    fn label(self) -> &'static str {
        match self {
            How::ServerSideApply => "SSA",
            How::Create => "create",
            How::ServerSideApplyDefault => "SSA default validation",
            How::CreateDefault => "create default validation",
        }
    }

    fn namespace(self, run: &str) -> String {
        match self {
            How::ServerSideApply => format!("bad-input-ssa-{run}"),
            How::Create => format!("bad-input-create-{run}"),
            How::ServerSideApplyDefault => format!("bad-input-ssa-default-{run}"),
            How::CreateDefault => format!("bad-input-create-default-{run}"),
        }
    }
}

fn plural(kind: &str) -> Option<&'static str> {
    match kind {
        "PhoneNumber" => Some("phonenumbers"),
        "TelephonyAccount" => Some("telephonyaccounts"),
        _ => None,
    }
}

/// Sends the manifest into `ns` as kubectl (or kube-rs) would.
async fn submit(client: &Client, ns: &str, manifest: &Value, how: How) -> Verdict {
    let mut obj = manifest.clone();
    obj["metadata"]["namespace"] = json!(ns);
    let kind = obj["kind"].as_str().unwrap_or_default();
    let Some(plural) = plural(kind) else {
        return Verdict::Failed(format!("no resource for kind {kind:?}"));
    };
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let base = format!("/apis/telephony.agni.ai/v1alpha1/namespaces/{ns}/{plural}");
    let body = serde_json::to_vec(&obj).unwrap();
    let req = match how {
        How::ServerSideApply => http::Request::patch(format!(
            "{base}/{name}?fieldManager=kubectl&fieldValidation=Strict"
        ))
        .header("content-type", "application/apply-patch+yaml"),
        How::ServerSideApplyDefault => {
            http::Request::patch(format!("{base}/{name}?fieldManager=bad-input-catalogue"))
                .header("content-type", "application/apply-patch+yaml")
        }
        How::Create => http::Request::post(format!(
            "{base}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"
        ))
        .header("content-type", "application/json"),
        How::CreateDefault => {
            http::Request::post(format!("{base}?fieldManager=bad-input-catalogue"))
                .header("content-type", "application/json")
        }
    }
    .body(body)
    .unwrap();
    match client.request::<Value>(req).await {
        Ok(_) => Verdict::Admitted,
        Err(e) => Verdict::from_error(e),
    }
}

async fn create_namespace(client: &Client, ns: &str, labels: &BTreeMap<String, String>) {
    let nss: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
    nss.create(
        &kube::api::PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": ns, "labels": labels}})).unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("namespace {ns}: {e}"));
}

/// One server's verdicts, `[case][How::ALL index]`; each way of applying gets its own fresh
/// namespace.
async fn server_verdicts(client: &Client, run: &str, cases: &[Case]) -> Vec<Vec<Verdict>> {
    install_crds(client).await.expect("CRDs installed");
    for how in How::ALL {
        create_namespace(client, &how.namespace(run), &BTreeMap::new()).await;
    }
    let mut out = Vec::new();
    for case in cases {
        let obj = case.manifest();
        let mut row = Vec::new();
        for how in How::ALL {
            row.push(submit(client, &how.namespace(run), &obj, how).await);
        }
        out.push(row);
    }
    out
}

fn emulator_client(emulator: &kube_emulator::EmulatorHandle) -> Client {
    let url: http::Uri = emulator.url().parse().unwrap();
    Client::try_from(kube::Config::new(url)).unwrap()
}

/// A run id that keeps namespaces of repeated runs on one server apart.
pub fn run_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!(
        "{:x}{:04x}",
        d.as_secs() & 0xffff_ffff,
        (d.subsec_nanos() ^ std::process::id()) & 0xffff
    )
}

/// Part 1's outcome.
pub struct ApplyComparison {
    /// `expect: schema` manifests rejected, naming the field, by the real server and by the
    /// emulator (schema module, and the running emulator with kubectl's requests).
    pub rejected_everywhere: usize,
    /// Every verdict (markdown table).
    pub table: String,
    /// Verdicts that differ (the test fails on these).
    pub differences: Vec<String>,
    /// Reported, not failed on: both reject with another HTTP code or reason, or the emulator
    /// and the real server differ on a request with the server's default validation (not what
    /// kubectl sends; the catalogue promises nothing there).
    pub notes: Vec<String>,
    /// `also-stalled` manifests the real server admits with its default validation (a create
    /// drops the unknown field): the operator must then report the `also-stalled` reason.
    pub admitted_by_default_create: Vec<usize>,
}

/// Part 1: every manifest's apply-time verdict on the real server, on a real emulator and in
/// the emulator's schema module, against the catalogue.
pub async fn compare_apply_verdicts(real: &Client, cases: &[Case]) -> ApplyComparison {
    let run = run_id();
    let emulator = kube_emulator::start(kube_emulator::EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let emu = emulator_client(&emulator);
    let (real_v, emu_v) = tokio::join!(
        server_verdicts(real, &run, cases),
        server_verdicts(&emu, &run, cases)
    );
    emulator.shutdown().await;

    let mut out = ApplyComparison {
        rejected_everywhere: 0,
        table: String::new(),
        differences: Vec::new(),
        notes: Vec::new(),
        admitted_by_default_create: Vec::new(),
    };
    let mut header = vec![
        "manifest".to_string(),
        "catalogue".into(),
        "schema module".into(),
    ];
    for how in How::ALL {
        header.push(format!("emulator {}", how.label()));
        header.push(format!("real {}", how.label()));
    }
    writeln!(out.table, "| {} |", header.join(" | ")).unwrap();
    writeln!(out.table, "|{}", "---|".repeat(header.len())).unwrap();
    for (i, case) in cases.iter().enumerate() {
        let expect = case.meta.get("expect").map(String::as_str).unwrap_or("?");
        let field = case.meta.get("field").cloned().unwrap_or_default();
        let catalogue = match expect {
            "schema" => format!("rejected [{field}]"),
            "stalled" => "admitted".to_string(),
            other => format!("?{other}"),
        };
        let schema = schema_verdict(&case.manifest());
        let mut row = vec![case.file.clone(), catalogue.clone(), schema.short()];
        for j in 0..How::ALL.len() {
            row.push(emu_v[i][j].short());
            row.push(real_v[i][j].short());
        }
        writeln!(out.table, "| {} |", row.join(" | ")).unwrap();

        // The real server against the catalogue, for kubectl's requests (the real server is
        // right: a difference here is the catalogue's or the product's).
        let fits_catalogue = |v: &Verdict| match expect {
            "schema" => v.is_rejected() && v.names(&field),
            "stalled" => matches!(v, Verdict::Admitted),
            _ => false,
        };
        for (j, how) in How::ALL.iter().enumerate().take(How::KUBECTL) {
            let v = &real_v[i][j];
            if !fits_catalogue(v) {
                out.differences.push(format!(
                    "{}: catalogue says {catalogue}; real {} says {}{}",
                    case.file,
                    how.label(),
                    v.short(),
                    detail(v)
                ));
            }
        }
        // The emulator against the real server: the schema module against kubectl's server-side
        // apply; the running emulator against the real server, request for request.
        let mut pairs = vec![(0, "schema module".to_string(), &schema, &real_v[i][0])];
        for (j, how) in How::ALL.iter().enumerate() {
            pairs.push((
                j,
                format!("emulator {}", how.label()),
                &emu_v[i][j],
                &real_v[i][j],
            ));
        }
        for (j, who, v, rv) in pairs {
            let real_who = format!("real {}", How::ALL[j].label());
            let same_verdict = matches!(
                (v, rv),
                (Verdict::Admitted, Verdict::Admitted)
                    | (Verdict::Rejected { .. }, Verdict::Rejected { .. })
            );
            let same_field =
                !rv.is_rejected() || field.is_empty() || v.names(&field) == rv.names(&field);
            let line = format!(
                "{}: {who} says {}{}; {real_who} says {}{}",
                case.file,
                v.short(),
                detail(v),
                rv.short(),
                detail(rv)
            );
            if !same_verdict || !same_field {
                if j < How::KUBECTL {
                    out.differences.push(line);
                } else {
                    out.notes.push(format!("verdicts differ: {line}"));
                }
            } else if v.code().is_some_and(|(c, _)| c != 0) && v.code() != rv.code() {
                out.notes.push(format!("both reject, other code: {line}"));
            }
        }
        if expect == "schema"
            && case.meta.contains_key("also-stalled")
            && matches!(real_v[i][3], Verdict::Admitted)
        {
            out.admitted_by_default_create.push(i);
        }
        let kubectl_verdicts = [
            &schema,
            &emu_v[i][0],
            &emu_v[i][1],
            &real_v[i][0],
            &real_v[i][1],
        ];
        if expect == "schema"
            && kubectl_verdicts
                .iter()
                .all(|v| v.is_rejected() && v.names(&field))
        {
            out.rejected_everywhere += 1;
        }
    }
    out
}

fn detail(v: &Verdict) -> String {
    match v {
        Verdict::Rejected { message, .. } => format!(" ({message:?})"),
        Verdict::Admitted | Verdict::Failed(_) => String::new(),
    }
}

/// One case of part 2: a manifest, the reason it must be Stalled with, and how it is applied.
pub struct StallCase<'a> {
    pub case: &'a Case,
    pub reason: String,
    /// Created with the server's default validation (an `also-stalled` manifest whose unknown
    /// field the server drops); otherwise server-side applied with fieldValidation=Strict.
    pub default_validation: bool,
}

impl StallCase<'_> {
    pub fn label(&self) -> String {
        if self.default_validation {
            format!("{} (created with default validation)", self.case.file)
        } else {
            self.case.file.clone()
        }
    }
}

/// What one stalled case ended as on one stack.
pub struct StallOutcome {
    pub file: String,
    pub expected: String,
    /// `None` when it is Stalled with the expected reason and everything else holds.
    pub problem: Option<String>,
}

fn condition(conditions: &[Condition], type_: &str) -> Option<(String, String)> {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

fn summary(pn: Option<&PhoneNumber>) -> String {
    let Some(st) = pn.and_then(|p| p.status.as_ref()) else {
        return "no status".into();
    };
    let show = |t: &str| {
        condition(&st.conditions, t)
            .map(|(s, r)| format!("{t}={s}/{r}"))
            .unwrap_or_else(|| format!("{t} absent"))
    };
    format!(
        "{}, {}, phase {:?}{}, message {:?}",
        show("Stalled"),
        show("Ready"),
        st.phase,
        if st.purchase_intent.is_some() {
            ", purchaseIntent set"
        } else {
            ""
        },
        st.message
    )
}

/// The reason a PhoneNumber is held with: `Stalled=True`'s, or — for what resolves itself,
/// like an account not created yet — `Reconciling=True`'s.
fn stalled_reason(pn: &PhoneNumber) -> Option<String> {
    let st = pn.status.as_ref()?;
    condition(&st.conditions, "Stalled")
        .filter(|(s, _)| s == "True")
        .or_else(|| condition(&st.conditions, "Reconciling").filter(|(s, _)| s == "True"))
        .map(|(_, r)| r)
}

/// The stack's label (`key=value` of its selector), for every object of its cases.
fn stack_labels(stack: &Stack) -> BTreeMap<String, String> {
    stack
        .config
        .label_selector
        .as_deref()
        .and_then(|s| s.split_once('='))
        .map(|(k, v)| BTreeMap::from([(k.to_string(), v.to_string())]))
        .unwrap_or_default()
}

const SECRET: &str = "twilio-credentials";

/// Server-side applies an object (admin identity of the stack's client).
async fn apply(client: &Client, ns: &str, mut obj: Value, labels: &BTreeMap<String, String>) {
    obj["metadata"]["namespace"] = json!(ns);
    for (k, v) in labels {
        obj["metadata"]["labels"][k] = json!(v);
    }
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = match kind.as_str() {
        "Secret" => format!("/api/v1/namespaces/{ns}/secrets/{name}"),
        other => format!(
            "/apis/telephony.agni.ai/v1alpha1/namespaces/{ns}/{}/{name}",
            plural(other).unwrap_or_else(|| panic!("no resource for {other}"))
        ),
    };
    let req = http::Request::patch(format!(
        "{path}?fieldManager=bad-input-catalogue&fieldValidation=Strict&force=true"
    ))
    .header("content-type", "application/apply-patch+yaml")
    .body(serde_json::to_vec(&obj).unwrap())
    .unwrap();
    client
        .request::<Value>(req)
        .await
        .unwrap_or_else(|e| panic!("{kind} {ns}/{name} applied: {e}"));
}

fn byo_account(name: &str) -> Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": name},
        "spec": {"mode": "BringYourOwn", "friendlyName": "bad input", "credentialsSecretRef": {"name": SECRET}}
    })
}

fn secret(data: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET},
        "type": "Opaque", "stringData": data
    })
}

/// Builds a case's `# setup:` in `ns` (objects, simulator state); returns the strings that
/// must never appear in the PhoneNumber's status (credentials).
async fn setup(
    stack: &Stack,
    case: &Case,
    ns: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<String> {
    let client = &stack.client;
    let manifest = case.manifest();
    let account = manifest["spec"]["accountRef"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Each case its own Twilio account, so the simulator state of one cannot help another.
    let tenant = stack.sim.add_account(&format!("bad input {ns}"));
    let setup = case.meta.get("setup").map(String::as_str).unwrap_or("");
    let good = json!({"accountSid": tenant.sid, "authToken": tenant.auth_token});
    match setup {
        "" | "sim" => {
            apply(client, ns, secret(good), labels).await;
            apply(client, ns, byo_account(&account), labels).await;
        }
        "no-account" => {}
        "secret-missing" => apply(client, ns, byo_account(&account), labels).await,
        "key-missing" => {
            apply(
                client,
                ns,
                secret(json!({"accountSid": tenant.sid})),
                labels,
            )
            .await;
            apply(client, ns, byo_account(&account), labels).await;
        }
        "sim-wrong-credentials" => {
            let wrong = json!({"accountSid": tenant.sid, "authToken": "wrong-token"});
            apply(client, ns, secret(wrong), labels).await;
            apply(client, ns, byo_account(&account), labels).await;
        }
        "sim-owned-elsewhere" => {
            let number = manifest["spec"]["number"].as_str().expect("spec.number");
            let other = stack.sim.add_account("another customer");
            // The stack's simulator may already give the number to its sandbox account; either
            // way an account other than the tenant's owns it.
            let _ = stack.sim.assign_number(&other.sid, number);
            let byo = telephony_operator::sandbox::examples::BYO_ACCOUNT_SID;
            let owned_elsewhere = [other.sid.as_str(), byo].into_iter().any(|sid| {
                stack
                    .sim
                    .owned_numbers(sid)
                    .iter()
                    .any(|o| o.phone_number == number)
            });
            assert!(
                owned_elsewhere,
                "{}: another account owns {number}",
                case.file
            );
            apply(client, ns, secret(good), labels).await;
            apply(client, ns, byo_account(&account), labels).await;
        }
        "managed-terms-not-accepted" => {
            let managed = json!({
                "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
                "metadata": {"name": account},
                "spec": {"mode": "Managed", "friendlyName": "bad input managed", "managed": {
                    "termsAccepted": false, "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION}}
            });
            apply(client, ns, managed, labels).await;
        }
        other => panic!("{}: unknown setup {other:?}", case.file),
    }
    vec![tenant.auth_token, "wrong-token".into()]
}

/// What a watch of one PhoneNumber saw.
struct Watched {
    /// The first state Stalled with the expected reason.
    stalled: Option<PhoneNumber>,
    /// The first state after that which is not (a flap), if any.
    left: Option<PhoneNumber>,
    /// The last state seen.
    last: Option<PhoneNumber>,
}

/// Watches the PhoneNumbers of `ns` (the case's only one) until it is Stalled with `expected`
/// and then for `window` more (every status write is a watch event, so a flap is seen), or
/// until `STALL_TIMEOUT`.
async fn watch_case(api: kube::Api<PhoneNumber>, expected: String, window: Duration) -> Watched {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let mut stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed();
    let deadline = tokio::time::Instant::now() + STALL_TIMEOUT;
    let mut seen = Watched {
        stalled: None,
        left: None,
        last: None,
    };
    let mut stalled_at = None;
    loop {
        let until = stalled_at.map_or(deadline, |t: tokio::time::Instant| t + window);
        match tokio::time::timeout_at(until, stream.next()).await {
            Err(_) | Ok(None) => break,
            Ok(Some(Err(_))) => continue,
            Ok(Some(Ok(pn))) => {
                let is = stalled_reason(&pn).as_deref() == Some(expected.as_str());
                if is && seen.stalled.is_none() {
                    seen.stalled = Some(pn.clone());
                    stalled_at = Some(tokio::time::Instant::now());
                } else if !is && seen.stalled.is_some() && seen.left.is_none() {
                    seen.left = Some(pn.clone());
                }
                seen.last = Some(pn);
            }
        }
    }
    seen
}

/// The Ready condition of the case's TelephonyAccount, for the report.
async fn account_state(client: &Client, ns: &str, name: &str) -> String {
    let api: kube::Api<telephony_operator::api::TelephonyAccount> =
        kube::Api::namespaced(client.clone(), ns);
    match api.get_opt(name).await {
        Ok(Some(a)) => {
            let conds = a.status.map(|s| s.conditions).unwrap_or_default();
            let ready = conds.iter().find(|c| c.type_ == "Ready");
            match ready {
                Some(c) => format!(
                    "TelephonyAccount {name}: Ready={}/{} {:?}",
                    c.status, c.reason, c.message
                ),
                None => format!("TelephonyAccount {name}: no Ready condition"),
            }
        }
        Ok(None) => format!("no TelephonyAccount {name}"),
        Err(e) => format!("TelephonyAccount {name}: {e}"),
    }
}

/// Part 2 on one stack: every case in its own namespace, all at once; each must reach
/// `Stalled=True` with its reason and stay there for three resync periods, and nothing may be
/// bought.
pub async fn stalled_on(stack: &Stack, where_: &str, cases: &[StallCase<'_>]) -> Vec<StallOutcome> {
    let run = run_id();
    let labels = stack_labels(stack);
    let client = stack.client.clone();
    let window = Duration::from_secs(3 * stack.config.resync_seconds.max(1));
    let mut prepared = Vec::new();
    for (i, sc) in cases.iter().enumerate() {
        let prefix: String = sc
            .case
            .file
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let ns = format!("bad-input-{prefix}-{i}-{run}");
        create_namespace(&client, &ns, &labels).await;
        let secrets = setup(stack, sc.case, &ns, &labels).await;
        prepared.push((sc, ns, secrets));
    }
    let watches = prepared.iter().map(|(sc, ns, _)| {
        let client = client.clone();
        let labels = labels.clone();
        async move {
            let mut obj = sc.case.manifest();
            for (k, v) in &labels {
                obj["metadata"]["labels"][k] = json!(v);
            }
            if sc.default_validation {
                if let Verdict::Failed(e) | Verdict::Rejected { message: e, .. } =
                    submit(&client, ns, &obj, How::CreateDefault).await
                {
                    return Err(format!("not admitted on {where_}: {e}"));
                }
            } else {
                apply(&client, ns, obj, &BTreeMap::new()).await;
            }
            Ok(watch_case(kube::Api::namespaced(client, ns), sc.reason.clone(), window).await)
        }
    });
    let watched = futures::future::join_all(watches).await;
    let purchases = stack.sim.purchase_log();
    let mut out = Vec::new();
    for ((sc, ns, secrets), seen) in prepared.iter().zip(watched) {
        let expected = sc.reason.clone();
        let mut problems = Vec::new();
        let seen = match seen {
            Ok(seen) => seen,
            Err(e) => {
                out.push(StallOutcome {
                    file: sc.label(),
                    expected,
                    problem: Some(e),
                });
                continue;
            }
        };
        match &seen.stalled {
            None => {
                let account = sc.case.manifest()["spec"]["accountRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                problems.push(format!(
                    "not Stalled/{expected} within {} s on {where_}: {}; {}",
                    STALL_TIMEOUT.as_secs(),
                    summary(seen.last.as_ref()),
                    account_state(&client, ns, &account).await
                ));
            }
            Some(pn) => {
                let st = pn.status.clone().unwrap_or_default();
                if condition(&st.conditions, "Ready")
                    .map(|(s, _)| s)
                    .as_deref()
                    != Some("False")
                {
                    problems.push(format!("Ready is not False: {}", summary(Some(pn))));
                }
                if st.message.as_deref().is_none_or(|m| m.len() <= 20) {
                    problems.push(format!("no message a person can act on: {:?}", st.message));
                }
                if st.purchase_intent.is_some() || st.sid.is_some() {
                    problems.push(format!(
                        "Stalled with a purchase in status: {}",
                        summary(Some(pn))
                    ));
                }
                if let Some(left) = &seen.left {
                    problems.push(format!(
                        "did not stay Stalled/{expected} for {} s (three resyncs) on {where_}: then {}",
                        window.as_secs(),
                        summary(Some(left))
                    ));
                }
            }
        }
        for pn in [&seen.stalled, &seen.left, &seen.last]
            .into_iter()
            .flatten()
        {
            let text = format!("{:?}", pn.status);
            if secrets.iter().any(|s| text.contains(s.as_str())) {
                problems.push("a credential appears in status".into());
                break;
            }
        }
        out.push(StallOutcome {
            file: sc.label(),
            expected,
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        });
    }
    if !purchases.is_empty() {
        out.push(StallOutcome {
            file: "(simulator)".into(),
            expected: "nothing bought".into(),
            problem: Some(format!(
                "{} purchases on {where_}: {purchases:?}",
                purchases.len()
            )),
        });
    }
    out
}
