//! Kubernetes events (events.k8s.io/v1) with a bounded memory of the recent ones.
//!
//! Why not kube's `Recorder`: it remembers every event it published for six minutes and scans
//! that whole memory on every publish. A burst of 10,000 purchases made it hold 10,000 events
//! (12–24 MB of the operator's heap) and spend a pass over all of them per event, for series of
//! one. Like client-go's event correlator, this keeps the most recent [`RECENT_SERIES`] series in
//! an LRU: a repeat of the same event on the same object within [`SERIES_WINDOW`] bumps the
//! series count of the Event already written (a merge patch of `series`) instead of creating
//! another; anything older or evicted starts a new Event. Memory is bounded whatever the number
//! of objects.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// How many series are remembered (client-go's correlator keeps 4096 too).
pub const RECENT_SERIES: usize = 4096;

/// A repeat within this window joins the earlier event's series (kube's `Recorder` used 6 min).
pub const SERIES_WINDOW: SignedDuration = SignedDuration::from_mins(6);

/// What makes two events one series: the object, who reports, type, reason and action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SeriesKey {
    namespace: Option<String>,
    /// The object's UID, or its kind and name when the reference has none.
    object: String,
    warning: bool,
    reason: String,
    action: String,
}

impl SeriesKey {
    fn of(ev: &Event, regarding: &ObjectReference) -> Self {
        let object = regarding.uid.clone().unwrap_or_else(|| {
            format!(
                "{}/{}",
                regarding.kind.as_deref().unwrap_or_default(),
                regarding.name.as_deref().unwrap_or_default()
            )
        });
        Self {
            namespace: regarding.namespace.clone(),
            object,
            warning: ev.type_ == EventType::Warning,
            reason: ev.reason.clone(),
            action: ev.action.clone(),
        }
    }
}

/// The Event written for a series, and how often it was seen.
#[derive(Clone, Debug)]
struct Series {
    name: String,
    count: i32,
    last: Timestamp,
}

/// Publishes events for one reporting controller instance.
pub struct EventPublisher {
    client: kube::Client,
    reporter: Reporter,
    recent: Mutex<lru::LruCache<SeriesKey, Series>>,
}

impl EventPublisher {
    pub fn new(client: kube::Client, reporter: Reporter) -> Self {
        let capacity = NonZeroUsize::new(RECENT_SERIES).unwrap_or(NonZeroUsize::MIN);
        Self {
            client,
            reporter,
            recent: Mutex::new(lru::LruCache::new(capacity)),
        }
    }

    /// How many series are remembered now (at most [`RECENT_SERIES`]).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.recent.lock().map(|r| r.len()).unwrap_or_default()
    }

    /// Publishes `ev` about `regarding`: a new Event, or the next count of a recent series.
    pub async fn publish(
        &self,
        ev: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let key = SeriesKey::of(ev, regarding);
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let events: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        if let Some(series) = self.next_in_series(&key, now) {
            let patch = serde_json::json!({
                "series": EventSeries { count: series.count, last_observed_time: MicroTime(now) }
            });
            match events
                .patch(&series.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return Ok(()),
                // The Event expired on the server (its TTL) or was deleted: start a new one.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let event = self.new_event(ev, regarding, now);
        let created = events.create(&PostParams::default(), &event).await?;
        let name = created.metadata.name.unwrap_or_default();
        if let Ok(mut recent) = self.recent.lock() {
            recent.put(
                key,
                Series {
                    name,
                    count: 1,
                    last: now,
                },
            );
        }
        Ok(())
    }

    /// The series `key` continues (its count bumped), if it was seen within the window.
    fn next_in_series(&self, key: &SeriesKey, now: Timestamp) -> Option<Series> {
        let mut recent = self.recent.lock().ok()?;
        let fresh = recent
            .peek(key)
            .is_some_and(|s| s.last + SERIES_WINDOW > now);
        if !fresh {
            recent.pop(key);
            return None;
        }
        let series = recent.get_mut(key)?;
        series.count = series.count.saturating_add(1).max(2);
        series.last = now;
        Some(series.clone())
    }

    fn new_event(&self, ev: &Event, regarding: &ObjectReference, now: Timestamp) -> K8sEvent {
        let controller = self.reporter.controller.clone();
        let name = format!(
            "{}.{:x}",
            regarding.name.as_deref().unwrap_or(&controller),
            now.as_nanosecond()
        );
        K8sEvent {
            action: Some(ev.action.clone()),
            reason: Some(ev.reason.clone()),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            related: ev.secondary.clone(),
            note: ev.note.clone(),
            metadata: ObjectMeta {
                namespace: regarding.namespace.clone(),
                name: Some(name),
                ..Default::default()
            },
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            reporting_controller: Some(controller),
            type_: Some(
                match ev.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .into(),
            ),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A client whose API server records each request's method and path and answers from
    /// `answer(method, path, body)`.
    type Seen = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

    fn client(status_for_patch: u16) -> (kube::Client, Seen) {
        let seen: Seen = Default::default();
        let log = seen.clone();
        let svc = tower::service_fn(move |req: http::Request<kube::client::Body>| {
            let log = log.clone();
            async move {
                let method = req.method().to_string();
                let path = req.uri().path().to_string();
                let bytes = req.into_body().collect_bytes().await.unwrap_or_default();
                let body: serde_json::Value =
                    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                log.lock()
                    .unwrap()
                    .push((method.clone(), path, body.clone()));
                let (code, answer) = if method == "PATCH" && status_for_patch != 200 {
                    (
                        status_for_patch,
                        serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": "NotFound", "code": status_for_patch, "message": "gone"}),
                    )
                } else {
                    (200, body)
                };
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .status(code)
                        .body(kube::client::Body::from(
                            serde_json::to_vec(&answer).unwrap_or_default(),
                        ))
                        .unwrap(),
                )
            }
        });
        (kube::Client::new(svc, "default"), seen)
    }

    fn publisher(client: kube::Client) -> EventPublisher {
        EventPublisher::new(
            client,
            Reporter {
                controller: "telephony.agni.ai/telephony-operator".into(),
                instance: Some("op-0".into()),
            },
        )
    }

    fn object(uid: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some("telephony.agni.ai/v1alpha1".into()),
            kind: Some("PhoneNumber".into()),
            name: Some(format!("pn-{uid}")),
            namespace: Some("team".into()),
            uid: Some(uid.into()),
            ..Default::default()
        }
    }

    fn warning(reason: &str) -> Event {
        Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some("why".into()),
            action: reason.into(),
            secondary: None,
        }
    }

    #[tokio::test]
    async fn a_repeat_bumps_the_series_of_the_event_written_first() {
        let (client, seen) = client(200);
        let events = publisher(client);
        let pn = object("u1");
        for _ in 0..3 {
            events.publish(&warning("NotReady"), &pn).await.unwrap();
        }
        let seen = seen.lock().unwrap().clone();
        let methods: Vec<&str> = seen.iter().map(|(m, _, _)| m.as_str()).collect();
        assert_eq!(methods, ["POST", "PATCH", "PATCH"]);
        let created = &seen[0].2;
        assert_eq!(
            created["reportingController"],
            "telephony.agni.ai/telephony-operator"
        );
        assert_eq!(created["reportingInstance"], "op-0");
        assert_eq!(created["type"], "Warning");
        assert_eq!(created["regarding"]["uid"], "u1");
        assert!(created["eventTime"].is_string());
        let name = created["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("pn-u1."));
        assert_eq!(
            seen[1].1,
            format!("/apis/events.k8s.io/v1/namespaces/team/events/{name}")
        );
        assert_eq!(seen[1].2["series"]["count"], 2);
        assert_eq!(seen[2].2["series"]["count"], 3);
        assert!(seen[2].2["series"]["lastObservedTime"].is_string());
    }

    #[tokio::test]
    async fn other_objects_and_reasons_are_other_events() {
        let (client, seen) = client(200);
        let events = publisher(client);
        events
            .publish(&warning("NotReady"), &object("u1"))
            .await
            .unwrap();
        events
            .publish(&warning("Purchased"), &object("u1"))
            .await
            .unwrap();
        events
            .publish(&warning("NotReady"), &object("u2"))
            .await
            .unwrap();
        let methods: Vec<String> = seen.lock().unwrap().iter().map(|s| s.0.clone()).collect();
        assert_eq!(methods, ["POST", "POST", "POST"]);
    }

    #[tokio::test]
    async fn a_series_whose_event_is_gone_starts_a_new_event() {
        let (client, seen) = client(404);
        let events = publisher(client);
        let pn = object("u1");
        events.publish(&warning("NotReady"), &pn).await.unwrap();
        events.publish(&warning("NotReady"), &pn).await.unwrap();
        let methods: Vec<String> = seen.lock().unwrap().iter().map(|s| s.0.clone()).collect();
        assert_eq!(methods, ["POST", "PATCH", "POST"]);
    }

    #[tokio::test]
    async fn memory_is_bounded_by_the_recent_series() {
        let (client, _) = client(200);
        let events = publisher(client);
        for i in 0..(RECENT_SERIES + 100) {
            let pn = object(&format!("u{i}"));
            events.publish(&warning("Purchased"), &pn).await.unwrap();
        }
        assert_eq!(events.remembered(), RECENT_SERIES);
    }
}
