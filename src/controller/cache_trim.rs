//! What the controllers' caches keep of each object: everything but the fields no controller
//! reads. Every watched object is held in a reflector store for the life of the process (10,000
//! PhoneNumbers, 10,000 objects), so fields the API server attaches for its own bookkeeping cost
//! memory per object without ever being used:
//! - `metadata.managedFields` (server-side apply's field ownership; one entry per manager and
//!   subresource, often larger than the spec itself);
//! - the `kubectl.kubernetes.io/last-applied-configuration` annotation (a full copy of the object
//!   as last applied with client-side `kubectl apply`).
//!
//! Writes never start from a cached object's managedFields or that annotation (status writes are
//! patches of the fields the operator owns), so dropping them changes no request.

use futures::Stream;
use kube::Resource;
use kube::runtime::reflector::{self, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::hash::Hash;

/// The annotation `kubectl apply` (client-side) keeps a copy of the object in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops the fields no controller reads (see the module docs) from an object before it is cached.
pub fn trim<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

/// A watch of `api` whose objects are trimmed before they reach the returned store: what
/// `Controller::new(api, wc)` builds, with [`trim`] in between. Pass both to
/// `Controller::for_stream`. (The PhoneNumber controller's cache goes further:
/// `controller::compact_phone_number`.)
pub fn trimmed_reflector<K>(
    api: kube::Api<K>,
    wc: watcher::Config,
) -> (
    Store<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    let (store, writer) = reflector::store();
    let events = watcher(api, wc).modify(trim::<K>);
    let stream = reflector(writer, events).applied_objects();
    (store, stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
    use std::collections::BTreeMap;

    #[test]
    fn managed_fields_and_last_applied_are_dropped_the_rest_kept() {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some("a".into());
        cm.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("kubectl".into()),
            ..Default::default()
        }]);
        cm.metadata.annotations = Some(BTreeMap::from([
            (LAST_APPLIED.to_string(), "{\"big\":true}".to_string()),
            ("team".to_string(), "voice".to_string()),
        ]));
        cm.data = Some(BTreeMap::from([("k".to_string(), "v".to_string())]));
        trim(&mut cm);
        assert_eq!(cm.metadata.managed_fields, None);
        assert_eq!(
            cm.metadata.annotations,
            Some(BTreeMap::from([("team".to_string(), "voice".to_string())]))
        );
        assert_eq!(cm.metadata.name.as_deref(), Some("a"));
        assert_eq!(
            cm.data,
            Some(BTreeMap::from([("k".to_string(), "v".to_string())]))
        );
    }

    #[test]
    fn an_object_with_only_the_last_applied_annotation_has_none_left() {
        let mut cm = ConfigMap::default();
        cm.metadata.annotations = Some(BTreeMap::from([(
            LAST_APPLIED.to_string(),
            "{}".to_string(),
        )]));
        trim(&mut cm);
        assert_eq!(cm.metadata.annotations, None);
    }
}
