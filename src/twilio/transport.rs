//! One HTTP exchange with retries: admission (per-account limits), Basic auth, encoding, error
//! classification (notes §2, §9) and the retry policy — idempotent calls retry 429/5xx/transport
//! failures with full-jitter backoff; creates retry only when the request was certainly not
//! executed (429, connect failure) and otherwise report `OutcomeUnknown`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::client::ClientStats;
use super::limits::Limiters;
use super::secret::Credentials;
use super::{ErrorClass, TwilioError};

/// A `Retry-After` longer than this is not waited out inline: the error is returned (Retryable)
/// and the caller requeues.
const MAX_INLINE_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest response body quoted in an error message when it is not Twilio's JSON error.
const MAX_QUOTED_BODY: usize = 200;

/// Whether repeating a request can do harm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// GET, DELETE, update POST: repeating is harmless.
    Idempotent,
    /// POST that creates something: repeat only when it was certainly not executed.
    Create,
}

/// A request to send.
pub(crate) struct Request<'a> {
    pub operation: &'static str,
    pub method: Method,
    pub url: Url,
    pub form: Vec<(&'static str, String)>,
    pub kind: Kind,
    /// The account whose limits apply.
    pub limit_key: &'a str,
}

#[derive(Default)]
pub(crate) struct Stats {
    requests: Mutex<BTreeMap<&'static str, u64>>,
    total: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    outcome_unknown: AtomicU64,
}

impl Stats {
    fn sent(&self, op: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut m = match self.requests.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        *m.entry(op).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> ClientStats {
        let requests = match self.requests.lock() {
            Ok(m) => m.clone(),
            Err(p) => p.into_inner().clone(),
        };
        ClientStats {
            requests,
            total_requests: self.total.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            outcome_unknown: self.outcome_unknown.load(Ordering::Relaxed),
        }
    }
}

/// Retry policy numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Policy {
    /// Full jitter: random(0, min(cap, base × 2^attempt)).
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt.min(30)));
        let ceiling = exp.min(self.backoff_cap);
        if ceiling.is_zero() {
            return Duration::ZERO;
        }
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// Twilio's error body (notes §2).
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    more_info: Option<String>,
}

/// Outcome of one attempt.
enum Attempt {
    Done(u16, Vec<u8>),
    /// Failed; `retry_after` from the response, if any.
    Failed(TwilioError, Option<Duration>),
}

/// Told of every completed HTTP attempt: operation, status code (None when no answer arrived)
/// and latency. Metrics hook in here without the client depending on them.
pub(crate) type Observer = Arc<dyn Fn(&'static str, Option<u16>, Duration) + Send + Sync>;

pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub limiters: Limiters,
    pub stats: Stats,
    pub policy: Policy,
    pub observer: RwLock<Option<Observer>>,
}

impl Transport {
    /// Sends `req` (with retries) and returns the 2xx status and body.
    pub(crate) async fn send(
        &self,
        creds: &Credentials,
        req: &Request<'_>,
    ) -> Result<(u16, Vec<u8>), TwilioError> {
        let limiter = self.limiters.for_account(req.limit_key);
        let mut attempt: u32 = 0;
        loop {
            let outcome = {
                let _permit = limiter.admit().await;
                self.attempt(creds, req).await
            };
            let (err, retry_after) = match outcome {
                Attempt::Done(status, body) => return Ok((status, body)),
                Attempt::Failed(err, retry_after) => (err, retry_after),
            };
            if err.class != ErrorClass::Retryable || attempt >= self.policy.max_retries {
                if err.class == ErrorClass::OutcomeUnknown {
                    self.stats.outcome_unknown.fetch_add(1, Ordering::Relaxed);
                }
                return Err(err);
            }
            let wait = match retry_after {
                Some(ra) if ra > MAX_INLINE_RETRY_AFTER => return Err(err),
                Some(ra) => ra,
                None => self.policy.backoff(attempt),
            };
            tracing::debug!(
                operation = req.operation,
                attempt = attempt + 1,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %err,
                "twilio request failed, retrying"
            );
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            attempt += 1;
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, creds: &Credentials, req: &Request<'_>) -> Attempt {
        let (user, pass) = creds.basic();
        let mut rb = self
            .http
            .request(req.method.clone(), req.url.clone())
            .basic_auth(user, Some(pass))
            .header(reqwest::header::ACCEPT, "application/json");
        if req.method == Method::POST {
            rb = rb.form(&req.form);
        }
        self.stats.sent(req.operation);
        tracing::debug!(
            operation = req.operation,
            method = %req.method,
            path = req.url.path(),
            "twilio request"
        );
        let started = Instant::now();
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                self.observe(req.operation, None, started);
                return Attempt::Failed(self.transport_error(req, &e), None);
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                self.observe(req.operation, None, started);
                return Attempt::Failed(self.transport_error(req, &e), None);
            }
        };
        self.observe(req.operation, Some(status), started);
        tracing::debug!(operation = req.operation, status, "twilio response");
        if (200..300).contains(&status) {
            return Attempt::Done(status, body);
        }
        if status == 429 {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        }
        let class = match status {
            // Not executed (notes §9): safe to retry, creates included.
            429 => ErrorClass::Retryable,
            500..=599 => match req.kind {
                Kind::Idempotent => ErrorClass::Retryable,
                Kind::Create => ErrorClass::OutcomeUnknown,
            },
            _ => ErrorClass::Permanent,
        };
        Attempt::Failed(http_error(req.operation, class, status, &body), retry_after)
    }

    fn observe(&self, operation: &'static str, status: Option<u16>, started: Instant) {
        let observer = match self.observer.read() {
            Ok(o) => o.clone(),
            Err(p) => p.into_inner().clone(),
        };
        if let Some(observer) = observer {
            observer(operation, status, started.elapsed());
        }
    }

    fn transport_error(&self, req: &Request<'_>, e: &reqwest::Error) -> TwilioError {
        // A connect failure means the request never left: retrying cannot duplicate anything.
        let not_sent = e.is_connect();
        let class = match (req.kind, not_sent) {
            (Kind::Idempotent, _) | (Kind::Create, true) => ErrorClass::Retryable,
            (Kind::Create, false) => ErrorClass::OutcomeUnknown,
        };
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "transport error"
        };
        // reqwest's message names the URL (no credentials: they travel in a header).
        TwilioError::new(class, req.operation, format!("{what}: {e}"))
    }
}

/// Builds the error for a non-2xx response from Twilio's error body (or the raw text).
fn http_error(operation: &'static str, class: ErrorClass, status: u16, body: &[u8]) -> TwilioError {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let code = parsed.as_ref().and_then(|b| match &b.code {
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|c| u32::try_from(c).ok()),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    });
    let message = parsed
        .as_ref()
        .and_then(|b| b.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text: String = text.chars().take(MAX_QUOTED_BODY).collect();
            if text.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                text
            }
        });
    TwilioError {
        class,
        status: Some(status),
        code,
        message,
        more_info: parsed.and_then(|b| b.more_info),
        operation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = Policy {
            max_retries: 3,
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(250),
        };
        for attempt in 0..10 {
            let d = p.backoff(attempt);
            let ceiling = Duration::from_millis(100 * (1 << attempt.min(8))).min(p.backoff_cap);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
        let zero = Policy {
            backoff_base: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn error_body_parsed() {
        let e = http_error(
            "fetch_incoming",
            ErrorClass::Permanent,
            404,
            br#"{"code": 20404, "message": "not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#,
        );
        assert!(e.is_not_found());
        assert_eq!(e.code(), Some(20404));
        assert_eq!(e.message, "not found");
        let e = http_error("x", ErrorClass::Retryable, 502, b"<html>bad gateway</html>");
        assert_eq!(e.code, None);
        assert_eq!(e.message, "<html>bad gateway</html>");
        let e = http_error("x", ErrorClass::Retryable, 503, b"");
        assert_eq!(e.message, "HTTP 503");
    }
}
