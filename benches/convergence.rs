//! Convergence benchmark (SPEC §5): N PhoneNumbers applied at once against the Twilio simulator
//! with injected latency and the per-account concurrency cap, on the Kubernetes API emulator.
//!
//! Reports: time to all Ready and its ratio to the bound set by the cap
//! (numbers × Twilio calls per number × latency ÷ cap), Twilio calls per number, Kubernetes
//! writes per number, and the process's peak RSS.
//!
//! Run: `cargo bench --bench convergence` (env: `BENCH_NUMBERS`, default 1000;
//! `BENCH_LATENCY_MS`, default 50; `BENCH_CAP`, default 10). Figures go to BENCHMARKS.md by hand.

use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::time::{Duration, Instant};
use telephony_operator::api::{PhoneNumber, TelephonyAccount};
use telephony_operator::sandbox::examples::{BYO_ACCOUNT_SID, BYO_AUTH_TOKEN};
use telephony_operator::sandbox::stack::{Stack, StackOptions};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ready(pn: &PhoneNumber) -> bool {
    pn.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

fn main() {
    let numbers = env_u64("BENCH_NUMBERS", 1000) as usize;
    let latency_ms = env_u64("BENCH_LATENCY_MS", 50);
    let cap = env_u64("BENCH_CAP", 10) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut stack = Stack::start(StackOptions { start_operator: false, resync_seconds: 3600, ..Default::default() })
            .await
            .expect("stack starts");
        stack.config.twilio_account_concurrency = cap;
        stack.config.reconcile_concurrency = 256;
        let client = stack.client.clone();
        let ns = "bench";
        Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
            .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap())
            .await
            .expect("namespace");
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "twilio", "namespace": ns},
            "stringData": {"accountSid": BYO_ACCOUNT_SID, "authToken": BYO_AUTH_TOKEN}});
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), ns)
            .patch("twilio", &PatchParams::apply("bench"), &Patch::Apply(secret))
            .await
            .expect("secret");
        let account = json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "acct", "namespace": ns},
            "spec": {"mode": "BringYourOwn", "friendlyName": "bench", "credentialsSecretRef": {"name": "twilio"}}});
        Api::<TelephonyAccount>::namespaced(client.clone(), ns)
            .patch("acct", &PatchParams::apply("bench"), &Patch::Apply(account))
            .await
            .expect("account");
        let pns = Api::<PhoneNumber>::namespaced(client.clone(), ns);
        // Area codes spread the searches the way real teams would.
        let areas = [212u16, 214, 305, 312, 415, 503, 512, 617, 646, 702, 718, 808, 310, 206, 303, 404];
        for i in 0..numbers {
            let pn = json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
                "metadata": {"name": format!("n{i:05}"), "namespace": ns},
                "spec": {"accountRef": {"name": "acct"},
                         "search": {"country": "US", "type": "Local", "areaCode": areas[i % areas.len()]}}});
            pns.create(&PostParams::default(), &serde_json::from_value(pn).unwrap()).await.expect("create");
        }
        stack.sim.set_faults(twilio_sim::FaultConfig { latency_ms, ..Default::default() });
        let twilio_before = stack.sim.counters().total_requests;
        let kube_before = stack.emulator.as_ref().map(|e| e.stats()).expect("emulator");
        let started = Instant::now();
        stack.start_operator().expect("operator starts");
        loop {
            let list = pns.list(&ListParams::default()).await.expect("list");
            let done = list.items.iter().filter(|p| ready(p)).count();
            if done == numbers {
                break;
            }
            if started.elapsed().as_secs().is_multiple_of(5) && started.elapsed().subsec_millis() < 200 {
                let phases: std::collections::BTreeMap<String, usize> = list.items.iter().fold(Default::default(), |mut m, p| {
                    let reason = p.status.as_ref().and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready")).map(|c| c.reason.clone()).unwrap_or_else(|| "none".into());
                    *m.entry(reason).or_default() += 1;
                    m
                });
                eprintln!("[{:>5.1}s] {done}/{numbers} Ready {phases:?}", started.elapsed().as_secs_f64());
            }
            if started.elapsed() > Duration::from_secs(1800) {
                panic!("only {done}/{numbers} Ready after 30 minutes");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let elapsed = started.elapsed();
        let counters = stack.sim.counters();
        let kube_after = stack.emulator.as_ref().map(|e| e.stats()).expect("emulator");
        let twilio_calls = counters.total_requests - twilio_before;
        let kube_writes = (kube_after.creates + kube_after.updates + kube_after.patches + kube_after.deletes)
            - (kube_before.creates + kube_before.updates + kube_before.patches + kube_before.deletes);
        let purchases = stack.sim.purchase_log().len();
        let calls_per_number = twilio_calls as f64 / numbers as f64;
        let bound = Duration::from_secs_f64(numbers as f64 * calls_per_number * latency_ms as f64 / 1000.0 / cap as f64);
        let distinct: std::collections::BTreeSet<String> = pns
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .iter()
            .filter_map(|p| p.status.as_ref().and_then(|s| s.phone_number.clone()).map(|n| format!("{n}:{}", p.name_any())))
            .collect();
        println!("numbers                     {numbers}");
        println!("latency / cap               {latency_ms} ms / {cap}");
        println!("time to all Ready           {:.2} s", elapsed.as_secs_f64());
        println!("bound (n x calls x lat/cap) {:.2} s", bound.as_secs_f64());
        println!("ratio                       {:.3}", elapsed.as_secs_f64() / bound.as_secs_f64().max(1e-9));
        println!("twilio calls per number     {calls_per_number:.3}");
        println!("kubernetes writes / number  {:.3} (incl. events)", kube_writes as f64 / numbers as f64);
        println!("purchases                   {purchases} (distinct numbers in status: {})", distinct.len());
        println!("peak RSS (whole process)    {} MiB", peak_rss_kib().unwrap_or(0) / 1024);
        stack.shutdown().await;
    });
}
