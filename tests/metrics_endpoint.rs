//! End to end, `/metrics` of a running operator (emulator and Twilio simulator): a number is
//! bought, then the endpoint is scraped over HTTP and parsed with an exposition-format parser
//! (`prometheus-parse`, not the encoder that wrote it). Reconciles, Twilio requests by code,
//! the purchase, numbers by phase and account, leader and build info are all there, and no
//! label names a number. With `PROMTOOL` set to a promtool binary the scrape is also checked by
//! `promtool check metrics` (tests/real-cluster/suites.d/monitoring.sh sets it).

#[path = "e2e/common.rs"]
mod common;

use common::*;
use std::net::SocketAddr;
use telephony_operator::sandbox::stack::StackOptions;

/// A free port on 127.0.0.1 (bound, read, released).
fn free_local_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr")
}

fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{metric}: not a single value: {other:?}"),
        })
        .reduce(|a, b| a + b)
}

async fn scrape(addr: SocketAddr) -> (String, String) {
    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics");
    assert!(resp.status().is_success(), "{}", resp.status());
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (content_type, resp.text().await.expect("body"))
}

fn promtool_check_metrics(promtool: &std::ffi::OsStr, args: &[&str], body: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write the scrape to promtool");
    let out = child.wait_with_output().expect("promtool ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `promtool check metrics` on the scrape, when `PROMTOOL` names the binary: it must parse,
/// and promlint must find nothing but one artefact of the format. promtool reads the
/// Prometheus text format, where a counter's family is named with its `_total`; in OpenMetrics
/// (what the operator serves, and what Prometheus negotiates) the family `x` has the samples
/// `x_total`, so promlint reports `x_total no help text` although `# HELP x` is there.
fn promtool_check(body: &str) {
    let Some(promtool) = std::env::var_os("PROMTOOL") else {
        eprintln!("PROMTOOL not set: `promtool check metrics` skipped");
        return;
    };
    let (parsed, out) = promtool_check_metrics(&promtool, &["--extended", "--lint=none"], body);
    assert!(parsed, "promtool check metrics --extended: {out}\n{body}");
    let (_, out) = promtool_check_metrics(&promtool, &["--lint=all"], body);
    let problems: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let family = l
                .strip_suffix("_total no help text")
                .filter(|f| !f.contains(' '));
            !family.is_some_and(|f| {
                let help = format!("# HELP {f} ");
                body.lines().any(|b| b.starts_with(&help))
            })
        })
        .collect();
    assert!(
        problems.is_empty(),
        "promtool check metrics: {problems:#?}\n{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_metrics_endpoint_serves_the_operator_metrics() {
    let mut stack = emulator_stack(StackOptions {
        start_operator: false,
        ..StackOptions::default()
    })
    .await;
    let addr = free_local_addr();
    stack.config.metrics_addr = addr;
    stack.start_operator().expect("operator starts");
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "metrics").await;
    apply(&client, &ns, search_number("line", 415)).await;
    wait_ready(&client, &ns, "line").await;

    // The gauges are read from the controllers' caches: wait until the cache has the Active
    // number (it lags the write that made it Ready by a watch event).
    let acct = [("namespace", ns.as_str()), ("account", "acct")];
    let active = [acct[0], acct[1], ("phase", "Active")];
    let mut last = String::new();
    let mut parsed = None;
    for _ in 0..100 {
        let (content_type, body) = scrape(addr).await;
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        let s = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
            .expect("the scrape parses");
        if value(&s, "telephony_operator_phone_numbers", &active) == Some(1.0) {
            last = body;
            parsed = Some(s);
            break;
        }
        last = body;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let s = parsed.unwrap_or_else(|| panic!("no Active number in the scrape:\n{last}"));

    let ok = [("controller", "PhoneNumber"), ("result", "success")];
    assert!(
        value(&s, "telephony_operator_reconciliations_total", &ok) >= Some(1.0),
        "{last}"
    );
    let ok = [("controller", "TelephonyAccount"), ("result", "success")];
    assert!(
        value(&s, "telephony_operator_reconciliations_total", &ok) >= Some(1.0),
        "{last}"
    );
    let pn = [("controller", "PhoneNumber")];
    assert!(
        value(
            &s,
            "telephony_operator_reconcile_duration_seconds_count",
            &pn
        ) >= Some(1.0),
        "{last}"
    );
    let bought = [("operation", "buy"), ("code", "201")];
    assert_eq!(
        value(&s, "telephony_operator_twilio_requests_total", &bought),
        Some(1.0),
        "{last}"
    );
    let buy = [("operation", "buy")];
    assert_eq!(
        value(
            &s,
            "telephony_operator_twilio_request_duration_seconds_count",
            &buy
        ),
        Some(1.0),
        "{last}"
    );
    // The client's own counters (ClientStats) are exported too.
    for counter in [
        "telephony_operator_twilio_retries_total",
        "telephony_operator_twilio_throttled_total",
    ] {
        assert!(value(&s, counter, &[]).is_some(), "{counter}: {last}");
    }
    assert_eq!(
        value(&s, "telephony_operator_twilio_outcome_unknown_total", &[]),
        Some(0.0),
        "{last}"
    );
    let purchase = [("action", "purchase"), ("result", "success")];
    assert_eq!(
        value(&s, "telephony_operator_actions_total", &purchase),
        Some(1.0),
        "{last}"
    );
    assert_eq!(
        value(&s, "telephony_operator_leader", &[]),
        Some(1.0),
        "{last}"
    );
    let build = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(
        value(&s, "telephony_operator_build_info", &build),
        Some(1.0),
        "{last}"
    );
    assert!(
        s.samples
            .iter()
            .filter(|x| x.metric == "telephony_operator_build_info")
            .all(|x| x.labels.get("commit").is_some_and(|c| !c.is_empty())),
        "{last}"
    );
    let usd = [acct[0], acct[1], ("currency", "USD")];
    assert!(
        value(&s, "telephony_operator_next_renewals_cost", &usd).is_some_and(|v| v > 0.0),
        "{last}"
    );
    // Bounded labels: no E.164 number, no PhoneNumber name in any label.
    assert!(!last.contains("\"+1"), "{last}");
    assert!(
        s.samples.iter().all(|x| x.labels.get("name").is_none()),
        "{last}"
    );
    promtool_check(&last);
    stack.shutdown().await;
}

/// Item 4 of the observability issue: an event per transition, not per reconcile. A number
/// stalled by its price guard and its connected account are reconciled every second for a few
/// seconds; each reason is recorded once (a repeat would show as a second Event or a
/// `series.count` above 1), and every note fits in 1 kB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_events_are_recorded_once_per_transition() {
    use k8s_openapi::api::events::v1::Event;
    use kube::Api;
    let stack = emulator_stack(StackOptions {
        resync_seconds: 1,
        ..StackOptions::default()
    })
    .await;
    let client = stack.client.clone();
    let ns = byo_namespace(&client, "events").await;
    let mut guarded = search_number("guarded", 415);
    guarded["spec"]["maxMonthlyPrice"] = serde_json::json!("0.01");
    apply(&client, &ns, guarded).await;
    wait_number(&client, &ns, "guarded", "Stalled", |pn| {
        pn.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Stalled" && c.status == "True")
        })
    })
    .await;
    // Several resyncs of both objects.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let events = Api::<Event>::namespaced(client.clone(), &ns)
        .list(&Default::default())
        .await
        .expect("list events");
    let mut seen = std::collections::BTreeMap::<(String, String, String), i32>::new();
    for e in &events.items {
        let regarding = e
            .regarding
            .as_ref()
            .and_then(|r| r.name.clone())
            .unwrap_or_default();
        let reason = e.reason.clone().unwrap_or_default();
        let note = e.note.clone().unwrap_or_default();
        assert!(
            note.len() <= 1024,
            "{reason}: a note of {} bytes",
            note.len()
        );
        assert_eq!(
            e.reporting_controller.as_deref(),
            Some("telephony.agni.ai/telephony-operator"),
            "{e:?}"
        );
        let count = e.series.as_ref().map_or(1, |s| s.count);
        *seen
            .entry((regarding, reason, e.type_.clone().unwrap_or_default()))
            .or_default() += count;
    }
    assert!(
        seen.keys()
            .any(|(r, _, t)| r == "guarded" && t == "Warning"),
        "the stall was recorded: {seen:?}"
    );
    assert!(
        seen.keys().any(|(r, _, _)| r == "acct"),
        "the account's connection was recorded: {seen:?}"
    );
    eprintln!("events (object, reason, type) → times: {seen:?}");
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "recorded more than once: {repeated:?}");
    stack.shutdown().await;
}
