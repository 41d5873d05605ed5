//! High availability on a real kube-apiserver: operator processes (the built binary, as the
//! operator's ServiceAccount, leader election on) hand the Lease over.
//!
//! - a standby is Ready (`/readyz` 200) while it does not lead (`telephony_operator_leader 0`);
//! - SIGTERM the leader: it stops its controllers and releases the Lease, and the standby
//!   leads within 2 s;
//! - kill -9 the leader: nothing releases the Lease; the standby leads once the lease duration
//!   (15 s) has passed since the last renewal it saw (plus at most one retry, 1 s);
//! - the new leader reconciles: a TelephonyAccount gets a status.
//!
//! "Leads" is what the process reports: its `telephony_operator_leader` gauge turns 1 once it
//! holds the Lease and starts its controllers. Needs no Twilio. Real-cluster only: skipped
//! (with a message) without `TELEPHONY_E2E_KUBECONFIG`; run it with
//! `tests/real-cluster/start.sh -- cargo test --test leader_failover -- --nocapture`.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use telephony_operator::api::TelephonyAccount;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const OPERATOR_NAMESPACE: &str = "telephony-system";
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RETRY: Duration = Duration::from_secs(1);

/// One operator process, killed when dropped.
struct Operator {
    name: String,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    metrics: SocketAddr,
}

impl Operator {
    fn start(name: &str, kubeconfig: &Path, lease: &str, selector: &str) -> Operator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_telephony-operator"))
            .args(["--log-json", "run", "--kubeconfig"])
            .arg(kubeconfig)
            .args(["--leader-election", "--lease-name", lease])
            .args([
                "--instance-id",
                name,
                "--operator-namespace",
                OPERATOR_NAMESPACE,
            ])
            .args([
                "--metrics-addr",
                "127.0.0.1:0",
                "--label-selector",
                selector,
            ])
            // Nothing here talks to Twilio; make sure nothing could.
            .args(["--twilio-api-base", "http://127.0.0.1:9"])
            .args(["--twilio-pricing-base", "http://127.0.0.1:9"])
            .env("RUST_LOG", "info,kube=warn,hyper=warn")
            .env_remove("WATCH_NAMESPACES")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the operator binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = serving_addr(&line) {
                    let _ = addr_tx.send(addr);
                }
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let metrics = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => panic!(
                "{name} never served /metrics; its log:\n{}",
                logs.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
            ),
        };
        Operator {
            name: name.into(),
            child,
            logs,
            metrics,
        }
    }

    fn log(&self) -> String {
        self.logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// `telephony_operator_leader` as served (`None`: not serving).
    async fn leader_gauge(&self) -> Option<i64> {
        let (_, body) = get(self.metrics, "/metrics").await?;
        body.lines()
            .find_map(|l| l.strip_prefix("telephony_operator_leader "))
            .and_then(|v| v.trim().parse().ok())
    }

    async fn ready(&self) -> bool {
        matches!(get(self.metrics, "/readyz").await, Some((200, _)))
    }

    /// Waits until the process reports `leader` (1 or 0) and is Ready; how long that took.
    async fn wait_until(&self, leader: i64, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if self.leader_gauge().await == Some(leader) && self.ready().await {
                return started.elapsed();
            }
            if started.elapsed() > within {
                panic!(
                    "{} did not report leader={leader} (and Ready) within {within:?}; its log:\n{}",
                    self.name,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {}", self.child.id());
    }

    /// Waits for the process to exit; its exit status.
    async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting on the child") {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "{} still runs {within:?} after the signal; its log:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The metrics address in the JSON log line "serving /metrics, /healthz and /readyz".
fn serving_addr(line: &str) -> Option<SocketAddr> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = &v["fields"];
    if !fields["message"].as_str()?.starts_with("serving /metrics") {
        return None;
    }
    fields["bound"].as_str()?.parse().ok()
}

/// A plain HTTP/1.1 GET on 127.0.0.1: status and body (`None`: no answer).
async fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        let status = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_string();
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()
        .flatten()
}

async fn client(path: &Path) -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(path).expect("kubeconfig reads");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("kubeconfig is usable");
    Client::try_from(config).expect("client")
}

async fn holder(leases: &Api<Lease>, name: &str) -> Option<String> {
    leases
        .get_opt(name)
        .await
        .expect("reading the Lease")
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{}", std::process::id(), nanos % 1_000_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_is_ready_and_takes_over_on_sigterm_and_on_kill() {
    let Some(admin_path) = std::env::var_os("TELEPHONY_E2E_KUBECONFIG").map(PathBuf::from) else {
        eprintln!(
            "skipped: set TELEPHONY_E2E_KUBECONFIG (tests/real-cluster/start.sh does) to run the leader failover on a real API server"
        );
        return;
    };
    telephony_operator::install_crypto_provider();
    let operator_path = std::env::var_os("TELEPHONY_E2E_OPERATOR_KUBECONFIG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| admin_path.clone());
    let admin = client(&admin_path).await;
    telephony_operator::sandbox::stack::install_crds(&admin)
        .await
        .expect("CRDs installed");
    let namespaces = Api::<Namespace>::all(admin.clone());
    if namespaces
        .get_opt(OPERATOR_NAMESPACE)
        .await
        .expect("reading the operator namespace")
        .is_none()
    {
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": OPERATOR_NAMESPACE}}))
                    .expect("namespace"),
            )
            .await
            .expect("operator namespace created");
    }
    let run = unique();
    let lease = format!("failover-{run}");
    let selector_value = format!("f{run}");
    let selector = format!("e2e.telephony.agni.ai/failover={selector_value}");
    let leases = Api::<Lease>::namespaced(admin.clone(), OPERATOR_NAMESPACE);

    // A leads; B, started next, is a Ready standby.
    let mut a = Operator::start("failover-a", &operator_path, &lease, &selector);
    let took = a.wait_until(1, Duration::from_secs(30)).await;
    eprintln!("a leads {took:?} after serving");
    let b = Operator::start("failover-b", &operator_path, &lease, &selector);
    b.wait_until(0, Duration::from_secs(30)).await;
    // Past a lease duration: B stays a standby while A renews, and stays Ready.
    tokio::time::sleep(LEASE_DURATION + Duration::from_secs(2)).await;
    assert_eq!(b.leader_gauge().await, Some(0), "b took a renewed Lease");
    assert!(b.ready().await, "the standby is Ready");
    assert_eq!(a.leader_gauge().await, Some(1));
    assert_eq!(holder(&leases, &lease).await.as_deref(), Some("failover-a"));

    // SIGTERM A: controllers stop, the Lease is released, B leads within 2 s.
    a.signal("-TERM");
    let sigterm = Instant::now();
    let handover = b.wait_until(1, Duration::from_secs(10)).await;
    eprintln!("SIGTERM to the leader: the standby leads after {handover:?}");
    let status = a.exited(Duration::from_secs(10)).await;
    assert!(status.success(), "a exits cleanly on SIGTERM: {status}");
    assert!(
        a.log().contains("released the leader lease"),
        "a released the Lease; its log:\n{}",
        a.log()
    );
    assert!(
        handover < Duration::from_secs(2),
        "the standby took {handover:?} (> 2 s) after SIGTERM to lead; its log:\n{}",
        b.log()
    );
    assert!(sigterm.elapsed() >= handover);
    assert_eq!(holder(&leases, &lease).await.as_deref(), Some("failover-b"));

    // kill -9 B: the Lease stays B's until it expires; C, a standby, then leads.
    let mut b = b;
    let c = Operator::start("failover-c", &operator_path, &lease, &selector);
    c.wait_until(0, Duration::from_secs(30)).await;
    // Let C observe at least one renewal of B's, then kill B at a random point of its 5 s
    // renewal period (the handover time depends on it; repeated runs sample the range).
    let offset = Duration::from_millis(rand::random_range(0..5000));
    tokio::time::sleep(Duration::from_secs(6) + offset).await;
    eprintln!("killing the leader {offset:?} into the period");
    let before_kill = leases
        .get(&lease)
        .await
        .expect("the Lease")
        .spec
        .unwrap_or_default();
    b.child.kill().expect("kill -9 b");
    let killed = Instant::now();
    let killed_at = jiff::Timestamp::now();
    let _ = b.exited(Duration::from_secs(5)).await;
    let takeover = c
        .wait_until(1, LEASE_DURATION + 3 * RETRY + Duration::from_secs(5))
        .await;
    let after_kill = killed.elapsed();
    // From B's last renewal (by the Lease) to C leading.
    let since_renewal = before_kill
        .renew_time
        .and_then(|renewed| Duration::try_from(killed_at.duration_since(renewed.0)).ok())
        .map(|before| before + after_kill);
    eprintln!(
        "kill -9 to the leader: the standby leads after {after_kill:?} (last renewal before the kill: {since_renewal:?} before the takeover; lease duration {LEASE_DURATION:?})"
    );
    assert!(takeover <= after_kill);
    // Bound: the lease duration after the last renewal C saw (seen within one retry of it),
    // plus one retry, plus a little for the requests on a loaded machine.
    assert!(
        after_kill <= LEASE_DURATION + 2 * RETRY + Duration::from_secs(2),
        "the standby took {after_kill:?} after kill -9 to lead; its log:\n{}",
        c.log()
    );
    assert_eq!(holder(&leases, &lease).await.as_deref(), Some("failover-c"));

    // The new leader acts: it reconciles a TelephonyAccount (its credentials are missing, which
    // it reports in the status; no Twilio involved).
    let ns = format!("failover-{run}");
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).expect("namespace"),
        )
        .await
        .expect("namespace created");
    let accounts = Api::<TelephonyAccount>::namespaced(admin.clone(), &ns);
    let account: TelephonyAccount = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "acct", "labels": {"e2e.telephony.agni.ai/failover": selector_value}},
        "spec": {"mode": "BringYourOwn", "friendlyName": "failover", "credentialsSecretRef": {"name": "absent"}}
    }))
    .expect("a TelephonyAccount");
    accounts
        .create(&PostParams::default(), &account)
        .await
        .expect("account created");
    let started = Instant::now();
    loop {
        let status = accounts.get("acct").await.expect("account").status;
        if status.is_some_and(|s| {
            serde_json::to_value(&s)
                .is_ok_and(|v| v["conditions"].as_array().is_some_and(|c| !c.is_empty()))
        }) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new leader did not reconcile the account; its log:\n{}",
            c.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "the new leader reconciled a TelephonyAccount {:?} after its creation",
        started.elapsed()
    );

    // Clean up while C runs (it removes its finalizer), then stop it.
    let _ = accounts.delete("acct", &DeleteParams::default()).await;
    let started = Instant::now();
    while accounts.get_opt("acct").await.ok().flatten().is_some()
        && started.elapsed() < Duration::from_secs(20)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(c);
    let _ = namespaces.delete(&ns, &DeleteParams::default()).await;
    let _ = leases.delete(&lease, &DeleteParams::default()).await;
}
