//! Engine tests against the Twilio simulator with an in-memory status store and ledger: the
//! exactly-once purchase under commit-then-fail, crashes between steps, write conflicts and two
//! racing reconcilers; budgets of Twilio calls and status writes; drift, lapse and deletion.

mod account_cache;
mod claims;
mod fake_twilio;
mod holds;
mod lifecycle;
mod memory;
mod purchase;
mod stack;

use super::engine::{CleanupEnv, EngineError, Env, Step, drive, drive_cleanup};
use super::observe;
use crate::api::{AccountMode, Phase, PhoneNumber, PhoneNumberSpec};
use crate::clock::{Clock, ManualClock};
use crate::controller::inventory::InventoryCache;
use crate::reconcile::phone_number::{
    AccountView, CleanupObserved, Observed, PriceQuote, PriceSource,
};
use crate::twilio::{AccountApi, Credentials, Routing, Secret, TwilioClient, TwilioClientConfig};
use jiff::{SignedDuration, Timestamp};
use memory::MemoryEffects;
use rust_decimal::Decimal;
use std::time::Duration;
use twilio_sim::{FaultConfig, SeedAccount, SimConfig, Simulator};

pub const SID: &str = "AC00000000000000000000000000000abc";

pub struct Harness {
    pub sim: Simulator,
    pub _server: twilio_sim::SimServer,
    pub api: AccountApi,

    pub clock: ManualClock,
    pub mode: AccountMode,
}

pub async fn harness(mode: AccountMode) -> Harness {
    harness_with(mode, |_| {}).await
}

/// A harness whose simulator is configured by `configure` first.
pub async fn harness_with(mode: AccountMode, configure: impl FnOnce(&mut SimConfig)) -> Harness {
    let seed = SeedAccount {
        sid: SID.into(),
        auth_token: "token-not-logged".into(),
        friendly_name: "test".into(),
        balance: Decimal::new(10_000, 2),
        account_type: "Full".into(),
    };
    let mut config = SimConfig {
        accounts: vec![seed],
        ..Default::default()
    };
    configure(&mut config);
    let sim = Simulator::new(config);
    let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base: url::Url = server.base_url().parse().unwrap();
    let config = TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base,
        timeout: Duration::from_secs(5),
        max_retries: 2,
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        ..Default::default()
    };
    let client = TwilioClient::new(config).unwrap();
    let creds = Credentials::AuthToken {
        account_sid: SID.into(),
        auth_token: Secret::new("token-not-logged".to_string()),
    };
    let api = client.account(&creds, &Routing::default());
    let clock = ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap());
    Harness {
        sim,
        _server: server,
        api,
        clock,
        mode,
    }
}

pub fn search_spec(area_code: Option<u16>) -> PhoneNumberSpec {
    serde_json::from_value(serde_json::json!({
        "accountRef": {"name": "acct"},
        "search": {"country": "US", "type": "Local", "areaCode": area_code},
        "friendlyName": "Support line",
        "voice": {"url": "https://example.com/voice"}
    }))
    .unwrap()
}

pub fn number_spec(n: &str) -> PhoneNumberSpec {
    serde_json::from_value(serde_json::json!({"accountRef": {"name": "acct"}, "number": n}))
        .unwrap()
}

pub fn object(spec: PhoneNumberSpec) -> PhoneNumber {
    let mut p = PhoneNumber::new("pn1", spec);
    p.metadata.namespace = Some("team-a".into());
    p.metadata.generation = Some(1);
    p.metadata.uid = Some("uid-1".into());
    p
}

pub fn quote(mode: AccountMode) -> PriceQuote {
    PriceQuote {
        currency: "USD".into(),
        monthly_fee: Decimal::new(115, 2),
        inbound_per_minute: Some(Decimal::new(85, 4)),
        outbound_per_minute: Some(Decimal::new(945, 4)),
        source: if mode == AccountMode::Managed {
            PriceSource::RateCard
        } else {
            PriceSource::TwilioPricingApi
        },
        fetched_at: None,
    }
}

/// One reconcile of the stored object, as the controller runs it (with its own inventory cache
/// per "replica").
pub async fn reconcile(
    h: &Harness,
    fx: &MemoryEffects,
    inventory: &InventoryCache,
    crash: Option<&(dyn Fn(Step) -> bool + Send + Sync)>,
) -> Result<(PhoneNumber, Option<Timestamp>), EngineError> {
    reconcile_with(h, fx, inventory, crash, None).await
}

/// [`reconcile`], with the credits balance the account's status shows (Managed).
pub async fn reconcile_with(
    h: &Harness,
    fx: &MemoryEffects,
    inventory: &InventoryCache,
    crash: Option<&(dyn Fn(Step) -> bool + Send + Sync)>,
    credits_balance: Option<Decimal>,
) -> Result<(PhoneNumber, Option<Timestamp>), EngineError> {
    let pn = fx.get();
    let mut obs = Observed::new(
        h.clock.now(),
        AccountView::Usable {
            mode: h.mode,
            account_sid: SID.into(),
        },
    );
    obs.price = Some(quote(h.mode));
    obs.credits_balance = credits_balance;
    obs.owned = observe::ownership(inventory, &h.api, &pn, Duration::from_secs(300)).await?;
    let env = Env {
        effects: fx,
        api: &h.api,
        inventory,
        clock: &h.clock,
        metrics: None,
        crash,
    };
    drive(&env, pn, obs).await
}

/// Reconciles until the object is Active (advancing the clock past the in-flight window each
/// time), at most `rounds` times.
pub async fn converge(
    h: &Harness,
    fx: &MemoryEffects,
    inventory: &InventoryCache,
    rounds: usize,
) -> PhoneNumber {
    for _ in 0..rounds {
        let _ = reconcile(h, fx, inventory, None).await;
        let pn = fx.get();
        let st = pn.status.clone().unwrap_or_default();
        if st.phase == Some(Phase::Active) && st.purchase_intent.is_none() {
            return pn;
        }
        h.clock.advance(SignedDuration::from_mins(2));
    }
    panic!("did not converge: {:?}", fx.get().status);
}

/// Exactly one number bought, it is the one in status, and (Managed) charged exactly once.
pub fn assert_exactly_one(h: &Harness, fx: &MemoryEffects, pn: &PhoneNumber) {
    let log = h.sim.purchase_log();
    assert_eq!(log.len(), 1, "purchases: {log:?}");
    let st = pn.status.as_ref().unwrap();
    assert_eq!(
        st.phone_number.as_deref(),
        Some(log[0].phone_number.as_str())
    );
    assert_eq!(st.sid.as_deref(), Some(log[0].sid.as_str()));
    let owned: Vec<String> = h
        .sim
        .owned_numbers(SID)
        .into_iter()
        .map(|n| n.phone_number)
        .collect();
    assert_eq!(owned, vec![log[0].phone_number.clone()]);
    if h.mode == AccountMode::Managed {
        assert_eq!(
            fx.settled(),
            vec![("uid-1/p1".to_string(), Decimal::new(115, 2))]
        );
        assert!(fx.held().is_empty(), "no hold left behind");
    } else {
        assert!(fx.settled().is_empty());
    }
}

pub fn faults(commit_then_fail_rate: f64) -> FaultConfig {
    FaultConfig {
        commit_then_fail_rate,
        ..Default::default()
    }
}

pub async fn cleanup(
    h: &Harness,
    fx: &MemoryEffects,
    inventory: &InventoryCache,
) -> Result<(), EngineError> {
    cleanup_held(h, fx, inventory, jiff::SignedDuration::ZERO).await
}

/// Deletion with a quarantine window: the number is handed to the account (`ACCOUNT`) first.
pub async fn cleanup_held(
    h: &Harness,
    fx: &MemoryEffects,
    inventory: &InventoryCache,
    window: jiff::SignedDuration,
) -> Result<(), EngineError> {
    let pn = fx.get();
    let account = AccountView::Usable {
        mode: h.mode,
        account_sid: SID.into(),
    };
    let obs = CleanupObserved::new(account, h.clock.now(), window);
    let holder = crate::controller::claims::AccountHolder {
        namespace: kube::ResourceExt::namespace(&pn).unwrap_or_default(),
        name: pn.spec.account_ref.name.clone(),
        uid: ACCOUNT_UID.into(),
    };
    let env = CleanupEnv {
        effects: fx,
        api: Some(&h.api),
        account: Some(&holder),
        inventory,
        clock: &h.clock,
        metrics: None,
    };
    drive_cleanup(&env, &pn, obs).await
}

/// The uid of the account in these tests.
pub const ACCOUNT_UID: &str = "account-uid-1";
