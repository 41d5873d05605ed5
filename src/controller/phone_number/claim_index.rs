//! Which numbers the PhoneNumbers of each (namespace, account) claim, built from the controller's
//! cache at most once per `TTL` and shared by every reconcile that needs it (those before a
//! number is recorded). Walking the whole cache in each such reconcile made a purchase cost
//! O(PhoneNumbers): at 10,000 numbers the operator spent most of its time there.
//!
//! The index may be up to `TTL` old. That is safe: it only lets a search skip numbers others
//! already hold; the number claims (`controller::claims`, one Lease per number that only one
//! claimant can create) and the in-process reservations decide who gets a number. An exact
//! number (`spec.number`) still looks for an older claimant in the fresh cache, so which of two
//! PhoneNumbers naming one number wins does not depend on timing.

use crate::api::PhoneNumber;
use crate::reconcile::phone_number::claimed::{ClaimIndex, ClaimedNumbers};
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How old a shared index may be.
pub const TTL: Duration = Duration::from_millis(500);

type Key = (String, String);
/// Every (namespace, account)'s index, from one walk of the cache.
type Indexes = Arc<HashMap<Key, Arc<ClaimIndex>>>;

/// The shared indexes, rebuilt from the cache (all accounts in one walk) when older than `TTL`.
#[derive(Default)]
pub struct ClaimIndexes {
    built: Mutex<Option<(Instant, Indexes)>>,
}

impl ClaimIndexes {
    /// The numbers other PhoneNumbers of `pn`'s namespace and account claim.
    pub fn claimed(&self, store: &Store<PhoneNumber>, pn: &PhoneNumber) -> ClaimedNumbers {
        let key = (
            pn.namespace().unwrap_or_default(),
            pn.spec.account_ref.name.clone(),
        );
        let all = self.current(store);
        let index = all.get(&key).cloned().unwrap_or_default();
        ClaimedNumbers::shared(index, &pn.name_any())
    }

    fn current(&self, store: &Store<PhoneNumber>) -> Indexes {
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, all)) = built.as_ref()
            && at.elapsed() < TTL
        {
            return all.clone();
        }
        let all = Arc::new(build(store));
        *built = Some((Instant::now(), all.clone()));
        all
    }
}

/// The number a PhoneNumber claims: the one in status, the one of its purchase intent, or the
/// one its spec names.
pub fn claimed_number(pn: &PhoneNumber) -> Option<String> {
    pn.status
        .as_ref()
        .and_then(|s| {
            s.phone_number
                .clone()
                .or_else(|| s.purchase_intent.as_ref().map(|i| i.phone_number.clone()))
        })
        .or_else(|| pn.spec.number.clone())
}

fn build(store: &Store<PhoneNumber>) -> HashMap<Key, Arc<ClaimIndex>> {
    let mut by_key: HashMap<Key, ClaimIndex> = HashMap::new();
    for pn in store.state() {
        let Some(number) = claimed_number(&pn) else {
            continue;
        };
        let key = (
            pn.namespace().unwrap_or_default(),
            pn.spec.account_ref.name.clone(),
        );
        by_key
            .entry(key)
            .or_default()
            .entry(number)
            .or_default()
            .push(pn.name_any());
    }
    by_key.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::store;
    use kube::runtime::watcher::Event;

    fn number(ns: &str, name: &str, account: &str, n: &str) -> PhoneNumber {
        let mut p: PhoneNumber = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"accountRef": {"name": account}, "number": n},
        }))
        .unwrap();
        p.metadata.uid = Some(format!("{ns}-{name}"));
        p
    }

    #[test]
    fn claims_are_per_namespace_and_account_and_never_ones_own() {
        let (reader, mut writer) = store::<PhoneNumber>();
        for p in [
            number("a", "one", "acct", "+14155550101"),
            number("a", "two", "acct", "+14155550102"),
            number("a", "three", "other", "+14155550103"),
            number("b", "four", "acct", "+14155550104"),
        ] {
            writer.apply_watcher_event(&Event::Apply(p));
        }
        let indexes = ClaimIndexes::default();
        let me = number("a", "one", "acct", "+14155550101");
        let c = indexes.claimed(&reader, &me);
        assert!(!c.contains("+14155550101"), "its own");
        assert!(c.contains("+14155550102"), "same namespace and account");
        assert!(!c.contains("+14155550103"), "another account");
        assert!(!c.contains("+14155550104"), "another namespace");
    }
}
