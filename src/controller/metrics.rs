//! Prometheus metrics of the operator, served on `/metrics` (every metric, its labels and the
//! alerts built on them: docs/metrics.md).
//!
//! Counters and histograms are updated where things happen (reconciles, Twilio requests,
//! actions). Gauges of state (numbers by phase, credits, costs) are computed on each scrape from
//! the controllers' caches of the PhoneNumbers and TelephonyAccounts, so a deleted object's
//! series disappear with it and a standby replica (no caches) exports none. Labels are bounded:
//! accounts as namespace and name, never a number.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::runtime::reflector::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::api::TelephonyAccount;
use crate::controller::compact_phone_number::CompactPhoneNumber;
use crate::twilio::TwilioClient;

/// Labels of per-controller metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

/// Labels of reconciles by outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub controller: String,
    /// `success` or `error`.
    pub result: String,
}

/// Labels of per-action metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: String,
    /// `success`, or why the action was refused (`insufficient_credits`).
    pub result: String,
}

/// Labels of Twilio requests by answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TwilioRequestLabels {
    pub operation: String,
    /// The HTTP status code, or `transport_error` when no answer arrived.
    pub code: String,
}

/// Labels of Twilio request latencies.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TwilioOperationLabels {
    pub operation: String,
}

/// Labels of the build info gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    commit: String,
}

/// Labels of numbers counted by phase.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    namespace: String,
    account: String,
    phase: String,
}

/// Labels of money gauges of an account.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MoneyLabels {
    namespace: String,
    account: String,
    currency: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;
type FloatGauge = Gauge<f64, AtomicU64>;

fn reconcile_histogram() -> Histogram {
    // 5 ms … ~82 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

fn twilio_histogram() -> Histogram {
    // 10 ms … ~41 s.
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

/// Every metric the operator exports.
pub struct Metrics {
    /// Reconciles run, by controller and result.
    pub reconciliations: Family<ReconcileLabels, Counter>,
    /// Reconciles that failed (error policy ran), by controller.
    pub reconcile_errors: Family<ControllerLabels, Counter>,
    /// Reconcile durations, by controller.
    pub reconcile_duration: HistogramFamily<ControllerLabels>,
    /// Actions taken at Twilio or on credits (purchase, adoption, release, renewal, lapse…), by
    /// result.
    pub actions: Family<ActionLabels, Counter>,
    /// Twilio HTTP requests (attempts, retries included), by operation and status code.
    pub twilio_requests: Family<TwilioRequestLabels, Counter>,
    /// Twilio HTTP request latencies, by operation.
    pub twilio_duration: HistogramFamily<TwilioOperationLabels>,
    /// 1 while this replica runs the controllers (it holds the leader Lease, or runs without
    /// leader election), 0 while it waits as a standby or shuts down.
    pub leader: Gauge,
    /// The controllers' caches the state gauges are computed from.
    caches: Arc<Caches>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            reconciliations: Family::default(),
            reconcile_errors: Family::default(),
            reconcile_duration: Family::new_with_constructor(reconcile_histogram),
            actions: Family::default(),
            twilio_requests: Family::default(),
            twilio_duration: Family::new_with_constructor(twilio_histogram),
            leader: Gauge::default(),
            caches: Arc::default(),
        }
    }
}

/// Times one reconcile; [`ReconcileTimer::finish`] records its duration and result.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    controller: &'static str,
    started: Instant,
}

impl ReconcileTimer<'_> {
    /// Records the reconcile as `success` (Ok) or `error` (Err) and its duration.
    pub fn finish<T, E>(self, result: &Result<T, E>) {
        let outcome = if result.is_ok() { "success" } else { "error" };
        self.metrics
            .reconciliations
            .get_or_create(&ReconcileLabels {
                controller: self.controller.into(),
                result: outcome.into(),
            })
            .inc();
        self.metrics
            .reconcile_duration
            .get_or_create(&ControllerLabels {
                controller: self.controller.into(),
            })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Metrics {
    /// Starts timing a reconcile of `controller`.
    pub fn reconcile_timer(&self, controller: &'static str) -> ReconcileTimer<'_> {
        ReconcileTimer {
            metrics: self,
            controller,
            started: Instant::now(),
        }
    }

    /// A reconcile ran whose outcome is not timed (controllers not yet using
    /// [`Metrics::reconcile_timer`]); counted with result `unknown`.
    pub fn reconciled(&self, controller: &str) {
        self.reconciliations
            .get_or_create(&ReconcileLabels {
                controller: controller.into(),
                result: "unknown".into(),
            })
            .inc();
    }

    /// The error policy ran for a reconcile of `controller`.
    pub fn failed(&self, controller: &str) {
        self.reconcile_errors
            .get_or_create(&ControllerLabels {
                controller: controller.into(),
            })
            .inc();
    }

    /// An action succeeded.
    pub fn action(&self, action: &str) {
        self.action_result(action, "success");
    }

    /// An action ended with `result` (`success`, or why it was refused).
    pub fn action_result(&self, action: &str, result: &str) {
        self.actions
            .get_or_create(&ActionLabels {
                action: action.into(),
                result: result.into(),
            })
            .inc();
    }

    /// A hook for [`crate::twilio::TwilioClient::observe_requests`]: the Twilio client reports
    /// each completed request here without depending on the controller.
    pub fn twilio_observer(
        &self,
    ) -> impl Fn(&'static str, Option<u16>, Duration) + Send + Sync + 'static + use<> {
        let requests = self.twilio_requests.clone();
        let duration = self.twilio_duration.clone();
        move |operation, status, elapsed| {
            let code = status.map_or_else(|| "transport_error".to_string(), |s| s.to_string());
            requests
                .get_or_create(&TwilioRequestLabels {
                    operation: operation.into(),
                    code,
                })
                .inc();
            duration
                .get_or_create(&TwilioOperationLabels {
                    operation: operation.into(),
                })
                .observe(elapsed.as_secs_f64());
        }
    }

    /// Computes the number gauges from `store` while the returned guard lives (one per running
    /// PhoneNumber controller).
    pub fn watch_numbers(&self, store: Store<CompactPhoneNumber>) -> CacheRegistration {
        let id = self.caches.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.caches.numbers).insert(id, store);
        CacheRegistration {
            caches: self.caches.clone(),
            id,
        }
    }

    /// Computes the account gauges from `store` while the returned guard lives (one per running
    /// TelephonyAccount controller).
    pub fn watch_accounts(&self, store: Store<TelephonyAccount>) -> CacheRegistration {
        let id = self.caches.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.caches.accounts).insert(id, store);
        CacheRegistration {
            caches: self.caches.clone(),
            id,
        }
    }

    /// Exports the retry, throttling and outcome-unknown counters `client` keeps (its
    /// `ClientStats`), read on each scrape.
    pub fn export_client_stats(&self, client: TwilioClient) {
        *lock(&self.caches.twilio) = Some(client);
    }

    /// A registry exposing these metrics (clones share the same values).
    pub fn registry(&self) -> Registry {
        let mut registry = Registry::with_prefix("telephony_operator");
        registry.register(
            "reconciliations",
            "Reconciles run, by controller and result",
            self.reconciliations.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconciles that failed, by controller",
            self.reconcile_errors.clone(),
        );
        registry.register_with_unit(
            "reconcile_duration",
            "Duration of reconciles, by controller",
            prometheus_client::registry::Unit::Seconds,
            self.reconcile_duration.clone(),
        );
        registry.register(
            "actions",
            "Actions taken at Twilio or on credits, by action and result",
            self.actions.clone(),
        );
        registry.register(
            "twilio_requests",
            "Twilio HTTP requests (retries included), by operation and status code",
            self.twilio_requests.clone(),
        );
        registry.register_with_unit(
            "twilio_request_duration",
            "Latency of Twilio HTTP requests, by operation",
            prometheus_client::registry::Unit::Seconds,
            self.twilio_duration.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica runs the controllers (holds the leader Lease), 0 on standby",
            self.leader.clone(),
        );
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").into(),
                commit: env!("TELEPHONY_GIT_COMMIT").into(),
            })
            .set(1);
        registry.register(
            "build_info",
            "Version and commit of the running operator (always 1)",
            build,
        );
        registry.register_collector(Box::new(self.caches.clone()));
        registry
    }
}

/// Keeps a controller cache in the state gauges; dropping it (the controller stopped) removes it.
pub struct CacheRegistration {
    caches: Arc<Caches>,
    id: u64,
}

impl Drop for CacheRegistration {
    fn drop(&mut self) {
        lock(&self.caches.numbers).remove(&self.id);
        lock(&self.caches.accounts).remove(&self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

#[derive(Default)]
struct Caches {
    next: AtomicU64,
    numbers: Mutex<BTreeMap<u64, Store<CompactPhoneNumber>>>,
    accounts: Mutex<BTreeMap<u64, Store<TelephonyAccount>>>,
    twilio: Mutex<Option<TwilioClient>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}

fn amount(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn encode_family<L, M>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    family: &Family<L, M>,
) -> Result<(), std::fmt::Error>
where
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq,
    M: EncodeMetric + TypedMetric + Default,
{
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    family.encode(metric)
}

impl Collector for Caches {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let numbers: Vec<Arc<CompactPhoneNumber>> = {
            let stores = lock(&self.numbers);
            let mut seen = std::collections::HashSet::new();
            // By namespace and name: the compact cache keeps no uid.
            stores
                .values()
                .flat_map(|s| s.state())
                .filter(|pn| seen.insert((pn.namespace(), pn.name_any())))
                .collect()
        };
        let accounts: Vec<Arc<TelephonyAccount>> = {
            let stores = lock(&self.accounts);
            let mut seen = std::collections::HashSet::new();
            stores
                .values()
                .flat_map(|s| s.state())
                .filter(|a| seen.insert(a.uid().unwrap_or_else(|| a.name_any())))
                .collect()
        };
        let by_phase: Family<PhaseLabels, Gauge> = Family::default();
        let renewals: Family<MoneyLabels, FloatGauge> = Family::default();
        for pn in &numbers {
            let summary = pn.summary();
            let phase = summary
                .phase
                .map_or_else(|| "Pending".to_string(), |p| p.to_string());
            let namespace = pn.namespace().unwrap_or_default();
            let account = summary.account.clone();
            if matches!(phase.as_str(), "Active" | "GracePeriod")
                && let (Some(currency), Some(fee)) = (
                    summary.currency.as_ref(),
                    summary.monthly_fee.as_deref().and_then(amount),
                )
            {
                renewals
                    .get_or_create(&MoneyLabels {
                        namespace: namespace.clone(),
                        account: account.clone(),
                        currency: currency.clone(),
                    })
                    .inc_by(fee);
            }
            by_phase
                .get_or_create(&PhaseLabels {
                    namespace,
                    account,
                    phase,
                })
                .inc();
        }
        let balance: Family<MoneyLabels, FloatGauge> = Family::default();
        let spent: Family<MoneyLabels, FloatGauge> = Family::default();
        let granted: Family<MoneyLabels, FloatGauge> = Family::default();
        let monthly: Family<MoneyLabels, FloatGauge> = Family::default();
        for account in &accounts {
            let Some(status) = account.status.as_ref() else {
                continue;
            };
            let namespace = account.namespace().unwrap_or_default();
            let name = account.name_any();
            if let Some(credits) = &status.credits {
                let labels = MoneyLabels {
                    namespace: namespace.clone(),
                    account: name.clone(),
                    currency: credits.currency.clone(),
                };
                for (family, value) in [
                    (&balance, &credits.balance),
                    (&spent, &credits.spent),
                    (&granted, &credits.granted),
                ] {
                    if let Some(v) = amount(value) {
                        family.get_or_create(&labels).set(v);
                    }
                }
            }
            if let Some(inventory) = &status.inventory
                && let (Some(cost), Some(currency)) = (
                    inventory.monthly_cost.as_deref().and_then(amount),
                    inventory.currency.clone(),
                )
            {
                monthly
                    .get_or_create(&MoneyLabels {
                        namespace,
                        account: name,
                        currency,
                    })
                    .set(cost);
            }
        }
        let stats = lock(&self.twilio).as_ref().map(TwilioClient::stats);
        if let Some(stats) = stats {
            for (name, help, value) in [
                (
                    "twilio_retries",
                    "Twilio requests retried (attempts after the first)",
                    stats.retries,
                ),
                (
                    "twilio_throttled",
                    "Twilio answers 429 Too Many Requests",
                    stats.throttled,
                ),
                (
                    "twilio_outcome_unknown",
                    "Twilio creates whose outcome is unknown (no answer, or 5xx): recovered by a lookup, never repeated blind",
                    stats.outcome_unknown,
                ),
            ] {
                let counter = ConstCounter::new(value);
                let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
                counter.encode(metric)?;
            }
        }
        encode_family(
            &mut encoder,
            "phone_numbers",
            "PhoneNumbers by account (namespace/name) and phase",
            &by_phase,
        )?;
        encode_family(
            &mut encoder,
            "next_renewals_cost",
            "Monthly fees of the account's Active and GracePeriod numbers: what their next renewals cost",
            &renewals,
        )?;
        encode_family(
            &mut encoder,
            "credits_balance",
            "Credits left in the current cycle of a Managed account",
            &balance,
        )?;
        encode_family(
            &mut encoder,
            "credits_spent",
            "Credits spent in the current cycle of a Managed account",
            &spent,
        )?;
        encode_family(
            &mut encoder,
            "credits_granted",
            "Credits granted for the current cycle of a Managed account",
            &granted,
        )?;
        encode_family(
            &mut encoder,
            "monthly_cost",
            "Monthly cost of the numbers in the account's Twilio inventory",
            &monthly,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(metrics: &Metrics) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &metrics.registry())
            .expect("metrics encode");
        out
    }

    fn store_of<K>(objects: Vec<K>) -> Store<K>
    where
        K: kube::Resource + Clone + std::fmt::Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone,
    {
        let (store, mut writer) = kube::runtime::reflector::store();
        for o in objects {
            writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(o));
        }
        store
    }

    fn number(name: &str, account: &str, phase: &str, fee: &str) -> CompactPhoneNumber {
        let pn: crate::api::PhoneNumber = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": name, "namespace": "team-a", "uid": format!("uid-{name}")},
            "spec": {"accountRef": {"name": account}},
            "status": {"phase": phase, "phoneNumber": "+15005550006",
                "pricing": {"currency": "USD", "monthlyFee": fee, "source": "RateCard"}},
        }))
        .expect("a PhoneNumber");
        CompactPhoneNumber::compact(pn)
    }

    fn managed_account() -> TelephonyAccount {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "main", "namespace": "team-a", "uid": "uid-main"},
            "spec": {"mode": "Managed"},
            "status": {
                "credits": {"currency": "USD", "granted": "10.00", "spent": "7.50", "balance": "2.50"},
                "inventory": {"managed": 2, "monthlyCost": "3.15", "currency": "USD"},
            },
        }))
        .expect("a TelephonyAccount")
    }

    fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {metric} {labels:?} in {:#?}", scrape.samples));
        match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            other => panic!("{metric}: not a single value: {other:?}"),
        }
    }

    #[test]
    fn the_registry_encodes_every_metric_in_the_exposition_format() {
        let metrics = Metrics::default();
        let timer = metrics.reconcile_timer("PhoneNumber");
        timer.finish(&Ok::<(), ()>(()));
        metrics
            .reconcile_timer("TelephonyAccount")
            .finish(&Err::<(), ()>(()));
        metrics.failed("TelephonyAccount");
        metrics.action("purchase");
        metrics.action_result("renewal", "insufficient_credits");
        let observe = metrics.twilio_observer();
        observe("buy", Some(201), Duration::from_millis(30));
        observe("buy", Some(500), Duration::from_millis(40));
        observe("list_incoming", None, Duration::from_secs(2));
        metrics.leader.set(1);
        let _numbers = metrics.watch_numbers(store_of(vec![
            number("a", "main", "Active", "1.15"),
            number("b", "main", "GracePeriod", "2.00"),
            number("c", "main", "Purchasing", "1.15"),
        ]));
        let accounts = metrics.watch_accounts(store_of(vec![managed_account()]));

        let text = encoded(&metrics);
        assert!(text.ends_with("# EOF\n"), "{text}");
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .expect("parse the exposition format");
        let ok = [("controller", "PhoneNumber"), ("result", "success")];
        assert_eq!(
            value(&scrape, "telephony_operator_reconciliations_total", &ok),
            1.0
        );
        let err = [("controller", "TelephonyAccount"), ("result", "error")];
        assert_eq!(
            value(&scrape, "telephony_operator_reconciliations_total", &err),
            1.0
        );
        let ctl = [("controller", "TelephonyAccount")];
        assert_eq!(
            value(&scrape, "telephony_operator_reconcile_errors_total", &ctl),
            1.0
        );
        assert_eq!(
            value(
                &scrape,
                "telephony_operator_reconcile_duration_seconds_count",
                &ctl
            ),
            1.0
        );
        let purchase = [("action", "purchase"), ("result", "success")];
        assert_eq!(
            value(&scrape, "telephony_operator_actions_total", &purchase),
            1.0
        );
        let refused = [("action", "renewal"), ("result", "insufficient_credits")];
        assert_eq!(
            value(&scrape, "telephony_operator_actions_total", &refused),
            1.0
        );
        for (code, n) in [("201", 1.0), ("500", 1.0)] {
            let l = [("operation", "buy"), ("code", code)];
            assert_eq!(
                value(&scrape, "telephony_operator_twilio_requests_total", &l),
                n
            );
        }
        let lost = [("operation", "list_incoming"), ("code", "transport_error")];
        assert_eq!(
            value(&scrape, "telephony_operator_twilio_requests_total", &lost),
            1.0
        );
        let buy = [("operation", "buy")];
        assert_eq!(
            value(
                &scrape,
                "telephony_operator_twilio_request_duration_seconds_count",
                &buy
            ),
            2.0
        );
        assert_eq!(value(&scrape, "telephony_operator_leader", &[]), 1.0);
        let build = [
            ("version", env!("CARGO_PKG_VERSION")),
            ("commit", env!("TELEPHONY_GIT_COMMIT")),
        ];
        assert_eq!(value(&scrape, "telephony_operator_build_info", &build), 1.0);
        let acct = [("namespace", "team-a"), ("account", "main")];
        for (phase, n) in [("Active", 1.0), ("GracePeriod", 1.0), ("Purchasing", 1.0)] {
            let l = [acct[0], acct[1], ("phase", phase)];
            assert_eq!(value(&scrape, "telephony_operator_phone_numbers", &l), n);
        }
        let usd = [acct[0], acct[1], ("currency", "USD")];
        // Active and GracePeriod numbers renew; a purchase in flight does not yet.
        assert!(
            (value(&scrape, "telephony_operator_next_renewals_cost", &usd) - 3.15).abs() < 1e-9
        );
        assert_eq!(
            value(&scrape, "telephony_operator_credits_balance", &usd),
            2.5
        );
        assert_eq!(
            value(&scrape, "telephony_operator_credits_spent", &usd),
            7.5
        );
        assert_eq!(
            value(&scrape, "telephony_operator_credits_granted", &usd),
            10.0
        );
        assert_eq!(
            value(&scrape, "telephony_operator_monthly_cost", &usd),
            3.15
        );
        // No number-level label anywhere.
        assert!(!text.contains("+1500"), "{text}");
        assert!(
            scrape
                .samples
                .iter()
                .all(|s| s.labels.get("name").is_none())
        );

        // A stopped controller's cache leaves the gauges with it.
        drop(accounts);
        let text = encoded(&metrics);
        assert!(
            !text.contains("telephony_operator_credits_balance{"),
            "{text}"
        );
        assert!(text.contains("telephony_operator_phone_numbers{"), "{text}");
    }

    #[test]
    fn the_leader_gauge_follows_the_replica_role() {
        let metrics = Metrics::default();
        assert!(
            encoded(&metrics).contains("\ntelephony_operator_leader 0\n"),
            "{}",
            encoded(&metrics)
        );
        metrics.leader.set(1);
        assert!(encoded(&metrics).contains("\ntelephony_operator_leader 1\n"));
        metrics.leader.set(0);
        assert!(encoded(&metrics).contains("\ntelephony_operator_leader 0\n"));
    }
}
