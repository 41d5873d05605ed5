//! An in-memory `Effects`: one PhoneNumber with resourceVersion checks (409 on a stale write,
//! injectable foreign writes), a credits ledger (hold/settle/release by key, balance never below
//! zero), and a record of events. Lets the engine's step sequence run without a Kubernetes API.

use crate::api::{ChargeKind, HeldNumber, PhoneNumber, PhoneNumberStatus};
use crate::controller::claims::{AccountHolder, ClaimOutcome, Claimant, HoldOutcome as NumberHold};
use crate::controller::credits::{CreditsError, HoldOutcome};
use crate::controller::phone_number::effects::{Effects, WriteError};
use crate::reconcile::phone_number::Event;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeState {
    Held,
    Settled,
}

pub struct State {
    pub object: PhoneNumber,
    pub rv: u64,
    pub status_writes: u32,
    pub conflicts: u32,
    /// Writes to reject after a foreign update, counted down.
    pub inject_conflicts: Vec<u32>,
    pub balance: Decimal,
    pub ledger: BTreeMap<String, (Decimal, ChargeState)>,
    pub events: Vec<Event>,
    /// Number claims: `(account SID, number)` → holder uid (`account:<uid>` for an account).
    pub claims: BTreeMap<(String, String), String>,
    /// Holds of accounts, by claim.
    pub holds: BTreeMap<(String, String), HeldNumber>,
}

pub struct MemoryEffects {
    pub state: Mutex<State>,
}

impl MemoryEffects {
    pub fn new(mut object: PhoneNumber, balance: Decimal) -> Self {
        object.metadata.resource_version = Some("1".into());
        Self {
            state: Mutex::new(State {
                object,
                rv: 1,
                status_writes: 0,
                conflicts: 0,
                inject_conflicts: Vec::new(),
                balance,
                ledger: BTreeMap::new(),
                events: Vec::new(),
                claims: BTreeMap::new(),
                holds: BTreeMap::new(),
            }),
        }
    }

    /// The object as stored now.
    pub fn get(&self) -> PhoneNumber {
        self.state.lock().unwrap().object.clone()
    }

    /// Makes the `n`-th status write from now (1 = the next) meet a foreign update first.
    pub fn conflict_on_write(&self, n: u32) {
        let mut s = self.state.lock().unwrap();
        let base = s.status_writes + s.conflicts;
        s.inject_conflicts.push(base + n);
    }

    pub fn settled(&self) -> Vec<(String, Decimal)> {
        let s = self.state.lock().unwrap();
        s.ledger
            .iter()
            .filter(|(_, (_, st))| *st == ChargeState::Settled)
            .map(|(k, (a, _))| (k.clone(), *a))
            .collect()
    }

    /// The balance left (granted − held − settled), as the account's status shows it.
    pub fn available(&self) -> Decimal {
        let s = self.state.lock().unwrap();
        s.balance - s.ledger.values().map(|(a, _)| *a).sum::<Decimal>()
    }

    pub fn held(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.ledger
            .iter()
            .filter(|(_, (_, st))| *st == ChargeState::Held)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

impl Effects for MemoryEffects {
    async fn write_status(
        &self,
        pn: &PhoneNumber,
        status: &PhoneNumberStatus,
    ) -> Result<PhoneNumber, WriteError> {
        let mut s = self.state.lock().unwrap();
        let attempt = s.status_writes + s.conflicts + 1;
        if let Some(i) = s.inject_conflicts.iter().position(|&n| n == attempt) {
            s.inject_conflicts.remove(i);
            // Someone else updated the object (e.g. a label) just before this write.
            s.rv += 1;
            let rv = s.rv.to_string();
            s.object.metadata.resource_version = Some(rv);
        }
        if pn.metadata.resource_version != s.object.metadata.resource_version {
            s.conflicts += 1;
            return Err(WriteError::Conflict);
        }
        s.rv += 1;
        s.status_writes += 1;
        s.object.status = Some(status.clone());
        s.object.metadata.resource_version = Some(s.rv.to_string());
        Ok(s.object.clone())
    }

    async fn hold(
        &self,
        _pn: &PhoneNumber,
        key: &str,
        amount: Decimal,
        _kind: ChargeKind,
    ) -> Result<HoldOutcome, CreditsError> {
        let mut s = self.state.lock().unwrap();
        match s.ledger.get(key) {
            Some((_, ChargeState::Held)) => return Ok(HoldOutcome::AlreadyHeld),
            Some((_, ChargeState::Settled)) => return Ok(HoldOutcome::AlreadySettled),
            None => {}
        }
        let spent: Decimal = s.ledger.values().map(|(a, _)| *a).sum();
        if s.balance - spent < amount {
            return Err(CreditsError::InsufficientCredits {
                balance: s.balance - spent,
                needed: amount,
            });
        }
        s.ledger
            .insert(key.to_string(), (amount, ChargeState::Held));
        Ok(HoldOutcome::Held)
    }

    async fn settle(
        &self,
        _pn: &PhoneNumber,
        key: &str,
        _number: &str,
    ) -> Result<(), CreditsError> {
        let mut s = self.state.lock().unwrap();
        match s.ledger.get_mut(key) {
            Some(entry) => {
                entry.1 = ChargeState::Settled;
                Ok(())
            }
            None => Err(CreditsError::UnknownKey {
                namespace: "ns".into(),
                name: "acct".into(),
                key: key.into(),
            }),
        }
    }

    async fn release_hold(&self, _pn: &PhoneNumber, key: &str) -> Result<(), CreditsError> {
        let mut s = self.state.lock().unwrap();
        if matches!(s.ledger.get(key), Some((_, ChargeState::Held))) {
            s.ledger.remove(key);
        }
        Ok(())
    }

    async fn claim(
        &self,
        pn: &PhoneNumber,
        account_sid: &str,
        number: &str,
    ) -> Result<ClaimOutcome, kube::Error> {
        let me = Claimant::of(pn);
        let mut s = self.state.lock().unwrap();
        let key = (account_sid.to_string(), number.to_string());
        // The PhoneNumber's own account's hold (the only account here) is taken over.
        if s.claims
            .get(&key)
            .is_some_and(|h| h.starts_with("account:"))
        {
            let hold = s.holds.get(&key).cloned();
            return Ok(match hold {
                Some(h) if !h.releasing => {
                    s.holds.remove(&key);
                    s.claims.insert(key, me.uid.clone());
                    ClaimOutcome::Adopted(h)
                }
                _ => ClaimOutcome::Releasing,
            });
        }
        let holder = s.claims.entry(key).or_insert_with(|| me.uid.clone());
        Ok(if *holder == me.uid {
            ClaimOutcome::Ours
        } else {
            ClaimOutcome::Taken(Claimant {
                namespace: "elsewhere".into(),
                name: "other".into(),
                uid: holder.clone(),
            })
        })
    }

    async fn hold_number(
        &self,
        pn: &PhoneNumber,
        account: &AccountHolder,
        hold: &HeldNumber,
    ) -> Result<NumberHold, kube::Error> {
        let me = Claimant::of(pn).uid;
        let mut s = self.state.lock().unwrap();
        let key = (hold.account_sid.clone(), hold.phone_number.clone());
        let account_uid = format!("account:{}", account.uid);
        match s.claims.get(&key) {
            Some(h) if *h == account_uid => {
                return Ok(NumberHold::Held(s.holds[&key].clone()));
            }
            Some(h) if *h != me => return Ok(NumberHold::ClaimedElsewhere),
            _ => {}
        }
        s.claims.insert(key.clone(), account_uid);
        s.holds.insert(key, hold.clone());
        Ok(NumberHold::Held(hold.clone()))
    }

    async fn release_claims(
        &self,
        pn: &PhoneNumber,
        keep: Option<(&str, &str)>,
    ) -> Result<(), kube::Error> {
        let uid = Claimant::of(pn).uid;
        let keep = keep.map(|(a, n)| (a.to_string(), n.to_string()));
        self.state
            .lock()
            .unwrap()
            .claims
            .retain(|k, holder| *holder != uid || Some(k) == keep.as_ref());
        Ok(())
    }

    async fn event(&self, _pn: &PhoneNumber, event: &Event) {
        self.state.lock().unwrap().events.push(event.clone());
    }
}

impl MemoryEffects {
    /// Another PhoneNumber (of another namespace, same Twilio account) holds `number`.
    pub fn claimed_elsewhere(&self, account_sid: &str, number: &str) {
        self.state
            .lock()
            .unwrap()
            .claims
            .insert((account_sid.into(), number.into()), "someone-else".into());
    }

    /// The claims held now.
    pub fn claims(&self) -> Vec<(String, String, String)> {
        let s = self.state.lock().unwrap();
        s.claims
            .iter()
            .map(|((a, n), h)| (a.clone(), n.clone(), h.clone()))
            .collect()
    }
}
