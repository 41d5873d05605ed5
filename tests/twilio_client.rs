//! Behaviour of the Twilio client over real HTTP: paging, error classes, retries and their limits
//! (429 + Retry-After, 5xx, timeouts, dropped connections), creates never repeated when their
//! outcome is unknown, API-key and parent-credential auth, per-account concurrency, and secrets
//! never reaching logs, errors or `Debug` output.
//!
//! Fault timing needs exact control, so these tests use a small scripted Twilio stand-in
//! (`mock`, below); `sim_*` tests run the same calls against the `twilio-sim` simulator.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use telephony_operator::twilio::{
    Credentials, ErrorClass, IncomingFilter, NumberConfig, PurchaseRequest, Routing, Secret,
    TwilioClient, TwilioClientConfig, TwilioError, codes,
};
use tokio::time::Instant;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SUB: &str = "ACfedcba9876543210fedcba9876543210";
/// Known secrets: the redaction test asserts they never appear in any captured output.
const TOKEN: &str = "tok3n-SUPER-secret-0123456789abcdef";
const KEY_SID: &str = "SK0123456789abcdef0123456789abcdef";
const KEY_SECRET: &str = "k3y-SUPER-secret-fedcba9876543210";

// ---------------------------------------------------------------------------------------------
// Log capture (installed once per test binary, at TRACE, for every test).

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        capture
    })
}

// ---------------------------------------------------------------------------------------------
// Scripted Twilio stand-in.

mod mock {
    use super::*;

    /// One scripted answer, consumed by the next request to a matching operation.
    #[derive(Clone, Debug)]
    pub struct Reply {
        pub status: u16,
        pub body: Value,
        pub retry_after: Option<u64>,
        /// Sleep before answering (to provoke client timeouts).
        pub delay: Duration,
        /// Whether the action (e.g. a purchase) happens before this answer.
        pub execute: bool,
    }

    impl Reply {
        pub fn error(status: u16, code: u32) -> Reply {
            Reply {
                status,
                body: json!({"code": code, "message": format!("scripted {code}"),
                    "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
                retry_after: None,
                delay: Duration::ZERO,
                execute: false,
            }
        }
    }

    #[derive(Clone, Debug)]
    pub struct Hit {
        pub method: String,
        pub path: String,
        pub query: Vec<(String, String)>,
        pub form: Vec<(String, String)>,
        pub user: String,
        pub at: Instant,
    }

    #[derive(Default)]
    pub struct Mock {
        /// Scripted replies by operation name (`buy`, `list`, `fetch`, …).
        pub script: Mutex<Vec<(&'static str, VecDeque<Reply>)>>,
        pub hits: Mutex<Vec<Hit>>,
        /// Purchases that happened.
        pub executed_buys: AtomicU32,
        /// Numbers owned (for paging).
        pub owned: AtomicUsize,
        pub inflight: AtomicUsize,
        pub max_inflight: AtomicUsize,
        /// Hold every request this long (concurrency test).
        pub hold: Mutex<Duration>,
    }

    impl Mock {
        pub fn script(&self, op: &'static str, replies: Vec<Reply>) {
            self.script.lock().unwrap().push((op, replies.into()));
        }

        fn next_scripted(&self, op: &str) -> Option<Reply> {
            let mut s = self.script.lock().unwrap();
            s.iter_mut()
                .find(|(o, q)| *o == op && !q.is_empty())
                .and_then(|(_, q)| q.pop_front())
        }

        pub fn hits(&self) -> Vec<Hit> {
            self.hits.lock().unwrap().clone()
        }

        pub fn hits_of(&self, method: &str, path_suffix: &str) -> Vec<Hit> {
            self.hits()
                .into_iter()
                .filter(|h| h.method == method && h.path.ends_with(path_suffix))
                .collect()
        }
    }

    fn op_of(method: &Method, path: &str) -> &'static str {
        let m = method.as_str();
        if path.ends_with("/IncomingPhoneNumbers.json") {
            if m == "POST" { "buy" } else { "list" }
        } else if path.contains("/IncomingPhoneNumbers/") {
            match m {
                "POST" => "update",
                "DELETE" => "release",
                _ => "fetch",
            }
        } else if path.ends_with("/Accounts.json") {
            if m == "POST" {
                "create_subaccount"
            } else {
                "list_accounts"
            }
        } else if path.ends_with("/Balance.json") {
            "balance"
        } else if path.starts_with("/v1/") || path.starts_with("/v2/") {
            "pricing"
        } else {
            "account"
        }
    }

    pub fn number(i: usize, account: &str) -> Value {
        json!({"sid": format!("PN{:032x}", i), "account_sid": account,
            "phone_number": format!("+1415555{:04}", i), "friendly_name": format!("number {i}"),
            "capabilities": {"voice": true, "SMS": true, "MMS": false, "fax": false},
            "status": "in-use", "type": "local", "date_created": "Thu, 30 Jul 2015 23:19:04 +0000",
            "voice_url": "", "voice_method": "POST", "sms_url": null, "address_requirements": "none",
            "uri": format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/PN{:032x}.json", i)})
    }

    fn account_of(path: &str) -> String {
        path.split('/')
            .nth(3)
            .unwrap_or("")
            .trim_end_matches(".json")
            .to_owned()
    }

    fn default_reply(
        method: &Method,
        path: &str,
        query: &[(String, String)],
        form: &[(String, String)],
        mock: &Mock,
    ) -> (u16, Value) {
        let account = account_of(path);
        match op_of(method, path) {
            "list" => {
                let total = mock.owned.load(Ordering::SeqCst);
                let size: usize = query
                    .iter()
                    .find(|(k, _)| k == "PageSize")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(50);
                let start: usize = query
                    .iter()
                    .find(|(k, _)| k == "PageToken")
                    .and_then(|(_, v)| v.trim_start_matches("PA").parse().ok())
                    .unwrap_or(0);
                let end = (start + size).min(total);
                let items: Vec<Value> = (start..end).map(|i| number(i, &account)).collect();
                let filters: Vec<(String, String)> = query
                    .iter()
                    .filter(|(k, _)| k != "PageToken" && k != "Page")
                    .cloned()
                    .collect();
                let next = (end < total).then(|| {
                    let mut q = filters.clone();
                    q.push(("Page".into(), (start / size + 1).to_string()));
                    q.push(("PageToken".into(), format!("PA{end}")));
                    format!("{path}?{}", serde_urlencoded::to_string(&q).unwrap())
                });
                (
                    200,
                    json!({"incoming_phone_numbers": items, "page": start / size, "page_size": size,
                    "start": start, "end": end.saturating_sub(1), "next_page_uri": next,
                    "uri": format!("{path}?{}", serde_urlencoded::to_string(query).unwrap())}),
                )
            }
            "buy" => {
                let mut n = number(
                    7000 + mock.executed_buys.load(Ordering::SeqCst) as usize,
                    &account,
                );
                if let Some((_, p)) = form.iter().find(|(k, _)| k == "PhoneNumber") {
                    n["phone_number"] = json!(p);
                }
                (201, n)
            }
            "fetch" | "update" => {
                let mut n = number(1, &account);
                for (k, v) in form {
                    if k == "FriendlyName" {
                        n["friendly_name"] = json!(v);
                    }
                    if k == "VoiceUrl" {
                        n["voice_url"] = json!(v);
                    }
                }
                (200, n)
            }
            "release" => (204, Value::Null),
            "balance" => (
                200,
                json!({"account_sid": account, "balance": "12.34", "currency": "USD"}),
            ),
            "account" | "create_subaccount" => (
                if op_of(method, path) == "account" {
                    200
                } else {
                    201
                },
                json!({"sid": if account.is_empty() { SUB.to_owned() } else { account.clone() }, "owner_account_sid": ACCOUNT,
                    "friendly_name": "acme", "status": "active", "type": "Full", "auth_token": TOKEN,
                    "date_created": "Thu, 30 Jul 2015 20:00:00 +0000"}),
            ),
            "list_accounts" => (200, json!({"accounts": [], "next_page_uri": null})),
            _ => (
                200,
                json!({"country": "United States", "iso_country": "US", "price_unit": "USD",
                "phone_number_prices": [{"number_type": "local", "base_price": "1.00", "current_price": "1.15"}]}),
            ),
        }
    }

    fn user_of(headers: &HeaderMap) -> Option<(String, String)> {
        let h = headers.get("authorization")?.to_str().ok()?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(h.strip_prefix("Basic ")?)
            .ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (u, p) = s.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }

    async fn handle(
        State(mock): State<Arc<Mock>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = uri.path().to_owned();
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let (user, pass) = user_of(&headers).unwrap_or_default();
        mock.hits.lock().unwrap().push(Hit {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            form: form.clone(),
            user: user.clone(),
            at: Instant::now(),
        });
        let now = mock.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        mock.max_inflight.fetch_max(now, Ordering::SeqCst);
        let hold = *mock.hold.lock().unwrap();
        tokio::time::sleep(hold).await;
        let resp = respond(&mock, &method, &path, &query, &form, &user, &pass).await;
        mock.inflight.fetch_sub(1, Ordering::SeqCst);
        resp
    }

    async fn respond(
        mock: &Mock,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        form: &[(String, String)],
        user: &str,
        pass: &str,
    ) -> Response {
        let authed = (user == ACCOUNT && pass == TOKEN) || (user == KEY_SID && pass == KEY_SECRET);
        if !authed {
            return reply(Reply::error(401, codes::AUTHENTICATION), None);
        }
        let op = op_of(method, path);
        let (status, body) = default_reply(method, path, query, form, mock);
        match mock.next_scripted(op) {
            Some(r) => {
                tokio::time::sleep(r.delay).await;
                if r.execute && op == "buy" {
                    mock.executed_buys.fetch_add(1, Ordering::SeqCst);
                }
                reply(r, Some((status, body)))
            }
            None => {
                if op == "buy" {
                    mock.executed_buys.fetch_add(1, Ordering::SeqCst);
                }
                reply(
                    Reply {
                        status,
                        body,
                        retry_after: None,
                        delay: Duration::ZERO,
                        execute: true,
                    },
                    None,
                )
            }
        }
    }

    fn reply(r: Reply, default: Option<(u16, Value)>) -> Response {
        let (status, body) = match (r.status, default) {
            (0, Some(d)) => d,
            _ => (r.status, r.body),
        };
        let status = StatusCode::from_u16(status).unwrap();
        let mut resp = if body.is_null() {
            status.into_response()
        } else {
            (status, axum::Json(body)).into_response()
        };
        if let Some(s) = r.retry_after {
            resp.headers_mut()
                .insert("retry-after", s.to_string().parse().unwrap());
        }
        resp
    }

    pub async fn start() -> (Arc<Mock>, url::Url) {
        let mock = Arc::new(Mock::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(mock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (mock, url::Url::parse(&format!("http://{addr}/")).unwrap())
    }

    /// A server that reads each request and closes the connection without answering.
    pub async fn dropper() -> (Arc<AtomicU32>, url::Url) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicU32::new(0));
        let c = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let c = c.clone();
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = vec![0u8; 65536];
                    let mut seen = Vec::new();
                    while let Ok(n) = sock.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                            c.fetch_add(1, Ordering::SeqCst);
                            return; // drop: connection reset / closed with no response
                        }
                    }
                });
            }
        });
        (count, url::Url::parse(&format!("http://{addr}/")).unwrap())
    }
}

use mock::Reply;

fn creds() -> Credentials {
    Credentials::AuthToken {
        account_sid: ACCOUNT.into(),
        auth_token: Secret::new(TOKEN.into()),
    }
}

fn key_creds() -> Credentials {
    Credentials::ApiKey {
        account_sid: ACCOUNT.into(),
        key_sid: KEY_SID.into(),
        key_secret: Secret::new(KEY_SECRET.into()),
    }
}

fn client(base: &url::Url) -> TwilioClient {
    logs();
    TwilioClient::new(TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base.clone(),
        timeout: Duration::from_secs(5),
        max_retries: 3,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        ..Default::default()
    })
    .unwrap()
}

fn buy_req(n: &str) -> PurchaseRequest {
    PurchaseRequest {
        phone_number: Some(n.into()),
        area_code: None,
        config: NumberConfig {
            friendly_name: Some("line 1".into()),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn paging_follows_next_page_uri_across_pages() {
    let (mock, base) = mock::start().await;
    mock.owned.store(7, Ordering::SeqCst);
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    let all = api
        .list_incoming(&IncomingFilter {
            phone_number: Some("+1415".into()),
            friendly_name: None,
            page_size: Some(3),
        })
        .await
        .unwrap();
    let sids: Vec<String> = all.iter().map(|n| n.sid.clone()).collect();
    let want: Vec<String> = (0..7).map(|i| format!("PN{i:032x}")).collect();
    assert_eq!(sids, want);
    let hits = mock.hits_of("GET", "/IncomingPhoneNumbers.json");
    assert_eq!(hits.len(), 3, "3 pages of 3");
    // The follow-ups used the server's next_page_uri (token + repeated filters).
    for h in &hits[1..] {
        assert!(h.query.iter().any(|(k, _)| k == "PageToken"), "{h:?}");
        assert!(
            h.query.contains(&("PhoneNumber".into(), "+1415".into())),
            "{h:?}"
        );
    }
    // Parsed leniently: upper-case capability keys, "" and null URLs unset, RFC 2822 dates.
    assert!(all[0].capabilities.sms && all[0].capabilities.voice);
    assert_eq!(all[0].voice_url, None);
    assert_eq!(all[0].sms_url, None);
    assert_eq!(
        all[0].date_created.unwrap().to_string(),
        "2015-07-30T23:19:04Z"
    );
    assert_eq!(c.stats().requests_for("list_incoming"), 3);
    // Default page size is the maximum, 1000.
    api.list_incoming(&IncomingFilter::default()).await.unwrap();
    let last = mock.hits().pop().unwrap();
    assert!(last.query.contains(&("PageSize".into(), "1000".into())));
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let (mock, base) = mock::start().await;
    let mut r = Reply::error(429, codes::TOO_MANY_REQUESTS);
    r.retry_after = Some(1);
    mock.script("fetch", vec![r]);
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    let n = api
        .fetch_incoming("PN00000000000000000000000000000001")
        .await
        .unwrap();
    assert_eq!(n.sid, format!("PN{:032x}", 1));
    let hits = mock.hits_of("GET", ".json");
    assert_eq!(hits.len(), 2);
    let waited = hits[1].at.duration_since(hits[0].at);
    assert!(
        waited >= Duration::from_secs(1),
        "retried after {waited:?}, Retry-After was 1 s"
    );
    let s = c.stats();
    assert_eq!((s.throttled, s.retries), (1, 1));
}

#[tokio::test]
async fn create_is_retried_on_429_because_it_was_not_executed() {
    let (mock, base) = mock::start().await;
    mock.script(
        "buy",
        vec![
            Reply::error(429, codes::TOO_MANY_REQUESTS),
            Reply::error(429, codes::TOO_MANY_REQUESTS),
        ],
    );
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    let n = api.buy(&buy_req("+14155550100")).await.unwrap();
    assert_eq!(n.phone_number, "+14155550100");
    assert_eq!(mock.hits_of("POST", "/IncomingPhoneNumbers.json").len(), 3);
    assert_eq!(mock.executed_buys.load(Ordering::SeqCst), 1);
    // 429 beyond the retry budget is Retryable (never OutcomeUnknown).
    mock.script("buy", vec![Reply::error(429, codes::TOO_MANY_REQUESTS); 4]);
    let e = api.buy(&buy_req("+14155550101")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Retryable);
    assert_eq!(e.code(), Some(codes::TOO_MANY_REQUESTS));
    assert_eq!(mock.executed_buys.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn get_5xx_is_retried_then_gives_up_retryable() {
    let (mock, base) = mock::start().await;
    mock.script(
        "fetch",
        vec![Reply::error(503, 20503), Reply::error(500, 20500)],
    );
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    api.fetch_incoming("PN00000000000000000000000000000001")
        .await
        .unwrap();
    assert_eq!(mock.hits().len(), 3);
    mock.script("fetch", vec![Reply::error(503, 20503); 10]);
    let e = api
        .fetch_incoming("PN00000000000000000000000000000001")
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!((e.status, e.code()), (Some(503), Some(20503)));
    assert_eq!(mock.hits().len(), 3 + 4, "1 attempt + max_retries 3");
    // DELETE and update POST are idempotent: retried too.
    mock.script("release", vec![Reply::error(502, 20500)]);
    api.release("PN00000000000000000000000000000001")
        .await
        .unwrap();
    mock.script("update", vec![Reply::error(503, 20503)]);
    let cfg = NumberConfig {
        voice_url: Some("https://x.example/v".into()),
        ..Default::default()
    };
    let n = api
        .update_incoming("PN00000000000000000000000000000001", &cfg)
        .await
        .unwrap();
    assert_eq!(n.voice_url.as_deref(), Some("https://x.example/v"));
    assert_eq!(mock.hits_of("POST", "1.json").len(), 2);
}

#[tokio::test]
async fn create_after_commit_then_5xx_is_outcome_unknown_and_not_retried() {
    let (mock, base) = mock::start().await;
    let mut r = Reply::error(500, 20500);
    r.execute = true; // the purchase happened, then the answer failed
    mock.script("buy", vec![r]);
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    let e = api.buy(&buy_req("+14155550102")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::OutcomeUnknown);
    assert!(e.is_outcome_unknown() && !e.is_retryable());
    assert_eq!(
        mock.hits_of("POST", "/IncomingPhoneNumbers.json").len(),
        1,
        "never retried"
    );
    assert_eq!(mock.executed_buys.load(Ordering::SeqCst), 1);
    assert_eq!(c.stats().outcome_unknown, 1);
    assert!(e.to_string().contains("check the inventory"), "{e}");
    // Same for subaccount creation.
    mock.script("create_subaccount", vec![Reply::error(503, 20503)]);
    let e = api.create_subaccount("tenant").await.unwrap_err();
    assert!(e.is_outcome_unknown());
    assert_eq!(mock.hits_of("POST", "/Accounts.json").len(), 1);
}

#[tokio::test]
async fn create_timeout_after_send_is_outcome_unknown_get_timeout_is_retried() {
    let (mock, base) = mock::start().await;
    let mut slow = Reply::error(0, 0);
    slow.delay = Duration::from_secs(3);
    slow.execute = true;
    mock.script("buy", vec![slow.clone()]);
    logs();
    let c = TwilioClient::new(TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base.clone(),
        timeout: Duration::from_millis(300),
        max_retries: 2,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(2),
        ..Default::default()
    })
    .unwrap();
    let api = c.account(&creds(), &Routing::default());
    let e = api.buy(&buy_req("+14155550103")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::OutcomeUnknown, "{e}");
    assert_eq!(mock.hits_of("POST", "/IncomingPhoneNumbers.json").len(), 1);
    mock.script("fetch", vec![slow.clone(), slow]);
    let n = api
        .fetch_incoming("PN00000000000000000000000000000001")
        .await
        .unwrap();
    assert_eq!(n.sid, format!("PN{:032x}", 1));
    assert_eq!(
        mock.hits_of("GET", "1.json").len(),
        3,
        "two timeouts then success"
    );
}

#[tokio::test]
async fn dropped_connection_create_unknown_get_retried_refused_create_retryable() {
    let (count, base) = mock::dropper().await;
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    let e = api.buy(&buy_req("+14155550104")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::OutcomeUnknown, "{e}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "create sent once");
    let e = api
        .fetch_incoming("PN00000000000000000000000000000001")
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Retryable, "{e}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 4, "GET: 1 + 3 retries");

    // Nothing listening: the request never left, so even a create is safely retryable.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = url::Url::parse(&format!("http://{}/", l.local_addr().unwrap())).unwrap();
    drop(l);
    let c = client(&dead);
    let e = c
        .account(&creds(), &Routing::default())
        .buy(&buy_req("+14155550105"))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Retryable, "{e}");
}

#[tokio::test]
async fn permanent_errors_are_classified_and_not_retried() {
    let (mock, base) = mock::start().await;
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    for code in [
        codes::NUMBER_UNAVAILABLE,
        codes::INVALID_NUMBER,
        codes::ADDRESS_REQUIRED,
        codes::BUNDLE_REQUIRED,
        codes::NO_NUMBERS_IN_AREA_CODE,
    ] {
        mock.script("buy", vec![Reply::error(400, code)]);
        let before = mock.hits().len();
        let e = api.buy(&buy_req("+14155550106")).await.unwrap_err();
        assert_eq!(
            (e.class, e.code(), e.status),
            (ErrorClass::Permanent, Some(code), Some(400))
        );
        assert_eq!(mock.hits().len(), before + 1);
        assert!(e.more_info.as_deref().unwrap().ends_with(&code.to_string()));
        assert_eq!(e.operation, "buy");
    }
    mock.script("release", vec![Reply::error(404, codes::NOT_FOUND)]);
    let e = api
        .release("PN00000000000000000000000000000009")
        .await
        .unwrap_err();
    assert!(e.is_not_found() && !e.is_retryable());
    mock.script(
        "fetch",
        vec![Reply::error(403, codes::TEST_CREDENTIALS_NOT_ALLOWED)],
    );
    let e = api
        .fetch_incoming("PN00000000000000000000000000000009")
        .await
        .unwrap_err();
    assert_eq!((e.class, e.code()), (ErrorClass::Permanent, Some(20008)));
    // Wrong credentials.
    let bad = Credentials::AuthToken {
        account_sid: ACCOUNT.into(),
        auth_token: Secret::new("wrong".into()),
    };
    let e = c
        .account(&bad, &Routing::default())
        .balance()
        .await
        .unwrap_err();
    assert!(e.is_auth() && e.class == ErrorClass::Permanent);
    assert_eq!(e.code(), Some(codes::AUTHENTICATION));
    // A purchase without number or area code is refused before any request.
    let before = mock.hits().len();
    let e = api.buy(&PurchaseRequest::default()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert_eq!(mock.hits().len(), before);
}

#[tokio::test]
async fn api_key_and_parent_credentials_on_subaccount() {
    let (mock, base) = mock::start().await;
    let c = client(&base);
    let keyed = c.account(&key_creds(), &Routing::default());
    assert_eq!(keyed.account_sid(), ACCOUNT);
    let b = keyed.balance().await.unwrap();
    assert_eq!(b.balance.to_string(), "12.34");
    let h = mock.hits().pop().unwrap();
    assert_eq!(h.user, KEY_SID, "API key SID is the Basic username");
    assert_eq!(
        h.path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Balance.json"),
        "path carries the AC SID"
    );

    let sub = c.subaccount(
        &creds(),
        SUB,
        &Routing {
            region: Some("ie1".into()),
            edge: Some("dublin".into()),
        },
    );
    assert_eq!(sub.account_sid(), SUB);
    sub.buy(&buy_req("+14155550107")).await.unwrap();
    let h = mock.hits().pop().unwrap();
    assert_eq!(h.user, ACCOUNT, "parent credentials");
    assert_eq!(
        h.path,
        format!("/2010-04-01/Accounts/{SUB}/IncomingPhoneNumbers.json")
    );
    assert!(
        h.form
            .contains(&("PhoneNumber".into(), "+14155550107".into()))
    );
    assert!(h.form.contains(&("FriendlyName".into(), "line 1".into())));
    let acct = sub.fetch_account().await.unwrap();
    assert_eq!(acct.sid, SUB);
    assert_eq!(
        acct.date_created.unwrap().to_string(),
        "2015-07-30T20:00:00Z"
    );
    // Pricing has no account in the path: it acts for the credentials' owner.
    let p = sub.number_prices("US").await.unwrap();
    assert_eq!(
        p.monthly_fee(telephony_operator::twilio::NumberKind::Local)
            .unwrap()
            .to_string(),
        "1.15"
    );
    let h = mock.hits().pop().unwrap();
    assert_eq!(
        (h.path.as_str(), h.user.as_str()),
        ("/v1/PhoneNumbers/Countries/US", ACCOUNT)
    );
}

#[tokio::test]
async fn concurrency_is_capped_per_account() {
    let (mock, base) = mock::start().await;
    *mock.hold.lock().unwrap() = Duration::from_millis(150);
    logs();
    let c = TwilioClient::new(TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base.clone(),
        per_account_concurrency: 2,
        ..Default::default()
    })
    .unwrap();
    let api = c.account(&creds(), &Routing::default());
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.balance().await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    assert_eq!(
        mock.max_inflight.load(Ordering::SeqCst),
        2,
        "8 calls, cap 2"
    );
    assert_eq!(c.stats().requests_for("balance"), 8);
}

#[tokio::test]
async fn secrets_never_in_logs_errors_or_debug() {
    let (mock, base) = mock::start().await;
    let c = client(&base);
    let mut errors: Vec<TwilioError> = Vec::new();
    for creds in [creds(), key_creds()] {
        let api = c.account(&creds, &Routing::default());
        let sub = c.subaccount(&creds, SUB, &Routing::default());
        // Success paths (the account body carries an auth_token field).
        let acct = api.fetch_account().await.unwrap();
        let acct_dbg = format!("{acct:?}");
        assert!(!acct_dbg.contains(TOKEN), "{acct_dbg}");
        api.buy(&buy_req("+14155550108")).await.unwrap();
        // Failure paths.
        mock.script("fetch", vec![Reply::error(503, 20503); 4]);
        errors.push(
            sub.fetch_incoming("PN00000000000000000000000000000001")
                .await
                .unwrap_err(),
        );
        mock.script("buy", vec![Reply::error(400, codes::BUNDLE_REQUIRED)]);
        errors.push(sub.buy(&buy_req("+447700900123")).await.unwrap_err());
        for text in [
            format!("{creds:?}"),
            format!("{api:?}"),
            format!("{sub:?}"),
            format!("{c:?}"),
        ] {
            assert!(
                !text.contains(TOKEN) && !text.contains(KEY_SECRET),
                "{text}"
            );
        }
        tracing::info!(credentials = ?creds, api = ?api, "debug of credentials in a log line");
    }
    let bad = Credentials::AuthToken {
        account_sid: ACCOUNT.into(),
        auth_token: Secret::new(format!("{TOKEN}-x")),
    };
    errors.push(
        c.account(&bad, &Routing::default())
            .balance()
            .await
            .unwrap_err(),
    );
    let (_, dropper) = mock::dropper().await;
    errors.push(
        client(&dropper)
            .account(&creds(), &Routing::default())
            .buy(&buy_req("+14155550109"))
            .await
            .unwrap_err(),
    );
    for e in &errors {
        let text = format!("{e} / {e:?}");
        assert!(
            !text.contains(TOKEN) && !text.contains(KEY_SECRET),
            "{text}"
        );
    }
    let captured = String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned();
    assert!(
        captured.contains("twilio request"),
        "the client logged its requests"
    );
    assert!(
        captured.contains("<redacted>"),
        "the Debug log line was captured"
    );
    assert!(!captured.contains(TOKEN), "auth token leaked into logs");
    assert!(
        !captured.contains(KEY_SECRET),
        "API key secret leaked into logs"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"));
    assert!(
        !captured.contains(&b64),
        "Authorization header leaked into logs"
    );
}
