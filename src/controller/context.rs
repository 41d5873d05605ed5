//! State shared by every reconcile: clients, clock, configuration, caches, events, metrics.
//! Everything an operator instance remembers between reconciles lives here (no process globals),
//! so two operators in one process (tests) never share state.

use super::account::verified::VerifiedAccounts;
use super::claims::Claims;
use super::credits::CreditQueues;
use super::inventory::InventoryCache;
use super::metrics::Metrics;
use super::pricing::PricingCache;
use crate::billing::RateCard;
use crate::clock::SharedClock;
use crate::config::OperatorConfig;
use crate::twilio::TwilioClient;
use kube::runtime::events::{Recorder, Reporter};

/// Handed (in an `Arc`) to every reconcile of both controllers.
pub struct Context {
    /// Kubernetes client.
    pub kube: kube::Client,
    /// Twilio client (per-account limits live inside it).
    pub twilio: TwilioClient,
    /// The one clock every time decision reads.
    pub clock: SharedClock,
    /// Operator configuration.
    pub config: OperatorConfig,
    /// Managed prices.
    pub rate_card: RateCard,
    /// One inventory list per Twilio account per resync, shared by all its numbers.
    pub inventory: InventoryCache,
    /// Twilio Pricing API answers, cached per account and country.
    pub pricing: PricingCache,
    /// Kubernetes events.
    pub recorder: Recorder,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Accounts whose Twilio connection was verified recently (aged on `clock`).
    pub verified: VerifiedAccounts,
    /// Per-account queues of credit operations (group commit of the ledger's status writes).
    pub credit_queues: CreditQueues,
    /// One number, one owner: claims per Twilio account SID (Leases in the operator's namespace).
    pub claims: Claims,
}

impl Context {
    /// Builds the context; `instance` names this replica in events.
    pub fn new(
        kube: kube::Client,
        twilio: TwilioClient,
        clock: SharedClock,
        config: OperatorConfig,
        rate_card: RateCard,
    ) -> Self {
        let reporter = Reporter {
            controller: "telephony-operator".into(),
            instance: config.instance_id.clone(),
        };
        Self {
            recorder: Recorder::new(kube.clone(), reporter),
            claims: Claims::new(kube.clone(), &config.operator_namespace),
            kube,
            twilio,
            // Snapshot times are stamped on the operator's clock, like everything else.
            inventory: InventoryCache::with_clock(clock.clone()),
            verified: VerifiedAccounts::new(clock.clone()),
            credit_queues: CreditQueues::default(),
            clock,
            config,
            rate_card,
            pricing: PricingCache::default(),
            metrics: Metrics::default(),
        }
    }
}
