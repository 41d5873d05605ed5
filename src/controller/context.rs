//! State shared by every reconcile: clients, clock, configuration, caches, events, metrics.
//! Everything an operator instance remembers between reconciles lives here (no process globals),
//! so two operators in one process (tests) never share state.

use super::account::verified::VerifiedAccounts;
use super::claims::Claims;
use super::credits::CreditQueues;
use super::events::EventPublisher;
use super::inventory::InventoryCache;
use super::metrics::Metrics;
use super::pricing::PricingCache;
use crate::billing::RateCard;
use crate::clock::SharedClock;
use crate::config::OperatorConfig;
use crate::twilio::TwilioClient;
use kube::runtime::events::Reporter;

/// The reporting controller named in events: the operator, qualified by its API group.
pub const REPORTING_CONTROLLER: &str = "telephony.agni.ai/telephony-operator";

/// Kubernetes refuses an event whose note is longer than 1 kB (1024 bytes).
pub const MAX_EVENT_NOTE_BYTES: usize = 1024;

/// `note` cut to at most [`MAX_EVENT_NOTE_BYTES`] bytes, on a character boundary.
pub fn event_note(note: &str) -> String {
    if note.len() <= MAX_EVENT_NOTE_BYTES {
        return note.to_string();
    }
    let mut end = MAX_EVENT_NOTE_BYTES;
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    note[..end].to_string()
}

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
    /// Kubernetes events (series remembered in a bounded LRU).
    pub events: EventPublisher,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Accounts whose Twilio connection was verified recently (aged on `clock`).
    pub verified: VerifiedAccounts,
    /// Per-account queues of credit operations (group commit of the ledger's status writes).
    pub credit_queues: CreditQueues,
    /// One number, one owner: claims per Twilio account SID (Leases in the operator's namespace).
    pub claims: Claims,
    /// Credentials `account_access::access_for` read recently (shared by a burst of reconciles).
    pub credentials: super::account_access::CredentialsCache,
    /// The PhoneNumber controller's caches, read by the account controller's inventory summary.
    pub phone_numbers: super::phone_number_caches::PhoneNumberCaches,
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
            controller: REPORTING_CONTROLLER.into(),
            instance: config.instance_id.clone(),
        };
        let metrics = Metrics::default();
        twilio.observe_requests(metrics.twilio_observer());
        metrics.export_client_stats(twilio.clone());
        Self {
            events: EventPublisher::new(kube.clone(), reporter),
            claims: Claims::new(kube.clone(), &config.operator_namespace),
            kube,
            twilio,
            // Snapshot times are stamped on the operator's clock, like everything else.
            inventory: InventoryCache::with_clock(clock.clone()),
            verified: VerifiedAccounts::new(clock.clone()),
            credit_queues: CreditQueues::default(),
            credentials: Default::default(),
            phone_numbers: Default::default(),
            clock,
            config,
            rate_card,
            pricing: PricingCache::default(),
            metrics,
        }
    }
}

/// A Context for tests of one piece of a controller: `kube` is whatever API server the test
/// stands in (a `tower::service_fn`), Twilio is unreachable (127.0.0.1:9), the clock is manual.
#[cfg(test)]
pub(crate) fn for_tests(kube: kube::Client) -> std::sync::Arc<Context> {
    let base: url::Url = "http://127.0.0.1:9".parse().expect("a fixed URL");
    let twilio = TwilioClient::new(crate::twilio::TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base.clone(),
        ..Default::default()
    })
    .expect("a client without I/O");
    let clock = std::sync::Arc::new(crate::clock::ManualClock::new(
        "2026-03-01T12:00:00Z".parse().expect("a fixed time"),
    ));
    std::sync::Arc::new(Context::new(
        kube,
        twilio,
        clock,
        OperatorConfig::for_local(&base),
        RateCard::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reporting_controller_is_qualified_by_the_api_group() {
        assert_eq!(
            REPORTING_CONTROLLER,
            format!("{}/telephony-operator", crate::api::GROUP)
        );
    }

    #[test]
    fn event_notes_are_cut_to_1_kb_on_a_char_boundary() {
        assert_eq!(event_note("short"), "short");
        let ascii = "a".repeat(5000);
        assert_eq!(event_note(&ascii).len(), MAX_EVENT_NOTE_BYTES);
        // 3-byte characters: 1024 is not a boundary, the cut falls back to 1023.
        let wide = "€".repeat(1000);
        let cut = event_note(&wide);
        assert_eq!(cut.len(), 1023);
        assert!(cut.chars().all(|c| c == '€'));
        let exact = "b".repeat(MAX_EVENT_NOTE_BYTES);
        assert_eq!(event_note(&exact), exact);
    }
}
