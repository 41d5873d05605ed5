//! The engine against an in-memory Twilio (`TwilioPort`), no HTTP: the step order and the call
//! budget of a purchase are the engine's own, whatever carries the calls.

use super::*;
use crate::twilio::{
    AvailableNumber, ConfigField, ErrorClass, IncomingFilter, IncomingNumber, NumberConfig,
    PurchaseRequest, SearchQuery, TwilioError, TwilioPort,
};
use std::sync::Mutex;

#[derive(Default)]
struct Fake {
    available: Vec<String>,
    owned: Vec<IncomingNumber>,
    calls: Vec<&'static str>,
    /// Buys time out (outcome unknown) and lists fail (retryable) while set.
    outage: bool,
}

/// One Twilio account in memory: offers `available`, owns what was bought.
struct FakeTwilio(Mutex<Fake>);

impl FakeTwilio {
    fn new(available: &[&str]) -> Self {
        FakeTwilio(Mutex::new(Fake {
            available: available.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }))
    }
    fn calls(&self) -> Vec<&'static str> {
        self.0.lock().unwrap().calls.clone()
    }
}

fn available(n: &str) -> AvailableNumber {
    serde_json::from_value(serde_json::json!({"phone_number": n, "iso_country": "US"})).unwrap()
}

impl TwilioPort for FakeTwilio {
    fn account_sid(&self) -> &str {
        SID
    }
    async fn search_available(
        &self,
        _q: &SearchQuery,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        let mut f = self.0.lock().unwrap();
        f.calls.push("search");
        Ok(f.available.iter().map(|n| available(n)).collect())
    }
    async fn buy(&self, req: &PurchaseRequest) -> Result<IncomingNumber, TwilioError> {
        let mut f = self.0.lock().unwrap();
        f.calls.push("buy");
        if f.outage {
            return Err(TwilioError::new(
                ErrorClass::OutcomeUnknown,
                "buy",
                "timed out",
            ));
        }
        let number = req
            .phone_number
            .clone()
            .expect("the engine buys a chosen number");
        f.available.retain(|n| *n != number);
        let sid = format!("PN{:032}", f.owned.len() + 1);
        let mut bought: IncomingNumber = serde_json::from_value(serde_json::json!({
            "sid": sid, "account_sid": SID, "phone_number": number, "status": "in-use",
        }))
        .unwrap();
        bought.config = req.config.clone();
        if bought.config[ConfigField::FriendlyName].is_none() {
            bought.config[ConfigField::FriendlyName] = Some(number.clone());
        }
        f.owned.push(bought.clone());
        Ok(bought)
    }
    async fn list_incoming(
        &self,
        filter: &IncomingFilter,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        let mut f = self.0.lock().unwrap();
        f.calls.push("list");
        if f.outage {
            return Err(TwilioError::new(ErrorClass::Retryable, "list", "503"));
        }
        Ok(f.owned
            .iter()
            .filter(|n| {
                filter
                    .phone_number
                    .as_ref()
                    .is_none_or(|p| *p == n.phone_number)
            })
            .cloned()
            .collect())
    }
    async fn update_incoming(
        &self,
        sid: &str,
        config: &NumberConfig,
    ) -> Result<IncomingNumber, TwilioError> {
        let mut f = self.0.lock().unwrap();
        f.calls.push("update");
        let n = f.owned.iter_mut().find(|n| n.sid == sid).expect("owned");
        for field in ConfigField::all() {
            if let Some(v) = &config[field] {
                n.config[field] = Some(v.clone());
            }
        }
        Ok(n.clone())
    }
    async fn release(&self, sid: &str) -> Result<(), TwilioError> {
        let mut f = self.0.lock().unwrap();
        f.calls.push("release");
        f.owned.retain(|n| n.sid != sid);
        Ok(())
    }
}

#[tokio::test]
async fn purchase_against_an_in_memory_twilio_searches_once_and_buys_once() {
    for mode in [AccountMode::BringYourOwn, AccountMode::Managed] {
        let twilio = FakeTwilio::new(&["+14155550101", "+14155550102"]);
        let fx = MemoryEffects::new(object(search_spec(None)), Decimal::new(1000, 2));
        let inventory = InventoryCache::default();
        let clock = ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap());
        let mut obs = Observed::new(
            clock.now(),
            AccountView::Usable {
                mode,
                account_sid: SID.into(),
            },
        );
        obs.price = Some(quote(mode));
        let env = Env {
            effects: &fx,
            api: &twilio,
            inventory: &inventory,
            clock: &clock,
            metrics: None,
            crash: None,
        };
        let (pn, _) = drive(&env, fx.get(), obs).await.unwrap();
        let st = pn.status.clone().unwrap();
        assert_eq!(st.phase, Some(Phase::Active), "{mode:?}: {st:?}");
        assert_eq!(twilio.calls(), vec!["search", "buy"], "{mode:?}");
        let owned = twilio.0.lock().unwrap().owned.clone();
        assert_eq!(owned.len(), 1);
        assert_eq!(
            st.phone_number.as_deref(),
            Some(owned[0].phone_number.as_str())
        );
        assert_eq!(st.sid.as_deref(), Some(owned[0].sid.as_str()));
        assert_eq!(owned[0].friendly_name(), "Support line");
        // intent + Active.
        assert_eq!(fx.state.lock().unwrap().status_writes, 2);
    }
}

#[tokio::test]
async fn a_buy_sent_counts_even_when_the_lookup_after_it_fails() {
    // The buy times out and the lookup that follows fails: the reconcile ends in an error, but
    // the intent records that this attempt's buy was sent, so a restart still counts it.
    let twilio = FakeTwilio::new(&["+14155550101"]);
    twilio.0.lock().unwrap().outage = true;
    let mut spec = search_spec(None);
    spec.search = None;
    spec.number = Some("+14155550101".into());
    let fx = MemoryEffects::new(object(spec), Decimal::ZERO);
    let inventory = InventoryCache::default();
    let clock = ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap());
    let mut obs = Observed::new(
        clock.now(),
        AccountView::Usable {
            mode: AccountMode::BringYourOwn,
            account_sid: SID.into(),
        },
    );
    obs.price = Some(quote(AccountMode::BringYourOwn));
    obs.owned = Some(crate::reconcile::phone_number::Ownership {
        number: None,
        as_of: clock.now(),
        targeted: false,
    });
    let env = Env {
        effects: &fx,
        api: &twilio,
        inventory: &inventory,
        clock: &clock,
        metrics: None,
        crash: None,
    };
    assert!(drive(&env, fx.get(), obs).await.is_err());
    assert_eq!(twilio.calls(), vec!["buy", "list"]);
    let intent = fx.get().status.unwrap().purchase_intent.unwrap();
    assert_eq!((intent.attempts, intent.buy_sent), (1, true));
}
