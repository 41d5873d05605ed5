//! Prometheus metrics of the operator, served on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
        registry
    }
}
