//! Prometheus metrics of the operator, served on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of per-kind metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

/// Labels of per-action metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: String,
}

/// Every metric the operator exports.
#[derive(Default)]
pub struct Metrics {
    /// Reconciles run, by kind.
    pub reconciliations: Family<KindLabels, Counter>,
    /// Reconciles that failed, by kind.
    pub reconcile_errors: Family<KindLabels, Counter>,
    /// Actions taken at Twilio or on credits: purchase, adoption, release, renewal, charge, lapse.
    pub actions: Family<ActionLabels, Counter>,
    /// 1 while this replica runs the controllers (it holds the leader Lease, or runs without
    /// leader election), 0 while it waits as a standby or shuts down.
    pub leader: Gauge,
}

impl Metrics {
    pub fn reconciled(&self, kind: &str) {
        self.reconciliations
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }
    pub fn failed(&self, kind: &str) {
        self.reconcile_errors
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }
    pub fn action(&self, action: &str) {
        self.actions
            .get_or_create(&ActionLabels {
                action: action.into(),
            })
            .inc();
    }

    /// A registry exposing these metrics (clones share the same values).
    pub fn registry(&self) -> Registry {
        let mut registry = Registry::with_prefix("telephony_operator");
        registry.register(
            "reconciliations",
            "Reconciles run",
            self.reconciliations.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconciles that failed",
            self.reconcile_errors.clone(),
        );
        registry.register(
            "actions",
            "Actions taken at Twilio or on credits",
            self.actions.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica runs the controllers (holds the leader Lease), 0 on standby",
            self.leader.clone(),
        );
        registry
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
