//! The operator measured as users run it (issue 12): the release `telephony-operator run` binary
//! in its own process; the Kubernetes API emulator and the Twilio simulator (with latency) in
//! this one, on 127.0.0.1 free ports.
//!
//! Phases:
//! 1. converge: N PhoneNumbers (search-based, US local over 16 area codes) spread over
//!    `BENCH_ACCOUNTS` BringYourOwn accounts (each its own Twilio account, so its own cap), applied
//!    before the operator starts. Reports time to all Ready, the cap bound
//!    (N / accounts × Twilio calls per number × latency ÷ cap) and the ratio, Twilio calls per
//!    number by route, Kubernetes writes per number (objects and events apart), the operator's
//!    peak RSS (VmHWM) and CPU seconds (utime + stime), distinct numbers bought.
//! 2. restart: SIGTERM, start again with every number Ready (and `--resync-seconds
//!    BENCH_RESYNC_SECONDS`): purchases (must be 0), Twilio calls per account, Kubernetes writes,
//!    and the time until the operator's `/metrics` count PhoneNumber reconciles ≥ N (every object
//!    reconciled once; the counter cannot tell a second reconcile of one object from the first of
//!    another, so this is a lower bound on the true time when objects are requeued).
//! 3. drift: one resync period with nothing changed (Twilio calls, writes), then 1% of the
//!    numbers changed outside (half a new voice URL, half released) and one more period:
//!    which PhoneNumbers were written, against the drifted set.
//!
//! Run: `cargo bench --bench operator_process` (builds the deployable binary first, as the
//! container image does: `cargo build --release --no-default-features --bin telephony-operator`;
//! or uses `BENCH_OPERATOR_BIN`).
//! Environment: `BENCH_NUMBERS` (default 1000), `BENCH_ACCOUNTS` (1), `BENCH_LATENCY_MS` (50),
//! `BENCH_CAP` (10, the operator's `--twilio-account-concurrency`), `BENCH_UNRELATED_SECRETS`
//! (0: Secrets of 1 KiB in another namespace, present before the operator starts),
//! `BENCH_RESYNC_SECONDS` (30, restart and drift phases), `BENCH_PHASES` (`converge,restart,drift`),
//! `BENCH_OPERATOR_ARGS` (extra `run` flags, space-separated), `BENCH_FINALIZER_AT_CREATE` (1:
//! PhoneNumbers are created carrying the operator's finalizer, as deploy/'s MutatingAdmissionPolicy
//! makes the API server store them on Kubernetes 1.36+ — the emulator runs no admission policies;
//! 0: created without it, as on an older cluster, and the operator adds it: one write more per
//! number). Figures go to BENCHMARKS.md by hand.

use futures::{StreamExt, TryStreamExt};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use telephony_operator::api::{PhoneNumber, TelephonyAccount};
use telephony_operator::sandbox::stack::{Stack, StackOptions};

const NAMESPACE: &str = "bench";
const AREAS: [u16; 16] = [
    212, 214, 305, 312, 415, 503, 512, 617, 646, 702, 718, 808, 310, 206, 303, 404,
];

type BenchError = Box<dyn std::error::Error + Send + Sync>;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Settings {
    numbers: usize,
    accounts: usize,
    latency_ms: u64,
    cap: usize,
    unrelated_secrets: usize,
    finalizer_at_create: bool,
    resync_seconds: u64,
    phases: Vec<String>,
    extra_args: Vec<String>,
}

impl Settings {
    fn from_env() -> Self {
        Settings {
            numbers: env_u64("BENCH_NUMBERS", 1000) as usize,
            accounts: env_u64("BENCH_ACCOUNTS", 1).max(1) as usize,
            latency_ms: env_u64("BENCH_LATENCY_MS", 50),
            cap: env_u64("BENCH_CAP", 10).max(1) as usize,
            unrelated_secrets: env_u64("BENCH_UNRELATED_SECRETS", 0) as usize,
            finalizer_at_create: env_u64("BENCH_FINALIZER_AT_CREATE", 1) != 0,
            resync_seconds: env_u64("BENCH_RESYNC_SECONDS", 30).max(1),
            phases: std::env::var("BENCH_PHASES")
                .unwrap_or_else(|_| "converge,restart,drift".into())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            extra_args: std::env::var("BENCH_OPERATOR_ARGS")
                .unwrap_or_default()
                .split_whitespace()
                .map(String::from)
                .collect(),
        }
    }
    fn phase(&self, name: &str) -> bool {
        self.phases.iter().any(|p| p == name)
    }
}

/// The release binary: `BENCH_OPERATOR_BIN`, or built now with cargo as the container image
/// builds it (`--no-default-features`: no stand-ins linked, as users run it).
fn operator_binary() -> Result<PathBuf, BenchError> {
    if let Ok(path) = std::env::var("BENCH_OPERATOR_BIN") {
        return Ok(PathBuf::from(path));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "building the deployable binary (cargo build --release --no-default-features --bin telephony-operator)"
    );
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--no-default-features",
            "--bin",
            "telephony-operator",
        ])
        .current_dir(manifest)
        .status()?;
    if !status.success() {
        return Err(format!("cargo build --release failed: {status}").into());
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("target"));
    Ok(target.join("release").join("telephony-operator"))
}

/// The operator's process: its `/proc` figures and its `/metrics`.
struct Operator {
    child: Child,
    metrics: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct ProcFigures {
    rss_kib: u64,
    hwm_kib: u64,
    cpu_seconds: f64,
}

impl Operator {
    fn spawn(
        bin: &Path,
        kubeconfig: &Path,
        twilio: &str,
        s: &Settings,
        resync: Option<u64>,
        log: &Path,
    ) -> Result<Operator, BenchError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut cmd = Command::new(bin);
        cmd.arg("run")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--twilio-api-base", twilio, "--twilio-pricing-base", twilio])
            .args(["--twilio-account-concurrency", &s.cap.to_string()])
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")]);
        if let Some(r) = resync {
            cmd.args(["--resync-seconds", &r.to_string()]);
        }
        cmd.args(&s.extra_args);
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        Ok(Operator {
            child,
            metrics: format!("http://127.0.0.1:{port}/metrics"),
        })
    }

    fn figures(&self) -> ProcFigures {
        proc_figures(self.child.id()).unwrap_or_default()
    }

    /// SIGTERM, then wait (SIGKILL after 30 s).
    fn terminate(mut self) -> Result<ProcFigures, BenchError> {
        let last = self.figures();
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.child.try_wait()?.is_some() {
                return Ok(last);
            }
            if Instant::now() > deadline {
                eprintln!("operator ignored SIGTERM for 30 s; killing it");
                self.child.kill()?;
                self.child.wait()?;
                return Ok(last);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sum of `telephony_operator_reconciliations_total{controller="<controller>"}`.
    async fn reconciles(&self, http: &reqwest::Client, controller: &str) -> Option<f64> {
        let body = http
            .get(&self.metrics)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let want = format!("controller=\"{controller}\"");
        Some(
            body.lines()
                .filter(|l| l.starts_with("telephony_operator_reconciliations_total{"))
                .filter(|l| l.contains(&want))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum(),
        )
    }
}

fn proc_figures(pid: u32) -> Option<ProcFigures> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    Some(ProcFigures {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
        cpu_seconds: ticks / hz,
    })
}

/// What the benchmark's own watch of PhoneNumbers saw.
#[derive(Default)]
struct Seen {
    ready: HashMap<String, bool>,
    numbers: HashMap<String, String>,
    /// Names of PhoneNumbers seen changed (resourceVersion moved) since the last `take_written`.
    written: BTreeSet<String>,
    rv: HashMap<String, String>,
    /// Each object as last seen, without its resourceVersion (to say what a write changed).
    last: HashMap<String, serde_json::Value>,
    /// What the first few writes since the last clear changed (`path: old -> new`).
    examples: Vec<String>,
    /// TelephonyAccounts as last seen (without resourceVersion), and what each of their writes
    /// since the last clear changed.
    accounts: HashMap<String, serde_json::Value>,
    account_writes: Vec<String>,
    /// How many account writes since the last clear changed each field (two path segments,
    /// e.g. `.status.inventory`).
    account_fields: BTreeMap<String, u64>,
}

impl Seen {
    fn ready_count(&self) -> usize {
        self.ready.values().filter(|r| **r).count()
    }

    /// Forgets which objects were written and what the writes changed (a new phase starts).
    fn clear_writes(&mut self) {
        self.written.clear();
        self.examples.clear();
        self.account_writes.clear();
        self.account_fields.clear();
    }
}

fn is_ready(pn: &PhoneNumber) -> bool {
    pn.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// Calls `seen_one` with every object of `K` the benchmark's namespace shows (listed or
/// changed), as JSON without the fields every write changes (resourceVersion, managedFields).
fn watch_objects<K>(
    client: kube::Client,
    mut seen_one: impl FnMut(K, serde_json::Value) + Send + 'static,
) where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug
        + Send
        + 'static,
{
    let api: Api<K> = Api::namespaced(client, NAMESPACE);
    tokio::spawn(async move {
        let stream = watcher(api, watcher::Config::default());
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            let Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj)) = event else {
                continue;
            };
            let mut value = serde_json::to_value(&obj).unwrap_or_default();
            if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.remove("resourceVersion");
                meta.remove("managedFields");
            }
            seen_one(obj, value);
        }
    });
}

fn watch_numbers(client: kube::Client, seen: Arc<Mutex<Seen>>) {
    watch_objects(client, move |pn: PhoneNumber, value| {
        let name = pn.name_any();
        let rv = pn.resource_version().unwrap_or_default();
        let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
        if s.rv.get(&name).is_some_and(|old| *old != rv) {
            s.written.insert(name.clone());
            if s.examples.len() < 3 {
                let mut changes = Vec::new();
                if let Some(old) = s.last.get(&name) {
                    json_diff("", old, &value, &mut changes);
                }
                s.examples.push(format!("{name}: {}", changes.join("; ")));
            }
        }
        s.rv.insert(name.clone(), rv);
        s.last.insert(name.clone(), value);
        s.ready.insert(name.clone(), is_ready(&pn));
        if let Some(n) = pn.status.as_ref().and_then(|st| st.phone_number.clone()) {
            s.numbers.insert(name, n);
        }
    });
}

/// Records what each write of a TelephonyAccount changed (its status is the operator's).
fn watch_accounts(client: kube::Client, seen: Arc<Mutex<Seen>>) {
    watch_objects(client, move |a: TelephonyAccount, value| {
        let name = a.name_any();
        let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = s.accounts.get(&name) {
            let mut changes = Vec::new();
            json_diff("", old, &value, &mut changes);
            let fields: BTreeSet<String> = changes
                .iter()
                .map(|c| {
                    let path = c.split(": ").next().unwrap_or_default();
                    path.split('.').take(3).collect::<Vec<_>>().join(".")
                })
                .collect();
            for f in fields {
                *s.account_fields.entry(f).or_default() += 1;
            }
            s.account_writes
                .push(format!("{name}: {}", changes.join("; ")));
        }
        s.accounts.insert(name, value);
    });
}

/// The leaf paths where `a` and `b` differ, as `path: old -> new`.
fn json_diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                json_diff(
                    &format!("{path}.{k}"),
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                json_diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a != b => {
            let short = |v: &Value| {
                let t = v.to_string();
                if t.chars().count() > 80 {
                    format!("{}…", t.chars().take(80).collect::<String>())
                } else {
                    t
                }
            };
            out.push(format!("{path}: {} -> {}", short(a), short(b)));
        }
        _ => {}
    }
}

fn kube_writes(
    before: &kube_emulator::Stats,
    after: &kube_emulator::Stats,
) -> BTreeMap<String, u64> {
    after
        .writes_by_resource
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v - before.writes_by_resource.get(k).copied().unwrap_or(0),
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn split_events(writes: &BTreeMap<String, u64>) -> (u64, u64) {
    let events: u64 = writes
        .iter()
        .filter(|(k, _)| k.starts_with("events"))
        .map(|(_, v)| v)
        .sum();
    let all: u64 = writes.values().sum();
    (all - events, events)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Bench {
    s: Settings,
    stack: Stack,
    bin: PathBuf,
    kubeconfig: PathBuf,
    log: PathBuf,
    /// Twilio account SID per TelephonyAccount.
    sids: Vec<String>,
    seen: Arc<Mutex<Seen>>,
    http: reqwest::Client,
}

impl Bench {
    async fn setup(&mut self) -> Result<(), BenchError> {
        let client = self.stack.client.clone();
        for ns in [NAMESPACE, "unrelated"] {
            Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(json!({"metadata": {"name": ns}}))?,
                )
                .await?;
        }
        let secrets =
            Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), NAMESPACE);
        let accounts = Api::<TelephonyAccount>::namespaced(client.clone(), NAMESPACE);
        for a in 0..self.s.accounts {
            let seed = self.stack.sim.add_account(&format!("bench {a}"));
            self.stack
                .sim
                .set_balance(&seed.sid, rust_decimal::Decimal::new(100_000_000, 2));
            let name = format!("acct{a:03}");
            let secret = json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "stringData": {"accountSid": seed.sid, "authToken": seed.auth_token}});
            secrets
                .patch(&name, &PatchParams::apply("bench"), &Patch::Apply(secret))
                .await?;
            let account = json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {"mode": "BringYourOwn", "friendlyName": format!("bench {a}"),
                         "credentialsSecretRef": {"name": name}}});
            accounts
                .patch(&name, &PatchParams::apply("bench"), &Patch::Apply(account))
                .await?;
            self.sids.push(seed.sid);
        }
        let started = Instant::now();
        let unrelated =
            Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), "unrelated");
        let filler = "x".repeat(1024);
        futures::stream::iter(0..self.s.unrelated_secrets)
            .map(|i| {
                let api = unrelated.clone();
                let secret = json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": format!("s{i:06}"), "labels": {"app": "unrelated"}},
                    "stringData": {"payload": filler}});
                async move {
                    let secret = serde_json::from_value(secret)?;
                    api.create(&PostParams::default(), &secret).await?;
                    Ok::<_, BenchError>(())
                }
            })
            .buffer_unordered(32)
            .try_collect::<Vec<_>>()
            .await?;
        let pns = Api::<PhoneNumber>::namespaced(client.clone(), NAMESPACE);
        let accounts_n = self.s.accounts;
        let finalizers: Vec<&str> = if self.s.finalizer_at_create {
            vec![telephony_operator::api::FINALIZER]
        } else {
            Vec::new()
        };
        futures::stream::iter(0..self.s.numbers)
            .map(|i| {
                let api = pns.clone();
                let pn = json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
                    "metadata": {"name": format!("n{i:06}"), "namespace": NAMESPACE,
                                 "finalizers": finalizers},
                    // A declared voice URL: a field the spec leaves out is not managed, so a
                    // voice URL changed outside is drift only when the spec names one.
                    "spec": {"accountRef": {"name": format!("acct{:03}", i % accounts_n)},
                             "voice": {"url": "https://bench.example.com/voice"},
                             "search": {"country": "US", "type": "Local",
                                        "areaCode": AREAS[(i / accounts_n) % AREAS.len()]}}});
                async move {
                    let pn: PhoneNumber = serde_json::from_value(pn)?;
                    api.create(&PostParams::default(), &pn).await?;
                    Ok::<_, BenchError>(())
                }
            })
            .buffer_unordered(32)
            .try_collect::<Vec<_>>()
            .await?;
        eprintln!(
            "created {} accounts, {} unrelated Secrets, {} PhoneNumbers in {:.1} s",
            self.s.accounts,
            self.s.unrelated_secrets,
            self.s.numbers,
            started.elapsed().as_secs_f64()
        );
        watch_numbers(client.clone(), self.seen.clone());
        watch_accounts(client, self.seen.clone());
        Ok(())
    }

    fn spawn(&self, resync: Option<u64>) -> Result<Operator, BenchError> {
        Operator::spawn(
            &self.bin,
            &self.kubeconfig,
            &self.stack.twilio_url(),
            &self.s,
            resync,
            &self.log,
        )
    }

    fn emulator_stats(&self) -> kube_emulator::Stats {
        self.stack
            .emulator
            .as_ref()
            .map(|e| e.stats())
            .unwrap_or_default()
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the first writes of PhoneNumbers and of accounts changed; clears them.
    fn print_examples(&self) {
        for e in std::mem::take(&mut self.seen().examples) {
            println!("    write: {e}");
        }
        let accounts = std::mem::take(&mut self.seen().account_writes);
        for e in accounts.iter().take(3) {
            println!("    account write: {e}");
        }
        if accounts.len() > 3 {
            println!("    ({} more account writes)", accounts.len() - 3);
        }
        let fields = std::mem::take(&mut self.seen().account_fields);
        if !fields.is_empty() {
            let by_field: Vec<String> = fields.iter().map(|(f, n)| format!("{f} {n}")).collect();
            println!("    account writes changed: {}", by_field.join(", "));
        }
    }

    fn print_kube(&self, label: &str, writes: &BTreeMap<String, u64>, per: usize) {
        let (objects, events) = split_events(writes);
        println!(
            "{label:<28}objects {objects} ({:.3}/number), events {events} ({:.3}/number)",
            objects as f64 / per as f64,
            events as f64 / per as f64
        );
        for (k, v) in writes {
            println!("    {k:<36}{v}");
        }
    }

    fn print_twilio(&self, label: &str, c: &twilio_sim::Counters, per: usize) {
        println!(
            "{label:<28}{} ({:.3}/number), purchases {}",
            c.total_requests,
            c.total_requests as f64 / per as f64,
            c.purchases
        );
        for (route, n) in &c.requests {
            println!("    {route:<80}{n} ({:.3}/number)", *n as f64 / per as f64);
        }
        let per_account: Vec<u64> = self
            .sids
            .iter()
            .map(|sid| c.requests_by_account.get(sid).copied().unwrap_or(0))
            .collect();
        if let (Some(min), Some(max)) = (per_account.iter().min(), per_account.iter().max()) {
            println!(
                "    per account: min {min}, max {max} (accounts {})",
                per_account.len()
            );
        }
    }

    async fn converge(&mut self) -> Result<Operator, BenchError> {
        let n = self.s.numbers;
        self.stack.sim.set_faults(twilio_sim::FaultConfig {
            latency_ms: self.s.latency_ms,
            ..Default::default()
        });
        self.stack.sim.reset_counters();
        let kube_before = self.emulator_stats();
        let started = Instant::now();
        let op = self.spawn(None)?;
        let mut next_report = Duration::from_secs(5);
        loop {
            let done = self.seen().ready_count();
            if done >= n {
                break;
            }
            if started.elapsed() >= next_report {
                let f = op.figures();
                eprintln!(
                    "[{:>6.1}s] {done}/{n} Ready; operator RSS {:.1} MiB, CPU {:.1} s",
                    started.elapsed().as_secs_f64(),
                    mib(f.rss_kib),
                    f.cpu_seconds
                );
                next_report += Duration::from_secs(5);
            }
            if started.elapsed() > Duration::from_secs(3600) {
                return Err(format!("only {done}/{n} Ready after an hour").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let f = op.figures();
        let c = self.stack.sim.counters();
        let writes = kube_writes(&kube_before, &self.emulator_stats());
        let calls_per_number = c.total_requests as f64 / n as f64;
        // Each account has its own cap: the bound is that of the largest account.
        let per_account = n.div_ceil(self.s.accounts);
        let bound = per_account as f64 * calls_per_number * self.s.latency_ms as f64
            / 1000.0
            / self.s.cap as f64;
        let distinct_bought: BTreeSet<String> = self
            .stack
            .sim
            .purchase_log()
            .iter()
            .map(|p| p.phone_number.clone())
            .collect();
        let distinct_status: BTreeSet<String> = self.seen().numbers.values().cloned().collect();
        println!("== converge");
        println!(
            "numbers / accounts          {n} / {} (latency {} ms, cap {}, unrelated Secrets {}, finalizer at create {})",
            self.s.accounts,
            self.s.latency_ms,
            self.s.cap,
            self.s.unrelated_secrets,
            self.s.finalizer_at_create
        );
        println!("time to all Ready           {elapsed:.2} s");
        println!("bound (n/acct x calls x lat/cap) {bound:.2} s");
        println!(
            "ratio                       {:.3}",
            elapsed / bound.max(1e-9)
        );
        self.print_twilio("twilio calls", &c, n);
        self.print_kube("kubernetes writes", &writes, n);
        self.print_examples();
        println!(
            "purchases                   {} (distinct bought {}, distinct in status {})",
            c.purchases,
            distinct_bought.len(),
            distinct_status.len()
        );
        println!(
            "operator peak RSS / CPU     {:.1} MiB (now {:.1} MiB) / {:.1} s ({:.2} ms/number)",
            mib(f.hwm_kib),
            mib(f.rss_kib),
            f.cpu_seconds,
            f.cpu_seconds * 1000.0 / n as f64
        );
        Ok(op)
    }

    /// Waits (up to 30 s) until every account's inventory summary counts its numbers: the
    /// account looks again a few seconds after its last number was bought, so an operator
    /// stopped at the very moment the last number turns Ready leaves a summary to finish.
    async fn wait_for_account_summaries(&self) {
        let started = Instant::now();
        let (n, accounts) = (self.s.numbers, self.s.accounts);
        // PhoneNumber i names account i % accounts.
        let want = |a: usize| ((n + accounts - 1 - a) / accounts) as u64;
        let counted = |seen: &Seen| {
            (0..accounts)
                .filter(|&a| {
                    seen.accounts
                        .get(&format!("acct{a:03}"))
                        .and_then(|v| v.pointer("/status/inventory/managed"))
                        .and_then(|m| m.as_u64())
                        == Some(want(a))
                })
                .count()
        };
        while counted(&self.seen()) < self.s.accounts && started.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "accounts summarized        {} of {} within {:.1} s of the last Ready",
            counted(&self.seen()),
            self.s.accounts,
            started.elapsed().as_secs_f64()
        );
    }

    async fn restart(&mut self, op: Operator) -> Result<Operator, BenchError> {
        let n = self.s.numbers;
        self.wait_for_account_summaries().await;
        let before_stop = op.terminate()?;
        println!("== restart (resync {} s)", self.s.resync_seconds);
        println!(
            "first operator at stop      RSS {:.1} MiB, peak {:.1} MiB, CPU {:.1} s",
            mib(before_stop.rss_kib),
            mib(before_stop.hwm_kib),
            before_stop.cpu_seconds
        );
        self.stack.sim.reset_counters();
        self.seen().clear_writes();
        let kube_before = self.emulator_stats();
        let started = Instant::now();
        let op = self.spawn(Some(self.s.resync_seconds))?;
        let mut steady = None;
        while started.elapsed() < Duration::from_secs(120) {
            let numbers = op
                .reconciles(&self.http, "PhoneNumber")
                .await
                .unwrap_or(0.0);
            let accounts = op
                .reconciles(&self.http, "TelephonyAccount")
                .await
                .unwrap_or(0.0);
            if numbers >= n as f64 && accounts >= self.s.accounts as f64 {
                steady = Some(started.elapsed().as_secs_f64());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Trailing writes of the first reconciles.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let c = self.stack.sim.counters();
        let writes = kube_writes(&kube_before, &self.emulator_stats());
        let f = op.figures();
        match steady {
            Some(t) => {
                println!("every object reconciled     {t:.2} s (PhoneNumber reconciles >= {n})")
            }
            None => println!("every object reconciled     NOT within 120 s"),
        }
        self.print_twilio("twilio calls", &c, n);
        self.print_kube("kubernetes writes", &writes, n);
        println!("PhoneNumbers written        {}", self.seen().written.len());
        self.print_examples();
        println!(
            "operator peak RSS / CPU     {:.1} MiB (now {:.1} MiB) / {:.1} s (since start, +3 s)",
            mib(f.hwm_kib),
            mib(f.rss_kib),
            f.cpu_seconds
        );
        Ok(op)
    }

    async fn drift(&mut self, op: &Operator) -> Result<(), BenchError> {
        let n = self.s.numbers;
        let period = Duration::from_secs(self.s.resync_seconds + 5);
        println!(
            "== drift (resync {} s; each window {} s)",
            self.s.resync_seconds,
            period.as_secs()
        );
        // A quiet period: nothing changed.
        self.stack.sim.reset_counters();
        self.seen().clear_writes();
        let kube_before = self.emulator_stats();
        tokio::time::sleep(period).await;
        let c = self.stack.sim.counters();
        let writes = kube_writes(&kube_before, &self.emulator_stats());
        println!("-- nothing drifted");
        self.print_twilio("twilio calls", &c, n);
        self.print_kube("kubernetes writes", &writes, n);
        println!("PhoneNumbers written        {}", self.seen().written.len());
        self.print_examples();
        // 1% drifted: every 100th number, alternately reconfigured and released outside.
        let targets: Vec<(String, String, usize)> = {
            let seen = self.seen();
            let mut names: Vec<&String> = seen.numbers.keys().collect();
            names.sort();
            names
                .into_iter()
                .step_by(100)
                .filter_map(|name| {
                    let idx: usize = name.trim_start_matches('n').parse().ok()?;
                    Some((name.clone(), seen.numbers.get(name)?.clone(), idx))
                })
                .collect()
        };
        let mut changed = BTreeSet::new();
        let mut released = BTreeSet::new();
        for (k, (name, number, idx)) in targets.iter().enumerate() {
            let sid = &self.sids[idx % self.s.accounts];
            if k % 2 == 0 {
                if self.stack.sim.update_out_of_band(
                    sid,
                    number,
                    None,
                    Some("https://example.invalid/drifted"),
                ) {
                    changed.insert(name.clone());
                }
            } else if self.stack.sim.release_out_of_band(sid, number) {
                released.insert(name.clone());
            }
        }
        self.stack.sim.reset_counters();
        self.seen().clear_writes();
        let kube_before = self.emulator_stats();
        tokio::time::sleep(period).await;
        let c = self.stack.sim.counters();
        let writes = kube_writes(&kube_before, &self.emulator_stats());
        let written = self.seen().written.clone();
        let drifted: BTreeSet<String> = changed.union(&released).cloned().collect();
        println!(
            "-- 1% drifted: {} reconfigured outside, {} released outside",
            changed.len(),
            released.len()
        );
        self.print_twilio("twilio calls", &c, n);
        self.print_kube("kubernetes writes", &writes, n);
        println!(
            "PhoneNumbers written        {} (drifted and written {}, written not drifted {}, drifted not written {})",
            written.len(),
            written.intersection(&drifted).count(),
            written.difference(&drifted).count(),
            drifted.difference(&written).count()
        );
        println!(
            "    reconfigured written {} of {}, released written {} of {}",
            written.intersection(&changed).count(),
            changed.len(),
            written.intersection(&released).count(),
            released.len()
        );
        self.print_examples();
        let f = op.figures();
        println!(
            "operator peak RSS / CPU     {:.1} MiB (now {:.1} MiB) / {:.1} s",
            mib(f.hwm_kib),
            mib(f.rss_kib),
            f.cpu_seconds
        );
        Ok(())
    }
}

async fn run() -> Result<(), BenchError> {
    let s = Settings::from_env();
    let bin = operator_binary()?;
    let stack = Stack::start(StackOptions {
        start_operator: false,
        ..Default::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    stack
        .emulator
        .as_ref()
        .ok_or("no emulator")?
        .write_kubeconfig(&kubeconfig)?;
    let log =
        std::env::temp_dir().join(format!("operator-process-bench-{}.log", std::process::id()));
    eprintln!("operator log: {}", log.display());
    let mut bench = Bench {
        s,
        stack,
        bin,
        kubeconfig,
        log,
        sids: Vec::new(),
        seen: Arc::new(Mutex::new(Seen::default())),
        http: reqwest::Client::new(),
    };
    bench.setup().await?;
    let mut op = bench.converge().await?;
    if bench.s.phase("restart") || bench.s.phase("drift") {
        op = bench.restart(op).await?;
    }
    if bench.s.phase("drift") {
        bench.drift(&op).await?;
    }
    op.terminate()?;
    // The stand-ins shut down gracefully, which waits for their open connections (the
    // benchmark's own watch among them); the figures are printed already, so a teardown that
    // does not finish in time is reported, not waited for.
    if tokio::time::timeout(Duration::from_secs(15), bench.stack.shutdown())
        .await
        .is_err()
    {
        eprintln!("the emulator and simulator did not shut down within 15 s; exiting anyway");
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    };
    // Tasks still running (a watch of a stand-in that was not shut down) do not hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(5));
    code
}
