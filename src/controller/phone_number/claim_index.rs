//! Which numbers the PhoneNumbers of each (namespace, account) claim, kept up to date from the
//! PhoneNumber controller's watch and read by every reconcile that needs it (those before a
//! number is recorded). Walking the whole cache in each such reconcile made a purchase cost
//! O(PhoneNumbers); rebuilding a shared copy from the cache every 500 ms kept several copies
//! alive at once (a reconcile holds the one it read across its Twilio calls), 7.6 MB at 10,000
//! numbers. Now there is one index, changed per watch event before the cache stores it (so the
//! cache still holds the object's previous version, whose claim the event replaces), and rebuilt
//! only when the watch lists again.
//!
//! The index lags the server as the cache does. That is safe: it only lets a search skip numbers
//! others already hold; the number claims (`controller::claims`, one Lease per number that only
//! one claimant can create) and the in-process reservations decide who gets a number. An exact
//! number (`spec.number`) still looks for an older claimant in the cache itself, so which of two
//! PhoneNumbers naming one number wins does not depend on timing.

use crate::api::PhoneNumber;
use crate::controller::compact_phone_number::CompactPhoneNumber;
use crate::reconcile::phone_number::claimed::{ClaimIndex, ClaimLookup, ClaimedNumbers};
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// (namespace, account name).
type Key = (String, String);

#[derive(Default)]
struct Indexes {
    /// What reconciles read.
    live: HashMap<Key, ClaimIndex>,
    /// Filled while the watch lists again (`Init` … `InitDone`), then swapped in.
    relisting: Option<HashMap<Key, ClaimIndex>>,
}

/// The claim indexes of every (namespace, account) the controller watches.
#[derive(Default, Clone)]
pub struct ClaimIndexes {
    inner: Arc<RwLock<Indexes>>,
}

impl ClaimIndexes {
    /// The numbers other PhoneNumbers of `pn`'s namespace and account claim (read live).
    pub fn claimed(&self, pn: &PhoneNumber) -> ClaimedNumbers {
        let lookup = AccountClaims {
            indexes: self.inner.clone(),
            key: (
                pn.namespace().unwrap_or_default(),
                pn.spec.account_ref.name.clone(),
            ),
        };
        ClaimedNumbers::shared(Arc::new(lookup), &pn.name_any())
    }

    /// Applies one watch event. Call it before `store` stores the event: the previous version of
    /// an applied object is read from `store` to drop its old claim.
    pub fn observe(
        &self,
        store: &Store<CompactPhoneNumber>,
        event: &watcher::Event<CompactPhoneNumber>,
    ) {
        let mut indexes = self.inner.write().unwrap_or_else(|p| p.into_inner());
        match event {
            watcher::Event::Apply(pn) => {
                if let Some(old) = store.get(&ObjectRef::from_obj(pn)) {
                    remove(&mut indexes.live, &old);
                }
                add(&mut indexes.live, pn);
            }
            watcher::Event::Delete(pn) => {
                if let Some(old) = store.get(&ObjectRef::from_obj(pn)) {
                    remove(&mut indexes.live, &old);
                }
                remove(&mut indexes.live, pn);
            }
            watcher::Event::Init => indexes.relisting = Some(HashMap::new()),
            watcher::Event::InitApply(pn) => {
                if let Some(relisting) = indexes.relisting.as_mut() {
                    add(relisting, pn);
                }
            }
            watcher::Event::InitDone => {
                if let Some(relisting) = indexes.relisting.take() {
                    indexes.live = relisting;
                }
            }
        }
    }
}

/// One account's claims, as a reconcile reads them (the index itself, not a copy).
struct AccountClaims {
    indexes: Arc<RwLock<Indexes>>,
    key: Key,
}

impl ClaimLookup for AccountClaims {
    fn claimed_by_other_than(&self, number: &str, me: &str) -> bool {
        let indexes = self.indexes.read().unwrap_or_else(|p| p.into_inner());
        indexes
            .live
            .get(&self.key)
            .is_some_and(|index| index.claimed_by_other_than(number, me))
    }
}

fn key_of(pn: &CompactPhoneNumber) -> Key {
    (
        pn.namespace().unwrap_or_default(),
        pn.summary().account.clone(),
    )
}

fn add(indexes: &mut HashMap<Key, ClaimIndex>, pn: &CompactPhoneNumber) {
    let Some(number) = pn.summary().claimed_number() else {
        return;
    };
    let names = indexes
        .entry(key_of(pn))
        .or_default()
        .entry(number.to_string())
        .or_default();
    let name = pn.name_any();
    if !names.contains(&name) {
        names.push(name);
    }
}

fn remove(indexes: &mut HashMap<Key, ClaimIndex>, pn: &CompactPhoneNumber) {
    let Some(number) = pn.summary().claimed_number() else {
        return;
    };
    let key = key_of(pn);
    let Some(index) = indexes.get_mut(&key) else {
        return;
    };
    if let Some(names) = index.get_mut(number) {
        let name = pn.name_any();
        names.retain(|n| *n != name);
        if names.is_empty() {
            index.remove(number);
        }
    }
    if index.is_empty() {
        indexes.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::store;
    use kube::runtime::watcher::Event;

    fn number(ns: &str, name: &str, account: &str, n: &str) -> CompactPhoneNumber {
        CompactPhoneNumber::compact(full(ns, name, account, n))
    }

    fn full(ns: &str, name: &str, account: &str, n: &str) -> PhoneNumber {
        let mut p: PhoneNumber = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"accountRef": {"name": account}, "number": n},
        }))
        .unwrap();
        p.metadata.uid = Some(format!("{ns}-{name}"));
        p
    }

    /// Feeds events to the index and then to the store, as the controller's watch does.
    struct Watch {
        reader: kube::runtime::reflector::Store<CompactPhoneNumber>,
        writer: kube::runtime::reflector::store::Writer<CompactPhoneNumber>,
        indexes: ClaimIndexes,
    }

    impl Watch {
        fn new() -> Self {
            let (reader, writer) = store::<CompactPhoneNumber>();
            Watch {
                reader,
                writer,
                indexes: ClaimIndexes::default(),
            }
        }
        fn send(&mut self, event: Event<CompactPhoneNumber>) {
            self.indexes.observe(&self.reader, &event);
            self.writer.apply_watcher_event(&event);
        }
    }

    #[test]
    fn claims_are_per_namespace_and_account_and_never_ones_own() {
        let mut watch = Watch::new();
        for p in [
            number("a", "one", "acct", "+14155550101"),
            number("a", "two", "acct", "+14155550102"),
            number("a", "three", "other", "+14155550103"),
            number("b", "four", "acct", "+14155550104"),
        ] {
            watch.send(Event::Apply(p));
        }
        let me = full("a", "one", "acct", "+14155550101");
        let c = watch.indexes.claimed(&me);
        assert!(!c.contains("+14155550101"), "its own");
        assert!(c.contains("+14155550102"), "same namespace and account");
        assert!(!c.contains("+14155550103"), "another account");
        assert!(!c.contains("+14155550104"), "another namespace");
    }

    #[test]
    fn a_changed_claim_replaces_the_old_one_and_a_deleted_object_claims_nothing() {
        let mut watch = Watch::new();
        watch.send(Event::Apply(number("a", "two", "acct", "+14155550102")));
        let me = full("a", "one", "acct", "+14155550101");
        let c = watch.indexes.claimed(&me);
        assert!(c.contains("+14155550102"));
        // "two" now names another number: the old one is free, read live by the same handle.
        watch.send(Event::Apply(number("a", "two", "acct", "+14155550122")));
        assert!(!c.contains("+14155550102"));
        assert!(c.contains("+14155550122"));
        // Moved to another account: no longer this account's claim.
        watch.send(Event::Apply(number("a", "two", "other", "+14155550122")));
        assert!(!c.contains("+14155550122"));
        watch.send(Event::Apply(number("a", "two", "acct", "+14155550122")));
        watch.send(Event::Delete(number("a", "two", "acct", "+14155550122")));
        assert!(!c.contains("+14155550122"));
    }

    #[test]
    fn a_relist_replaces_the_index_when_it_is_complete() {
        let mut watch = Watch::new();
        watch.send(Event::Apply(number("a", "gone", "acct", "+14155550109")));
        let me = full("a", "one", "acct", "+14155550101");
        let c = watch.indexes.claimed(&me);
        watch.send(Event::Init);
        watch.send(Event::InitApply(number("a", "two", "acct", "+14155550102")));
        // Until the list is complete, reconciles read the previous index.
        assert!(c.contains("+14155550109"));
        assert!(!c.contains("+14155550102"));
        watch.send(Event::InitDone);
        assert!(
            !c.contains("+14155550109"),
            "deleted while the watch was down"
        );
        assert!(c.contains("+14155550102"));
    }

    #[test]
    fn two_objects_claiming_one_number_are_both_remembered() {
        let mut watch = Watch::new();
        watch.send(Event::Apply(number("a", "x", "acct", "+14155550102")));
        watch.send(Event::Apply(number("a", "y", "acct", "+14155550102")));
        let c = watch
            .indexes
            .claimed(&full("a", "x", "acct", "+14155550102"));
        assert!(c.contains("+14155550102"), "y claims it too");
        watch.send(Event::Delete(number("a", "y", "acct", "+14155550102")));
        assert!(!c.contains("+14155550102"), "only its own claim is left");
    }
}
