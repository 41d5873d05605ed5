//! [`Simulator`]: the shared handle (state, settings, faults, counters) and its inspection and
//! out-of-band control API used by tests and the sandbox.

use crate::config::{FaultConfig, SeedAccount, SimConfig, SimSettings};
use crate::inventory::Inventory;
use crate::model::{Counters, FaultCounts, OwnedNumber, PurchaseRecord};
use crate::routes::ROUTE_TEMPLATES;
use crate::state::{Account, ApiKey, State};
use crate::util::{random_secret, random_sid};
use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A stateful Twilio stand-in. Cheap to clone (an `Arc` inside); all clones share the state.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub settings: SimSettings,
    pub faults: Mutex<FaultConfig>,
    pub rng: Mutex<StdRng>,
    pub state: Mutex<State>,
    pub inventory: Inventory,
    /// One counter per entry of `ROUTE_TEMPLATES`, plus one for unmatched paths (last).
    pub route_counts: Vec<AtomicU64>,
    pub fault_dropped: AtomicU64,
    pub fault_429: AtomicU64,
    pub fault_5xx: AtomicU64,
    pub fault_commit: AtomicU64,
    /// Seconds added to the wall clock (see [`Simulator::advance_time`]).
    pub clock_offset_secs: AtomicI64,
    pub fault_concurrency: AtomicU64,
    /// Per account: (in flight now, highest seen).
    pub in_flight: Mutex<HashMap<String, (u64, u64)>>,
    /// Requests per account since the last `reset_counters`.
    pub account_requests: Mutex<HashMap<String, u64>>,
}

/// Decrements an account's in-flight count when the request ends.
pub(crate) struct InFlight {
    inner: Arc<Inner>,
    account: String,
    /// In-flight count including this request, at entry.
    pub level: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut m = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(e) = m.get_mut(&self.account) {
            e.0 = e.0.saturating_sub(1);
        }
    }
}

impl Simulator {
    /// The account a Basic `Authorization` header claims (no password check), for concurrency
    /// accounting: the account itself, a key's account, or a test SID's account.
    pub(crate) fn enter(&self, auth_header: Option<&str>) -> Option<InFlight> {
        let (user, _) = crate::auth::basic(auth_header)?;
        let account = {
            let st = self.inner.lock();
            if let Some(k) = st.keys.get(&user) {
                k.account_sid.clone()
            } else if st.accounts.contains_key(&user) {
                user
            } else {
                st.test_sids.get(&user)?.clone()
            }
        };
        let mut m = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *self
            .inner
            .account_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account.clone())
            .or_insert(0) += 1;
        let e = m.entry(account.clone()).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(e.0);
        let level = e.0;
        Some(InFlight {
            inner: self.inner.clone(),
            account,
            level,
        })
    }
}

impl Inner {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.clock_offset_secs.load(Ordering::Relaxed))
    }

    pub fn faults(&self) -> FaultConfig {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn new_account(
        &self,
        sid: String,
        token: String,
        name: String,
        balance: Decimal,
        account_type: String,
        owner: Option<String>,
    ) -> Account {
        let now = self.now();
        Account {
            owner_sid: owner.unwrap_or_else(|| sid.clone()),
            sid,
            auth_token: token,
            friendly_name: name,
            status: "active".into(),
            account_type,
            balance,
            test_sid: random_sid("AC"),
            test_token: random_secret(),
            date_created: now,
            date_updated: now,
        }
    }

    pub fn insert_account(st: &mut State, a: Account) {
        st.test_sids.insert(a.test_sid.clone(), a.sid.clone());
        st.accounts.insert(a.sid.clone(), a);
    }

    pub fn quarantine_until(&self) -> DateTime<Utc> {
        self.now() + chrono::Duration::days(i64::from(self.settings.quarantine_days))
    }
}

impl Simulator {
    /// A simulator with the seed accounts of `config`.
    pub fn new(config: SimConfig) -> Self {
        let inner = Inner {
            inventory: Inventory::new(config.seed),
            settings: config.settings,
            faults: Mutex::new(config.faults),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            state: Mutex::new(State::default()),
            route_counts: (0..=ROUTE_TEMPLATES.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            fault_dropped: AtomicU64::new(0),
            fault_429: AtomicU64::new(0),
            fault_5xx: AtomicU64::new(0),
            fault_commit: AtomicU64::new(0),
            clock_offset_secs: AtomicI64::new(0),
            fault_concurrency: AtomicU64::new(0),
            in_flight: Mutex::new(HashMap::new()),
            account_requests: Mutex::new(HashMap::new()),
        };
        {
            let mut st = inner.lock();
            for seed in config.accounts {
                let a = inner.new_account(
                    seed.sid,
                    seed.auth_token,
                    seed.friendly_name,
                    seed.balance,
                    seed.account_type,
                    None,
                );
                Inner::insert_account(&mut st, a);
            }
        }
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &SimSettings {
        &self.inner.settings
    }

    /// A new main account with a random SID and token (balance 20.00 USD, type Full).
    pub fn add_account(&self, friendly_name: &str) -> SeedAccount {
        let seed = SeedAccount {
            sid: random_sid("AC"),
            auth_token: random_secret(),
            friendly_name: friendly_name.to_string(),
            balance: Decimal::new(2000, 2),
            account_type: "Full".into(),
        };
        let a = self.inner.new_account(
            seed.sid.clone(),
            seed.auth_token.clone(),
            seed.friendly_name.clone(),
            seed.balance,
            seed.account_type.clone(),
            None,
        );
        Inner::insert_account(&mut self.inner.lock(), a);
        seed
    }

    /// A new API key of an account (Main key when `main`, else Standard): `(SK sid, secret)`.
    pub fn add_api_key(&self, account_sid: &str, main: bool) -> Option<(String, String)> {
        let mut st = self.inner.lock();
        if !st.accounts.contains_key(account_sid) {
            return None;
        }
        let sid = random_sid("SK");
        let secret = random_secret();
        st.keys.insert(
            sid.clone(),
            ApiKey {
                secret: secret.clone(),
                account_sid: account_sid.to_string(),
                main,
            },
        );
        Some((sid, secret))
    }

    /// Deletes an API key (later requests with it fail with 20003).
    pub fn remove_api_key(&self, key_sid: &str) -> bool {
        self.inner.lock().keys.remove(key_sid).is_some()
    }

    /// The account's test credentials `(test SID, test token)`.
    pub fn test_credentials(&self, account_sid: &str) -> Option<(String, String)> {
        let st = self.inner.lock();
        st.accounts
            .get(account_sid)
            .map(|a| (a.test_sid.clone(), a.test_token.clone()))
    }

    /// Replaces the injected faults (takes effect for the next request).
    pub fn set_faults(&self, faults: FaultConfig) {
        *self.inner.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// The faults in force.
    pub fn faults(&self) -> FaultConfig {
        self.inner.faults()
    }

    /// Request counters, purchases and releases.
    pub fn counters(&self) -> Counters {
        let mut requests = std::collections::BTreeMap::new();
        let mut total = 0;
        for (i, c) in self.inner.route_counts.iter().enumerate() {
            let n = c.load(Ordering::Relaxed);
            total += n;
            if n > 0 {
                let name = ROUTE_TEMPLATES.get(i).copied().unwrap_or("unmatched");
                requests.insert(name.to_string(), n);
            }
        }
        let st = self.inner.lock();
        Counters {
            requests,
            total_requests: total,
            purchases: st.purchases,
            releases: st.releases,
            renewal_charges: st.renewal_charges,
            faults: FaultCounts {
                dropped_connections: self.inner.fault_dropped.load(Ordering::Relaxed),
                rate_limited_429: self.inner.fault_429.load(Ordering::Relaxed),
                errors_5xx: self.inner.fault_5xx.load(Ordering::Relaxed),
                commit_then_fail: self.inner.fault_commit.load(Ordering::Relaxed),
                concurrency_429: self.inner.fault_concurrency.load(Ordering::Relaxed),
            },
            max_in_flight: self
                .inner
                .in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(k, v)| (k.clone(), v.1))
                .collect(),
            requests_by_account: self
                .inner
                .account_requests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }

    /// Sets every counter back to zero (purchase log and state untouched).
    pub fn reset_counters(&self) {
        for c in &self.inner.route_counts {
            c.store(0, Ordering::Relaxed);
        }
        for c in [
            &self.inner.fault_dropped,
            &self.inner.fault_429,
            &self.inner.fault_5xx,
            &self.inner.fault_commit,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.inner
            .account_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let mut st = self.inner.lock();
        st.purchases = 0;
        st.releases = 0;
        st.renewal_charges = 0;
    }

    /// Numbers owned by an account, in SID order.
    pub fn owned_numbers(&self, account_sid: &str) -> Vec<OwnedNumber> {
        let st = self.inner.lock();
        st.by_account
            .get(account_sid)
            .map(|set| {
                set.iter()
                    .filter_map(|sid| st.numbers.get(sid).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every successful purchase ever made, in order.
    pub fn purchase_log(&self) -> Vec<PurchaseRecord> {
        self.inner.lock().purchase_log.clone()
    }

    /// Releases a number as if someone did it outside the operator (console, another tool).
    pub fn release_out_of_band(&self, account_sid: &str, phone_number: &str) -> bool {
        let until = self.inner.quarantine_until();
        let mut st = self.inner.lock();
        let Some(sid) = st
            .owned_by(account_sid, phone_number)
            .map(|n| n.sid.clone())
        else {
            return false;
        };
        st.release(&sid, until).is_some()
    }

    /// Changes a number's friendly name and/or voice URL outside the operator (drift).
    pub fn update_out_of_band(
        &self,
        account_sid: &str,
        phone_number: &str,
        friendly_name: Option<&str>,
        voice_url: Option<&str>,
    ) -> bool {
        let now = self.inner.now();
        let mut st = self.inner.lock();
        let Some(sid) = st
            .owned_by(account_sid, phone_number)
            .map(|n| n.sid.clone())
        else {
            return false;
        };
        let Some(n) = st.numbers.get_mut(&sid) else {
            return false;
        };
        if let Some(f) = friendly_name {
            n.friendly_name = f.to_string();
        }
        if let Some(v) = voice_url {
            n.voice_url = v.to_string();
        }
        n.date_updated = now;
        true
    }

    /// Sets an account's status (`active`, `suspended`, `closed`) without the API's rules;
    /// closing releases its numbers.
    pub fn set_account_status(&self, sid: &str, status: &str) -> bool {
        if !matches!(status, "active" | "suspended" | "closed") {
            return false;
        }
        let now = self.inner.now();
        let until = self.inner.quarantine_until();
        let mut st = self.inner.lock();
        let Some(a) = st.accounts.get_mut(sid) else {
            return false;
        };
        a.status = status.to_string();
        a.date_updated = now;
        if status == "closed" {
            crate::api::accounts::release_all(&mut st, sid, until);
        }
        true
    }

    /// Makes `account_sid` own `phone_number` (any valid E.164 value, also outside the generated
    /// inventory) without a purchase record: for adoption tests. `None` if the account is unknown,
    /// the number invalid, or owned by another account. Returns the existing number if already owned.
    pub fn assign_number(&self, account_sid: &str, phone_number: &str) -> Option<OwnedNumber> {
        if !crate::util::is_e164(phone_number) {
            return None;
        }
        let now = self.inner.now();
        let mut st = self.inner.lock();
        if !st.accounts.contains_key(account_sid) {
            return None;
        }
        if let Some(sid) = st.by_phone.get(phone_number) {
            let n = st.numbers.get(sid)?;
            return (n.account_sid == account_sid).then(|| n.clone());
        }
        let n = crate::api::numbers::new_owned_number(
            &self.inner.inventory,
            account_sid,
            phone_number,
            now,
        );
        st.insert_number(n.clone(), false);
        Some(n)
    }

    /// Subaccounts of a main account: `(sid, friendly_name, status)`, in SID order.
    pub fn subaccounts(&self, parent_sid: &str) -> Vec<(String, String, String)> {
        let st = self.inner.lock();
        st.subaccounts_of(parent_sid)
            .into_iter()
            .map(|a| (a.sid.clone(), a.friendly_name.clone(), a.status.clone()))
            .collect()
    }

    /// An account's balance (for a subaccount: its own stored value, normally zero).
    pub fn balance(&self, account_sid: &str) -> Option<Decimal> {
        self.inner
            .lock()
            .accounts
            .get(account_sid)
            .map(|a| a.balance)
    }

    /// Sets an account's balance.
    pub fn set_balance(&self, account_sid: &str, balance: Decimal) -> bool {
        let mut st = self.inner.lock();
        let Some(a) = st.accounts.get_mut(account_sid) else {
            return false;
        };
        a.balance = balance;
        true
    }

    /// Moves the simulator's clock forward (quarantine ends, dates of later changes).
    pub fn advance_time(&self, by: std::time::Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX / 4);
        self.inner
            .clock_offset_secs
            .fetch_add(secs, Ordering::Relaxed);
        self.bill_due_numbers();
    }

    /// Charges every monthly renewal due at the simulator's current time; returns how many.
    pub fn bill_due_numbers(&self) -> u64 {
        crate::billing::bill_due(&self.inner)
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    /// The axum router serving the Twilio API paths and `/_sim/...`. Dropped-connection faults
    /// are exact only under [`Simulator::serve`]; under another server they abort the response body.
    pub fn router(&self) -> axum::Router {
        crate::http::router(self.clone())
    }

    /// Serves on `addr` (use `127.0.0.1:0` in tests) in a spawned task.
    pub async fn serve(
        &self,
        addr: std::net::SocketAddr,
    ) -> std::io::Result<crate::server::SimServer> {
        crate::server::serve(self.clone(), addr).await
    }
}
