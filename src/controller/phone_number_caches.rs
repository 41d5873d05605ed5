//! The PhoneNumber controller's caches, lent to the account controller.
//!
//! Why: an account's inventory summary (`status.inventory`: which of its Twilio numbers a
//! PhoneNumber claims) needs the PhoneNumbers of its namespace. Listing them at every account
//! reconcile held a second copy of each (10,000 trimmed objects, ~15 MB at once) beside the
//! PhoneNumber controller's cache, which already has them. That controller registers its cache
//! here for as long as it runs; the account controller reads a registered cache once it has
//! synced, and lists only when none covers the namespace (the controller not started yet, or
//! stopped). Both caches see the same PhoneNumbers: the watched namespaces, label selector
//! applied.

use crate::controller::compact_phone_number::CompactPhoneNumber;
use futures::FutureExt;
use kube::runtime::reflector::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// One registered cache: the namespace it watches (`None`: all) and the store.
struct Entry {
    id: u64,
    namespace: Option<String>,
    store: Store<CompactPhoneNumber>,
}

/// The registered caches of the running PhoneNumber controllers.
#[derive(Default)]
pub struct PhoneNumberCaches {
    entries: Arc<RwLock<Vec<Entry>>>,
    next_id: AtomicU64,
}

/// Keeps a cache registered; dropping it (the controller stopped) withdraws the cache, so no
/// reader takes a cache that no longer follows the server.
#[must_use = "the cache is withdrawn when this is dropped"]
pub struct Registration {
    id: u64,
    entries: Arc<RwLock<Vec<Entry>>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|e| e.id != self.id);
        }
    }
}

impl PhoneNumberCaches {
    /// Registers the cache of a controller watching `namespace` (`None`: all namespaces).
    pub fn register(
        &self,
        namespace: Option<String>,
        store: Store<CompactPhoneNumber>,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.write() {
            entries.push(Entry {
                id,
                namespace,
                store,
            });
        }
        Registration {
            id,
            entries: self.entries.clone(),
        }
    }

    /// A synced cache that holds the PhoneNumbers of `namespace`, if one is registered.
    pub fn covering(&self, namespace: &str) -> Option<Store<CompactPhoneNumber>> {
        let entries = self.entries.read().ok()?;
        entries
            .iter()
            .filter(|e| e.namespace.as_deref().is_none_or(|ns| ns == namespace))
            .find(|e| is_synced(&e.store))
            .map(|e| e.store.clone())
    }
}

/// Whether the store has had its first full list (a store still filling would under-count).
fn is_synced(store: &Store<CompactPhoneNumber>) -> bool {
    matches!(store.wait_until_ready().now_or_never(), Some(Ok(())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PhoneNumber;
    use kube::runtime::reflector;
    use kube::runtime::watcher;

    fn pn(namespace: &str, name: &str) -> CompactPhoneNumber {
        let mut pn = PhoneNumber::new(
            name,
            serde_json::from_value(serde_json::json!({"accountRef": {"name": "main"}}))
                .expect("a minimal spec"),
        );
        pn.metadata.namespace = Some(namespace.into());
        CompactPhoneNumber::compact(pn)
    }

    fn synced_store(
        objects: Vec<CompactPhoneNumber>,
    ) -> (
        Store<CompactPhoneNumber>,
        reflector::store::Writer<CompactPhoneNumber>,
    ) {
        let (store, mut writer) = reflector::store();
        writer.apply_watcher_event(&watcher::Event::Init);
        for o in objects {
            writer.apply_watcher_event(&watcher::Event::InitApply(o));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        (store, writer)
    }

    #[test]
    fn a_cache_covers_its_namespace_once_synced_and_until_withdrawn() {
        let caches = PhoneNumberCaches::default();
        let (store, mut writer) = reflector::store::<CompactPhoneNumber>();
        let registration = caches.register(Some("team".into()), store);
        assert!(caches.covering("team").is_none(), "not synced yet");
        writer.apply_watcher_event(&watcher::Event::Init);
        writer.apply_watcher_event(&watcher::Event::InitApply(pn("team", "a")));
        writer.apply_watcher_event(&watcher::Event::InitDone);
        let covering = caches.covering("team").expect("synced");
        assert_eq!(covering.state().len(), 1);
        assert!(caches.covering("other").is_none(), "another namespace");
        drop(registration);
        assert!(caches.covering("team").is_none(), "withdrawn");
    }

    #[test]
    fn an_all_namespaces_cache_covers_every_namespace() {
        let caches = PhoneNumberCaches::default();
        let (store, _writer) = synced_store(vec![pn("a", "x"), pn("b", "y")]);
        let _registration = caches.register(None, store);
        assert!(caches.covering("a").is_some());
        assert!(caches.covering("zzz").is_some());
    }
}
