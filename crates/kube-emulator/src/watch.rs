//! Watch streams: replay strictly after a resourceVersion from the bounded history (ERROR 410
//! when too old), synthetic ADDED for an initial list, `sendInitialEvents` streaming lists, the
//! initial-events-end bookmark after any initial events when bookmarks are allowed (as 1.37
//! does for watches from "now" too), periodic bookmarks, `timeoutSeconds`, selector
//! transitions, upstream's ListOptions checks (`sendInitialEvents` needs
//! `resourceVersionMatch=NotOlderThan`), one JSON event per line flushed per event.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::errors::ApiError;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::{Req, Shared, Target, stream_body};
use crate::store::{EventType, HistEvent};

struct Params {
    labels: LabelSelector,
    fields: FieldSelector,
    rv: Option<u64>,
    bookmarks: bool,
    initial_events: bool,
    timeout: Option<Duration>,
    metadata_only: bool,
    /// `Accept: ...as=Table` (kubectl get -w): each event object is a one-row Table.
    table: bool,
    include_object: String,
}

struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.counters.watches_open.fetch_sub(1, Ordering::Relaxed);
    }
}

pub fn serve(shared: Arc<Shared>, req: &Req, t: Target) -> Response {
    let (labels, fields) = match crate::crud::selectors(req, &t.res) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let rv = match req.q("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return ApiError::bad_request(format!("invalid resource version: {s}"))
                    .into_response();
            }
        },
    };
    // ListOptions validation of a watch (upstream's texts)
    let initial_events = req.q_bool("sendInitialEvents");
    let rv_match = req.q("resourceVersionMatch").filter(|m| !m.is_empty());
    let forbidden = |msg: &str| crate::schema::Cause {
        reason: "FieldValueForbidden".into(),
        message: format!("Forbidden: {msg}"),
        field: "resourceVersionMatch".into(),
    };
    let mut causes = Vec::new();
    if initial_events && rv_match != Some("NotOlderThan") {
        causes.push(forbidden(
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ));
    } else if let Some(m) = rv_match
        && !initial_events
    {
        causes.push(forbidden(
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ));
        if m != "NotOlderThan" {
            causes.push(crate::schema::Cause {
                reason: "FieldValueNotSupported".into(),
                message: format!(
                    "Unsupported value: {}: supported values: \"NotOlderThan\"",
                    serde_json::Value::String(m.to_string())
                ),
                field: "resourceVersionMatch".into(),
            });
        }
    }
    if !causes.is_empty() {
        return ApiError::invalid("meta.k8s.io", "ListOptions", "", &causes).into_response();
    }
    let p = Params {
        labels,
        fields,
        rv,
        bookmarks: req.q_bool("allowWatchBookmarks"),
        initial_events,
        timeout: req
            .q("timeoutSeconds")
            .and_then(|s| s.parse::<u64>().ok())
            .map(Duration::from_secs),
        metadata_only: req.accept().contains("as=PartialObjectMetadata"),
        table: req.accept().contains("as=Table"),
        include_object: req.q("includeObject").unwrap_or("Metadata").to_string(),
    };
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    shared.counters.watches_open.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(run(shared, t, p, tx));
    let mut resp = (StatusCode::OK, stream_body(rx)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn line(v: &Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

impl Params {
    fn matches(&self, t: &Target, obj: &Value) -> bool {
        let ns_ok = t
            .ns
            .as_deref()
            .is_none_or(|w| obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(w));
        ns_ok && self.labels.matches(obj) && self.fields.matches(obj)
    }

    fn event(&self, t: &Target, etype: &str, stored: &Value) -> Bytes {
        let view = t.res.to_view(stored);
        let obj = if self.table {
            let rv = view
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            crate::crud::render_table(
                &t.res,
                &self.include_object,
                std::slice::from_ref(&view),
                &rv,
            )
        } else if self.metadata_only {
            crate::crud::metadata_only(&view)
        } else {
            view
        };
        line(&json!({"type": etype, "object": obj}))
    }

    fn bookmark(&self, t: &Target, rv: u64, end_of_initial: bool) -> Bytes {
        let (kind, av) = if self.metadata_only {
            (
                "PartialObjectMetadata".to_string(),
                "meta.k8s.io/v1".to_string(),
            )
        } else {
            (t.res.kind.clone(), t.res.api_version())
        };
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if end_of_initial {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(&json!({"type":"BOOKMARK","object":{"kind": kind,"apiVersion": av,"metadata": meta}}))
    }

    fn translate(&self, t: &Target, ev: &HistEvent) -> Option<Bytes> {
        if *ev.key != *t.res.store_key {
            return None;
        }
        let now = self.matches(t, &ev.obj);
        match ev.etype {
            EventType::Added | EventType::Deleted => {
                now.then(|| self.event(t, ev.etype.as_str(), &ev.obj))
            }
            EventType::Modified => {
                let before = ev.prev.as_deref().is_some_and(|p| self.matches(t, p));
                match (before, now) {
                    (true, true) => Some(self.event(t, "MODIFIED", &ev.obj)),
                    (false, true) => Some(self.event(t, "ADDED", &ev.obj)),
                    (true, false) => Some(self.event(t, "DELETED", &ev.obj)),
                    (false, false) => None,
                }
            }
        }
    }
}

fn expired(want: u64, current: u64) -> Bytes {
    line(
        &json!({"type":"ERROR","object": ApiError::expired(format!("too old resource version: {want} ({current})")).status_body()}),
    )
}

enum Step {
    /// Changes to translate (outside the store lock).
    Events(Vec<HistEvent>),
    Expired(Bytes),
}

async fn run(shared: Arc<Shared>, t: Target, p: Params, tx: mpsc::Sender<Bytes>) {
    let _guard = OpenGuard(shared.clone());
    let mut rv_rx = shared.rv_tx.subscribe();
    let mut drop_rx = shared.drop_tx.subscribe();
    drop_rx.borrow_and_update();
    let deadline = p.timeout.map(|d| tokio::time::Instant::now() + d);
    let mut initial = Vec::new();
    let start: Result<u64, Bytes> = {
        let st = shared.lock();
        rv_rx.borrow_and_update();
        match p.rv {
            Some(r) if !p.initial_events => {
                if r < st.compacted {
                    Err(expired(r, st.rv))
                } else {
                    Ok(r.min(st.rv))
                }
            }
            _ => {
                // the selectors' candidates, then the watch's own test (which reads the
                // namespace from the object)
                for (_, o) in st.select(&t.res.store_key, None, &p.labels, &p.fields) {
                    if p.matches(&t, o) {
                        initial.push(p.event(&t, "ADDED", o));
                    }
                }
                // after the initial events (a streaming list, or the synthetic ADDED of a
                // watch from "now"), 1.37 marks their end for clients that take bookmarks
                if p.bookmarks {
                    initial.push(p.bookmark(&t, st.rv, true));
                }
                Ok(st.rv)
            }
        }
    };
    let mut last = match start {
        Ok(l) => l,
        Err(e) => {
            let _ = tx.send(e).await;
            return;
        }
    };
    for b in initial {
        if tx.send(b).await.is_err() {
            return;
        }
    }
    let mut tick = tokio::time::interval(shared.bookmark_interval.max(Duration::from_millis(10)));
    tick.tick().await;
    loop {
        let step = {
            let st = shared.lock();
            if last < st.compacted {
                Step::Expired(expired(last, st.rv))
            } else {
                let start = st.history.partition_point(|e| e.rv <= last);
                let out = st
                    .history
                    .range(start..)
                    .filter(|e| *e.key == *t.res.store_key)
                    .cloned()
                    .collect();
                last = st.rv;
                Step::Events(out)
            }
        };
        match step {
            Step::Expired(b) => {
                let _ = tx.send(b).await;
                return;
            }
            Step::Events(evs) => {
                for b in evs.iter().filter_map(|e| p.translate(&t, e)) {
                    if tx.send(b).await.is_err() {
                        return;
                    }
                }
            }
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = rv_rx.changed() => if r.is_err() { return },
            _ = drop_rx.changed() => return,
            _ = tx.closed() => return,
            _ = tick.tick() => {
                if p.bookmarks && tx.send(p.bookmark(&t, last, false)).await.is_err() {
                    return;
                }
            }
            // no bookmark before a `timeoutSeconds` close: kube-apiserver's watch context has no
            // deadline for its cache to aim a pre-timeout bookmark at (measured on 1.37.2)
            _ = sleep => return,
        }
    }
}
