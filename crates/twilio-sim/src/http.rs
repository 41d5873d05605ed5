//! The HTTP front: one fallback handler for every Twilio API path (count → faults → auth →
//! execute), and the `/_sim/...` admin endpoints (never subject to faults).

use crate::api::{self, Params, Reply};
use crate::config::{CommitFailMode, FaultConfig};
use crate::error::ApiError;
use crate::routes::{self, ROUTE_TEMPLATES};
use crate::server::ConnHandle;
use crate::sim::Simulator;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::Rng;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub(crate) fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/_sim/faults", get(get_faults).put(put_faults))
        .route("/_sim/counters", get(get_counters))
        .route("/_sim/state", get(get_state))
        .fallback(api_entry)
        .with_state(sim)
}

async fn get_faults(State(sim): State<Simulator>) -> Response {
    axum::Json(sim.faults()).into_response()
}

async fn put_faults(State(sim): State<Simulator>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(f) => {
            sim.set_faults(f.clone());
            axum::Json(f).into_response()
        }
        Err(e) => ApiError::bad_request(20001, format!("invalid fault configuration: {e}"))
            .into_response(),
    }
}

async fn get_counters(State(sim): State<Simulator>) -> Response {
    axum::Json(sim.counters()).into_response()
}

async fn get_state(State(sim): State<Simulator>) -> Response {
    axum::Json(api::dump_state(&sim)).into_response()
}

/// What the fault dice decided for one request.
struct Decision {
    delay_ms: u64,
    drop: bool,
    too_many: bool,
    unavailable: bool,
    commit_fail: bool,
    retry_after: Option<u64>,
}

fn decide(sim: &Simulator) -> Decision {
    let f = sim.inner.faults();
    let mut rng = sim.inner.rng.lock().unwrap_or_else(|p| p.into_inner());
    let mut roll = |rate: f64| rate > 0.0 && rng.random::<f64>() < rate;
    let drop = roll(f.drop_connection_rate);
    let too_many = roll(f.rate_429);
    let unavailable = roll(f.error_5xx_rate);
    let commit_fail = roll(f.commit_then_fail_rate);
    let jitter = if f.jitter_ms > 0 {
        rng.random_range(0..=f.jitter_ms)
    } else {
        0
    };
    Decision {
        delay_ms: f.latency_ms + jitter,
        drop,
        too_many,
        unavailable,
        commit_fail,
        retry_after: f.retry_after_secs,
    }
}

/// Closes the connection without a response (exact under `Simulator::serve`; elsewhere the
/// response body fails right after the head).
fn drop_connection(conn: Option<&ConnHandle>) -> Response {
    if let Some(c) = conn {
        c.kill();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "dropped",
        ))
    });
    Response::new(Body::from_stream(stream))
}

async fn api_entry(State(sim): State<Simulator>, req: Request) -> Response {
    let conn = req
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|c| c.0.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let auth_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let route = routes::parse(&method, &path);
    let idx = route.as_ref().map_or(ROUTE_TEMPLATES.len(), |r| r.index());
    if let Some(c) = sim.inner.route_counts.get(idx) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    let in_flight = sim.enter(auth_header.as_deref());
    if let (Some(g), Some(limit)) = (&in_flight, sim.inner.settings.max_concurrent_requests)
        && g.level > limit as u64
    {
        sim.inner.fault_concurrency.fetch_add(1, Ordering::Relaxed);
        return ApiError::new(429, 20429, "Too Many Requests").into_response();
    }
    let d = decide(&sim);
    if d.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(d.delay_ms)).await;
    }
    if d.drop {
        sim.inner.fault_dropped.fetch_add(1, Ordering::Relaxed);
        return drop_connection(conn.as_ref());
    }
    if d.too_many {
        sim.inner.fault_429.fetch_add(1, Ordering::Relaxed);
        let mut r = ApiError::new(429, 20429, "Too Many Requests").into_response();
        if let Some(s) = d.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    if d.unavailable {
        sim.inner.fault_5xx.fetch_add(1, Ordering::Relaxed);
        return ApiError::new(503, 20503, "Service is unavailable, please try again")
            .into_response();
    }

    let Some(route) = route else {
        let known = [Method::GET, Method::POST, Method::DELETE]
            .iter()
            .any(|m| routes::parse(m, &path).is_some());
        if known {
            return ApiError::new(405, 20004, format!("Method {method} not allowed on {path}"))
                .into_response();
        }
        return ApiError::not_found(&path).into_response();
    };
    let body = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::bad_request(20001, "request body too large or unreadable")
                .into_response();
        }
    };
    let q = Params::parse(&query);
    let form = Params::parse(&String::from_utf8_lossy(&body));
    let result = api::execute(&sim, auth_header.as_deref(), &route, &path, &q, &form);
    match result {
        Ok(reply) => {
            if reply.purchased && d.commit_fail {
                sim.inner.fault_commit.fetch_add(1, Ordering::Relaxed);
                return match sim.inner.settings.commit_then_fail {
                    CommitFailMode::DropConnection => drop_connection(conn.as_ref()),
                    CommitFailMode::Error500 => {
                        ApiError::new(500, 20500, "Internal Server Error").into_response()
                    }
                };
            }
            into_response(reply)
        }
        Err(e) => e.into_response(),
    }
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    match reply.body {
        Some(v) => (status, axum::Json(v)).into_response(),
        None => status.into_response(),
    }
}
