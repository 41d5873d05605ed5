//! How the PhoneNumber controller's cache holds each object: compressed, with the few fields
//! that walks over all objects read kept beside it.
//!
//! Why: the cache holds every watched PhoneNumber for the life of the process. Decoded, a Ready
//! PhoneNumber is ~3.2 KiB of heap (35 allocations: a 1,248-byte struct, ~4 conditions of five
//! strings each, prices, renewal, metadata), 32 MB at 10,000 numbers — half of the operator's
//! heap. Almost all of it is read by one reconcile at a time, which can afford to decode its
//! object (~6 µs); the walks over every object (claim index, the account's inventory summary,
//! the state gauges) read only a [`PhoneNumberSummary`].
//!
//! A [`CompactPhoneNumber`] is the object's identity (name, namespace, generation, creation and
//! deletion time, in a plain `ObjectMeta` so it is a `Resource` the reflector, the scheduler and
//! `ObjectRef` work with), its summary, and the JSON of everything else compressed with LZ4
//! against a dictionary that is a typical PhoneNumber ([`TEMPLATE`]): keys, condition reasons
//! and the usual messages cost almost nothing, what is left is mostly the object's own numbers,
//! SIDs and times (~300 bytes). [`CompactPhoneNumber::decode`] gives back exactly the object
//! that was cached.
//!
//! The controller's watch ([`compact_reflector`]) reads PhoneNumbers and compacts each event
//! before the cache stores it, so no decoded object outlives the event that carried it.

use crate::api::PhoneNumber;
use crate::reconcile::phone_number::PhoneNumberSummary;
use futures::{Stream, TryStreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::reflector::{self, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::sync::LazyLock;

/// A typical PhoneNumber in the form the compressed part is written in: the dictionary every
/// object is compressed against. Only the ratio depends on it, never what is decoded.
pub const TEMPLATE: &str = r#"{
  "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
  "metadata": {"finalizers": ["telephony.agni.ai/finalizer"]},
  "spec": {
    "accountRef": {"name": "account"},
    "search": {"country": "US", "type": "Local", "areaCode": 415, "capabilities": {"voice": true, "sms": true}},
    "voice": {"url": "https://example.com/voice", "method": "POST"},
    "maxMonthlyPrice": "2.00", "renewal": {"autoRenew": true}, "deletionPolicy": "Release"
  },
  "status": {
    "phase": "Active", "phoneNumber": "+14155550100", "sid": "PN00000000000000000000000000000000",
    "accountSid": "AC00000000000000000000000000000000", "country": "US", "type": "Local",
    "capabilities": {"voice": true, "sms": true, "mms": false},
    "locality": "San Francisco", "region": "CA", "purchasedAt": "2026-01-01T00:00:00.000000Z",
    "pricing": {"currency": "USD", "monthlyFee": "1.15", "inboundPerMinute": "0.0085",
      "outboundPerMinute": "0.014", "source": "TwilioPricingAPI", "fetchedAt": "2026-01-01T00:00:00Z"},
    "renewal": {"policy": "Managed", "periodDays": 28, "lastRenewedAt": "2026-01-01T00:00:00.000000Z",
      "nextRenewalAt": "2026-01-29T00:00:00.000000Z", "autoRenew": true, "period": 1},
    "conditions": [
      {"type": "Ready", "status": "True", "observedGeneration": 1,
       "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Active",
       "message": "+14155550100 is active in account AC00000000000000000000000000000000"},
      {"type": "Purchased", "status": "True", "observedGeneration": 1,
       "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Purchased",
       "message": "+14155550100 (PN00000000000000000000000000000000) is in account AC00000000000000000000000000000000"},
      {"type": "ConfigSynced", "status": "True", "observedGeneration": 1,
       "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "InSync",
       "message": "Twilio holds the configuration of the spec"},
      {"type": "RenewalDue", "status": "False", "observedGeneration": 1,
       "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Paid",
       "message": "paid until 2026-01-29T00:00:00.000000Z"}
    ],
    "observedGeneration": 1,
    "message": "+14155550100 is active in account AC00000000000000000000000000000000"
  }
}"#;

/// [`TEMPLATE`] as serde writes a PhoneNumber (field order and spacing of the compressed part).
static DICTIONARY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    serde_json::from_str::<PhoneNumber>(TEMPLATE)
        .and_then(|pn| serde_json::to_vec(&pn))
        .unwrap_or_default()
});

/// Why a cached object could not be decoded (not expected: it was encoded by this process).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cached PhoneNumber is corrupt: {0}")]
    Decompress(#[from] lz4_flex::block::DecompressError),
    #[error("cached PhoneNumber is not a PhoneNumber: {0}")]
    Json(#[from] serde_json::Error),
}

/// A PhoneNumber as the controller's cache holds it (see the module docs).
#[derive(Clone)]
pub struct CompactPhoneNumber {
    /// Name, namespace, generation, creation and deletion time. Not the uid and resourceVersion:
    /// every `ObjectRef` made of this object (the cache's key, the scheduler's two copies of
    /// each pending reconcile) copies those two strings of the object's `meta()`, ~80 bytes
    /// each time; they are in `body` (nothing reads them from the cache: the watch reads each
    /// event's resourceVersion before the object is compacted, see [`compact_reflector`]).
    metadata: ObjectMeta,
    summary: PhoneNumberSummary,
    /// LZ4 (size-prefixed, against [`DICTIONARY`]) of the JSON of the object without the fields
    /// kept in `metadata`. Empty if the object could not be encoded: decoding then fails and the
    /// reconcile reads the object from the API server.
    body: Box<[u8]>,
}

impl CompactPhoneNumber {
    /// Compacts `pn`, trimmed of what no reader needs (`cache_trim::trim`).
    pub fn compact(mut pn: PhoneNumber) -> Self {
        super::cache_trim::trim(&mut pn);
        let summary = PhoneNumberSummary::of(&pn);
        let m = &mut pn.metadata;
        let metadata = ObjectMeta {
            name: m.name.take(),
            namespace: m.namespace.take(),
            generation: m.generation.take(),
            creation_timestamp: m.creation_timestamp.take(),
            deletion_timestamp: m.deletion_timestamp.take(),
            ..ObjectMeta::default()
        };
        let body = match serde_json::to_vec(&pn) {
            Ok(json) => lz4_flex::block::compress_prepend_size_with_dict(&json, &DICTIONARY)
                .into_boxed_slice(),
            Err(e) => {
                tracing::warn!(phone_number = ?metadata.name, error = %e, "PhoneNumber not cached compactly; it is read from the API server when reconciled");
                Box::default()
            }
        };
        Self {
            metadata,
            summary,
            body,
        }
    }

    /// The object as it was cached.
    pub fn decode(&self) -> Result<PhoneNumber, DecodeError> {
        let json = lz4_flex::block::decompress_size_prepended_with_dict(&self.body, &DICTIONARY)?;
        let mut pn: PhoneNumber = serde_json::from_slice(&json)?;
        let (m, kept) = (&mut pn.metadata, &self.metadata);
        m.name.clone_from(&kept.name);
        m.namespace.clone_from(&kept.namespace);
        m.generation = kept.generation;
        m.creation_timestamp.clone_from(&kept.creation_timestamp);
        m.deletion_timestamp.clone_from(&kept.deletion_timestamp);
        Ok(pn)
    }

    /// What walks over many objects read (account, phase, numbers, monthly fee).
    pub fn summary(&self) -> &PhoneNumberSummary {
        &self.summary
    }

    /// Bytes of the compressed part.
    #[cfg(test)]
    fn compressed_len(&self) -> usize {
        self.body.len()
    }
}

impl std::fmt::Debug for CompactPhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactPhoneNumber")
            .field("namespace", &self.metadata.namespace)
            .field("name", &self.metadata.name)
            .field("summary", &self.summary)
            .field("compressed_len", &self.body.len())
            .finish()
    }
}

impl Resource for CompactPhoneNumber {
    type DynamicType = ();
    type Scope = <PhoneNumber as Resource>::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        PhoneNumber::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        PhoneNumber::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        PhoneNumber::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        PhoneNumber::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Reads a PhoneNumber and compacts it. kube-runtime's `Controller` requires its object type to
/// be deserializable; the controller's watch itself reads PhoneNumbers and compacts each event
/// ([`compact_reflector`]): kube's watcher reads each object's resourceVersion, which the
/// compact form does not keep.
impl<'de> Deserialize<'de> for CompactPhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PhoneNumber::deserialize(deserializer).map(Self::compact)
    }
}

/// A watch of `api` whose PhoneNumbers reach the returned store compact, with `observe` shown
/// every (compact) event just before the store applies it (the store still holds the previous
/// version of the object): what `Controller::new(api, wc)` builds, with the cache holding
/// [`CompactPhoneNumber`]s. Pass both to `Controller::for_stream`.
pub fn compact_reflector(
    api: Api<PhoneNumber>,
    wc: watcher::Config,
    observe: impl Fn(&Store<CompactPhoneNumber>, &watcher::Event<CompactPhoneNumber>) + Send + 'static,
) -> (
    Store<CompactPhoneNumber>,
    impl Stream<Item = Result<CompactPhoneNumber, watcher::Error>> + Send + 'static,
) {
    let (store, writer) = reflector::store();
    let before = store.clone();
    let events = watcher(api, wc)
        .map_ok(compact_event)
        .inspect_ok(move |event| observe(&before, event));
    let stream = reflector(writer, events).applied_objects();
    (store, stream)
}

/// The same watch event with its objects compact.
pub fn compact_event(event: watcher::Event<PhoneNumber>) -> watcher::Event<CompactPhoneNumber> {
    use watcher::Event;
    match event {
        Event::Apply(pn) => Event::Apply(CompactPhoneNumber::compact(pn)),
        Event::Delete(pn) => Event::Delete(CompactPhoneNumber::compact(pn)),
        Event::Init => Event::Init,
        Event::InitApply(pn) => Event::InitApply(CompactPhoneNumber::compact(pn)),
        Event::InitDone => Event::InitDone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::ObjectRef;

    fn json(pn: &PhoneNumber) -> serde_json::Value {
        serde_json::to_value(pn).expect("serializes")
    }

    fn ready() -> PhoneNumber {
        let mut pn: PhoneNumber = serde_json::from_str(TEMPLATE).expect("the template parses");
        pn.metadata.name = Some("sales".into());
        pn.metadata.namespace = Some("acme".into());
        pn.metadata.uid = Some("0c1d9a8e-4b1f-4f0e-9b7a-2f8e5d6c7b8a".into());
        pn.metadata.resource_version = Some("4711".into());
        pn.metadata.generation = Some(3);
        pn.metadata.labels = Some([("team".to_string(), "voice".to_string())].into());
        let status = pn.status.as_mut().expect("status");
        status.phone_number = Some("+12125550199".into());
        status.sid = Some("PN9f8e7d6c5b4a39281706f5e4d3c2b1a0".into());
        pn
    }

    #[test]
    fn the_template_is_a_phone_number() {
        assert!(
            DICTIONARY.len() > 1000,
            "the dictionary is the serialized template"
        );
    }

    #[test]
    fn decoding_gives_back_the_cached_object() {
        let pn = ready();
        let compact = CompactPhoneNumber::compact(pn.clone());
        assert_eq!(json(&compact.decode().expect("decodes")), json(&pn));
        // Identity stays readable without decoding, as the reflector and the scheduler need it.
        assert_eq!(compact.meta().name.as_deref(), Some("sales"));
        assert_eq!(compact.meta().generation, Some(3));
        assert_eq!(
            ObjectRef::from_obj(&compact),
            ObjectRef::new("sales").within("acme")
        );
        assert_eq!(compact.summary(), &PhoneNumberSummary::of(&pn));
        // The rest is only in the compressed part: not copied into every ObjectRef.
        assert_eq!(compact.meta().uid, None);
        assert_eq!(compact.meta().resource_version, None);
        let key = ObjectRef::from_obj(&compact);
        assert_eq!((key.extra.uid, key.extra.resource_version), (None, None));
        assert_eq!(compact.meta().labels, None);
        assert_eq!(compact.meta().finalizers, None);
    }

    #[test]
    fn a_typical_ready_number_compresses_to_a_few_hundred_bytes() {
        let pn = ready();
        let json = serde_json::to_vec(&pn).expect("json").len();
        let compact = CompactPhoneNumber::compact(pn);
        assert!(
            compact.compressed_len() * 4 < json,
            "{} bytes compressed from {json}",
            compact.compressed_len()
        );
    }

    #[test]
    fn an_object_unlike_the_template_still_round_trips() {
        let mut pn: PhoneNumber = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "x", "namespace": "n", "deletionTimestamp": "2026-01-01T00:00:00Z",
                         "annotations": {"a": "ü ✓"}, "finalizers": ["other/finalizer"]},
            "spec": {"accountRef": {"name": "ünïcode"}, "number": "+442071838750",
                     "sms": {"url": "https://x.example/sms?a=b&c=d"}},
        }))
        .expect("parses");
        pn.status = None;
        let compact = CompactPhoneNumber::compact(pn.clone());
        assert_eq!(json(&compact.decode().expect("decodes")), json(&pn));
        assert!(compact.meta().deletion_timestamp.is_some());
    }

    #[test]
    fn deserializing_trims_and_compacts() {
        let mut value = serde_json::to_value(ready()).expect("json");
        value["metadata"]["managedFields"] = serde_json::json!([{"manager": "kubectl"}]);
        value["metadata"]["annotations"] = serde_json::json!({
            crate::controller::cache_trim::LAST_APPLIED: "{}", "kept": "yes"
        });
        let compact: CompactPhoneNumber = serde_json::from_value(value).expect("deserializes");
        let pn = compact.decode().expect("decodes");
        assert_eq!(pn.metadata.managed_fields, None);
        assert_eq!(
            pn.metadata.annotations,
            Some([("kept".to_string(), "yes".to_string())].into())
        );
        assert_eq!(pn.status, ready().status);
    }

    #[test]
    fn a_corrupt_body_is_an_error_not_a_panic() {
        let mut compact = CompactPhoneNumber::compact(ready());
        compact.body = vec![200, 0, 0, 0, 1, 2, 3].into_boxed_slice();
        assert!(compact.decode().is_err());
        compact.body = Box::default();
        assert!(compact.decode().is_err());
    }
}
