//! HTTP server and routing: one fallback handler parses the Kubernetes path shapes
//! (`/api/v1/...`, `/apis/{g}/{v}/...`, namespaced or cluster-scoped, subresources) and
//! dispatches to discovery, OpenAPI, CRUD, patch, delete and watch handlers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use serde_json::Value;
use tokio::sync::watch;

use crate::errors::ApiError;
use crate::faults::{Counters, Faults};
use crate::resources::ResourceInfo;
use crate::store::State;

/// State shared by every request.
pub struct Shared {
    pub state: Mutex<State>,
    pub rv_tx: watch::Sender<u64>,
    pub drop_tx: watch::Sender<u64>,
    pub faults: Faults,
    pub counters: Counters,
    pub pager: crate::paging::Pager,
    pub bearer_token: Option<String>,
    pub bookmark_interval: std::time::Duration,
    pub addr: SocketAddr,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wake watchers after a write (call with the new revision).
    pub fn notify(&self, rv: u64) {
        self.rv_tx.send_if_modified(|cur| {
            if *cur != rv {
                *cur = rv;
                true
            } else {
                false
            }
        });
    }
}

/// A parsed request.
pub struct Req {
    pub method: Method,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    pub fn q_bool(&self, k: &str) -> bool {
        matches!(self.q(k), Some("true" | "1"))
    }

    pub fn accept(&self) -> &str {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The resource a request addresses.
pub struct Target {
    pub res: Arc<ResourceInfo>,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

impl Target {
    /// Namespace for storage keys ("" for cluster-scoped).
    pub fn ns_key(&self) -> &str {
        if self.res.namespaced {
            self.ns.as_deref().unwrap_or("")
        } else {
            ""
        }
    }
}

/// A JSON response with optional `Warning` headers.
pub fn json_response(code: u16, body: &Value, warnings: &[String]) -> Response {
    let mut resp = (
        StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        body.to_string(),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

pub fn with_content_type(mut resp: Response, ct: &'static str) -> Response {
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn router(shared: Arc<Shared>) -> axum::Router {
    // kube-apiserver accepts request bodies up to 3 MiB (etcd's value limit is about that).
    axum::Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::max(3 * 1024 * 1024))
        .with_state(shared)
}

async fn handle(
    AxState(shared): AxState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(tok) = &shared.bearer_token {
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(format!("Bearer {tok}").as_str()) {
            return ApiError::unauthorized().into_response();
        }
    }
    let req = Req {
        method,
        query: parse_query(uri.query()),
        headers,
        body,
    };
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    match route(&shared, &req, &segs).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn route(shared: &Arc<Shared>, req: &Req, segs: &[&str]) -> Result<Response, ApiError> {
    use crate::discovery as d;
    match segs {
        ["version"] => Ok(d::version()),
        ["healthz" | "readyz" | "livez", ..] => Ok((StatusCode::OK, "ok").into_response()),
        ["api"] => Ok(d::core_versions(shared, req)),
        ["apis"] => Ok(d::group_list(shared, req)),
        ["api", "v1"] => d::resource_list(shared, "", "v1"),
        ["apis", g] => d::group(shared, g),
        ["apis", g, v] => d::resource_list(shared, g, v),
        ["openapi", "v3"] => Ok(crate::openapi::index(shared)),
        ["openapi", "v3", rest @ ..] => crate::openapi::gv_doc(shared, rest),
        ["api", "v1", rest @ ..] => resource(shared, req, "", "v1", rest).await,
        ["apis", g, v, rest @ ..] => resource(shared, req, g, v, rest).await,
        ["api", ..] => Err(ApiError::not_found_path()),
        _ => Err(ApiError::page_not_found()),
    }
}

/// The API groups kube-apiserver v1.37 serves itself (go-restful answers unknown paths in them
/// with a `Status`); paths in any other group end at the mux (`404 page not found`).
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// A 404 for a path in `group` that names nothing served: a `Status` in built-in groups, the
/// mux's plain text elsewhere.
pub fn not_found_in_group(group: &str) -> ApiError {
    if BUILTIN_GROUPS.contains(&group) {
        ApiError::not_found_path()
    } else {
        ApiError::page_not_found()
    }
}

fn resolve(shared: &Shared, group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let st = shared.lock();
    let find = |plural: &str| st.find_resource(group, version, plural);
    let t = |res, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| Target {
        res,
        ns: ns.map(String::from),
        name: name.map(String::from),
        sub: sub.map(String::from),
    };
    let missing = || not_found_in_group(group);
    // the apiextensions server answers any path below an object it does not serve (unknown
    // subresource, extra segments) as if the object were missing
    let no_object = |res: &ResourceInfo, name: &str| {
        if res.custom {
            ApiError::not_found(&res.group, &res.plural, name)
        } else {
            ApiError::not_found_path()
        }
    };
    let target = match rest {
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            let res = find(plural).ok_or_else(missing)?;
            match tail {
                [] => t(res, Some(ns), None, None),
                [name] => t(res, Some(ns), Some(name), None),
                [name, sub] => t(res, Some(ns), Some(name), Some(sub)),
                [name, ..] => return Err(no_object(&res, name)),
            }
        }
        [plural, tail @ ..] => {
            let res = find(plural).ok_or_else(missing)?;
            match tail {
                [] => t(res, None, None, None),
                [name] if !res.namespaced => t(res, None, Some(name), None),
                [name, sub] if !res.namespaced => t(res, None, Some(name), Some(sub)),
                [name, ..] if !res.namespaced => return Err(no_object(&res, name)),
                _ => return Err(ApiError::not_found_path()),
            }
        }
        _ => return Err(missing()),
    };
    if let Some(sub) = &target.sub
        && !(sub == "status" && target.res.has_status)
        && !(sub == "finalize" && target.res.plural == "namespaces" && target.res.group.is_empty())
    {
        return Err(no_object(
            &target.res,
            target.name.as_deref().unwrap_or_default(),
        ));
    }
    Ok(target)
}

async fn resource(
    shared: &Arc<Shared>,
    req: &Req,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Response, ApiError> {
    let target = resolve(shared, group, version, rest)?;
    let m = &req.method;
    if m == Method::GET
        && target.name.is_none()
        && !req.q_bool("watch")
        && target.res.custom
        && shared.faults.take_storage_initializing()
    {
        return Err(ApiError::too_many_requests(
            "storage is (re)initializing",
            1,
        ));
    }
    match (m, target.name.is_some()) {
        (&Method::GET, false) if req.q_bool("watch") => {
            Ok(crate::watch::serve(shared.clone(), req, target))
        }
        (&Method::GET, false) => crate::crud::list(shared, req, &target),
        (&Method::GET, true) => crate::crud::get(shared, req, &target),
        (&Method::POST, false) => crate::crud::create(shared, req, &target),
        (&Method::PUT, true) => crate::crud::update(shared, req, &target),
        (&Method::PATCH, true) => crate::patch::handle(shared, req, &target),
        (&Method::DELETE, true) => crate::delete::delete_one(shared, req, &target),
        (&Method::DELETE, false)
            if target.res.group.is_empty() && target.res.plural == "namespaces" =>
        {
            Err(ApiError::method_not_allowed())
        }
        (&Method::DELETE, false) => crate::delete::delete_collection(shared, req, &target),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// A streaming body from a channel of chunks.
pub fn stream_body(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Body {
    let s = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Body::from_stream(s)
}
