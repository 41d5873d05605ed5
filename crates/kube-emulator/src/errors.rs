//! API errors in the shape of the real API server's `Status` object (notes §9), and the
//! emulator's own start-up error type.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::schema::Cause;

/// Errors from starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("kube-emulator: cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// An error answered to a client as a `Status` body with the matching HTTP code.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Answer `message` as `text/plain` instead of a `Status` (Go's mux `404 page not found`).
    pub plain_text: bool,
    /// A `Retry-After` header (seconds).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            plain_text: false,
            retry_after: None,
        }
    }

    /// `Status.details`, without the empty `name`/`group` members Go's `omitempty` drops.
    fn with_details(mut self, mut d: Value) -> Self {
        if let Some(m) = d.as_object_mut() {
            m.retain(|k, v| !(matches!(k.as_str(), "name" | "group" | "kind") && v == ""));
        }
        self.details = Some(d);
        self
    }

    /// Unknown path or resource not served.
    pub fn not_found_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// What kube-apiserver's path multiplexer answers for a group or version it does not serve,
    /// and the apiextensions server for an unknown resource of a custom group-version: a
    /// plain-text `404 page not found` (no `Status`).
    pub fn page_not_found() -> Self {
        let mut e = Self::new(404, "NotFound", "404 page not found\n");
        e.plain_text = true;
        e
    }

    /// `429 TooManyRequests` with `Retry-After` (a real server's watch cache still initializing).
    pub fn too_many_requests(message: impl Into<String>, retry_after_seconds: u64) -> Self {
        let mut e = Self::new(429, "TooManyRequests", message)
            .with_details(json!({"retryAfterSeconds": retry_after_seconds}));
        e.retry_after = Some(retry_after_seconds);
        e
    }

    /// `widgets.example.com "w1" not found` (core: `configmaps "c1" not found`).
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(group, plural)),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(404, "NotFound", format!("namespaces \"{ns}\" not found"))
            .with_details(json!({"name": ns, "kind": "namespaces"}))
    }

    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(group, plural)),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    pub fn conflict(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(group, plural)
            ),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    /// 422 Invalid with causes; `kind` is the Kind (not the plural).
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[Cause]) -> Self {
        let parts: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let joined = if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("[{}]", parts.join(", "))
        };
        let gk = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        Self::new(
            422,
            "Invalid",
            format!("{gk} \"{name}\" is invalid: {joined}"),
        )
        .with_details(json!({"name": name, "group": group, "kind": kind, "causes": causes}))
    }

    /// A single-field 422 Invalid.
    pub fn invalid_field(
        group: &str,
        kind: &str,
        name: &str,
        reason: &str,
        field: &str,
        message: &str,
    ) -> Self {
        Self::invalid(
            group,
            kind,
            name,
            &[Cause {
                reason: reason.to_string(),
                message: message.to_string(),
                field: field.to_string(),
            }],
        )
    }

    /// A JSON patch that failed to apply (a `test` that failed, a path that is missing): upstream
    /// answers the bare message, without the reason.
    pub fn patch_failed() -> Self {
        Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        )
        .with_details(json!({}))
    }

    /// An internal error as upstream reports it: code 500 and no `reason`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    /// A patch type the resource does not take (strategic merge on a custom resource).
    pub fn unsupported_patch_type() -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// The `Status` JSON body.
    pub fn status_body(&self) -> Value {
        let mut v = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        });
        if self.reason.is_empty()
            && let Some(m) = v.as_object_mut()
        {
            m.remove("reason");
        }
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

/// `plural.group`, or just `plural` for the core group.
pub fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (body, ct) = if self.plain_text {
            (self.message.clone(), "text/plain; charset=utf-8")
        } else {
            (self.status_body().to_string(), "application/json")
        };
        let mut resp = (code, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
