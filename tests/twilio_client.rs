//! Behaviour of the Twilio client over real HTTP: paging, error classes, retries and their limits
//! (429 + Retry-After, 5xx, timeouts, dropped connections), creates never repeated when their
//! outcome is unknown, API-key and parent-credential auth, per-account concurrency, and secrets
//! never reaching logs, errors or `Debug` output.
//!
//! Two suites in one test binary, because the redaction checks need one process-wide log capture
//! (a global TRACE subscriber) that sees every request of both: tests that need exact control
//! over one fault use a small scripted stand-in (`fixtures/twilio/mock.rs`); `sim_*` tests run
//! the calls against the `twilio-sim` simulator with its fault injection and counters.

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
    ConfigField, Credentials, ErrorClass, IncomingFilter, NumberConfig, PurchaseRequest, Routing,
    Secret, TwilioClient, TwilioClientConfig, TwilioError, codes,
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

#[path = "fixtures/twilio/mock.rs"]
mod mock;

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
        config: NumberConfig::default().with(ConfigField::FriendlyName, "line 1"),
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
    assert_eq!(all[0].config[ConfigField::VoiceUrl], None);
    assert_eq!(all[0].config[ConfigField::SmsUrl], None);
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
    let cfg = NumberConfig::default().with(ConfigField::VoiceUrl, "https://x.example/v");
    let n = api
        .update_incoming("PN00000000000000000000000000000001", &cfg)
        .await
        .unwrap();
    assert_eq!(
        n.config[ConfigField::VoiceUrl].as_deref(),
        Some("https://x.example/v")
    );
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
async fn rate_limit_spaces_requests_per_account() {
    let (mock, base) = mock::start().await;
    logs();
    let c = TwilioClient::new(TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base.clone(),
        per_account_rate_per_sec: 4.0,
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
    let mut at: Vec<Instant> = mock.hits().iter().map(|h| h.at).collect();
    at.sort();
    // A burst of 4, then one every 250 ms: the 8th starts about 1 s after the first.
    let spread = at[7].duration_since(at[0]);
    assert!(
        spread >= Duration::from_millis(900),
        "8 requests at 4/s spread over {spread:?}"
    );
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

// ---------------------------------------------------------------------------------------------
// Against the `twilio-sim` simulator (state, auth, faults as the operator will meet them).

mod sim {
    use super::*;
    use telephony_operator::twilio::{AccountApi, NumberKind, SearchQuery};
    use twilio_sim::{CommitFailMode, FaultConfig, SimConfig, SimServer, Simulator};

    pub struct Env {
        pub sim: Simulator,
        pub _server: SimServer,
        pub client: TwilioClient,
        pub sid: String,
        pub creds: Credentials,
    }

    pub async fn env_with(config: SimConfig, tweak: impl FnOnce(&mut TwilioClientConfig)) -> Env {
        logs();
        let sim = Simulator::new(config);
        let acct = sim.add_account("acme");
        let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let base = url::Url::parse(&server.base_url()).unwrap();
        let mut cfg = TwilioClientConfig {
            api_base: base.clone(),
            pricing_base: base,
            timeout: Duration::from_secs(5),
            max_retries: 3,
            backoff_base: Duration::from_millis(1),
            backoff_cap: Duration::from_millis(5),
            ..Default::default()
        };
        tweak(&mut cfg);
        Env {
            client: TwilioClient::new(cfg).unwrap(),
            creds: Credentials::AuthToken {
                account_sid: acct.sid.clone(),
                auth_token: Secret::new(acct.auth_token.clone()),
            },
            sid: acct.sid,
            sim,
            _server: server,
        }
    }

    pub async fn env() -> Env {
        env_with(SimConfig::default(), |_| {}).await
    }

    impl Env {
        pub fn api(&self) -> AccountApi {
            self.client.account(&self.creds, &Routing::default())
        }
        pub fn route_count(&self, route: &str) -> u64 {
            self.sim
                .counters()
                .requests
                .get(route)
                .copied()
                .unwrap_or(0)
        }
    }

    pub fn us_local(area: u16) -> SearchQuery {
        SearchQuery {
            country: "US".into(),
            number_type: NumberKind::Local,
            area_code: Some(area),
            ..Default::default()
        }
    }

    pub async fn buy_any(api: &AccountApi, area: u16, n: usize) -> Vec<String> {
        let found = api.search_available(&us_local(area)).await.unwrap();
        assert!(found.len() >= n, "inventory offers {} numbers", found.len());
        let mut bought = Vec::new();
        for a in found.iter().take(n) {
            let got = api.buy(&buy_req(&a.phone_number)).await.unwrap();
            assert_eq!(got.phone_number, a.phone_number);
            bought.push(got.sid);
        }
        bought
    }

    pub fn faults(f: FaultConfig) -> FaultConfig {
        f
    }

    pub fn error500() -> SimConfig {
        let mut c = SimConfig::default();
        c.settings.commit_then_fail = CommitFailMode::Error500;
        c
    }

    /// Turns faults off once `done` says enough of them were injected.
    pub fn clear_faults_when(
        sim: &Simulator,
        done: impl Fn(&twilio_sim::Counters) -> bool + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let sim = sim.clone();
        tokio::spawn(async move {
            while !done(&sim.counters()) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            sim.set_faults(FaultConfig::default());
        })
    }
}

const LIST_ROUTE: &str = "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json";
const BUY_ROUTE: &str = "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json";
const FETCH_ROUTE: &str = "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json";

#[tokio::test]
async fn sim_every_call_round_trips() {
    use telephony_operator::twilio::{NumberKind, SearchQuery};
    let env = sim::env().await;
    let api = env.api();

    let acct = api.fetch_account().await.unwrap();
    assert_eq!(
        (
            acct.sid.as_str(),
            acct.status.as_str(),
            acct.r#type.as_str()
        ),
        (env.sid.as_str(), "active", "Full")
    );
    assert_eq!(acct.owner_account_sid, env.sid);
    assert!(acct.date_created.is_some());
    let bal = api.balance().await.unwrap();
    assert_eq!(
        (bal.balance.to_string(), bal.currency.as_str()),
        ("20.00".to_owned(), "USD")
    );

    // Search with filters; buy one with configuration.
    let found = api
        .search_available(&SearchQuery {
            voice: Some(true),
            sms: Some(true),
            ..sim::us_local(415)
        })
        .await
        .unwrap();
    assert!(!found.is_empty() && found.len() <= 30);
    assert!(
        found.iter().all(|n| n.phone_number.starts_with("+1415")
            && n.capabilities.voice
            && n.capabilities.sms),
        "{found:?}"
    );
    let target = found[0].phone_number.clone();
    let mut req = buy_req(&target);
    req.config[ConfigField::VoiceUrl] = Some("https://agent.example.com/voice".into());
    req.config[ConfigField::SmsUrl] = Some("https://agent.example.com/sms".into());
    let n = api.buy(&req).await.unwrap();
    assert_eq!(
        (n.phone_number.as_str(), n.friendly_name()),
        (target.as_str(), "line 1")
    );
    assert_eq!(
        n.config[ConfigField::VoiceUrl].as_deref(),
        Some("https://agent.example.com/voice")
    );
    assert_eq!(n.account_sid, env.sid);
    assert!(n.sid.starts_with("PN") && n.date_created.is_some());
    assert_eq!(env.sim.purchase_log().len(), 1);
    assert_eq!(api.fetch_incoming(&n.sid).await.unwrap(), n);

    // Partial update: only sent fields change; "" clears.
    let upd = api
        .update_incoming(
            &n.sid,
            &NumberConfig::default()
                .with(ConfigField::VoiceUrl, "https://agent.example.com/v2")
                .with(ConfigField::SmsUrl, ""),
        )
        .await
        .unwrap();
    assert_eq!(
        upd.config[ConfigField::VoiceUrl].as_deref(),
        Some("https://agent.example.com/v2")
    );
    assert_eq!(upd.config[ConfigField::SmsUrl], None);
    assert_eq!(upd.friendly_name(), "line 1");
    assert!(
        upd.drift(
            &NumberConfig::default().with(ConfigField::VoiceUrl, "https://agent.example.com/v2")
        )
        .is_empty()
    );

    // Lookup by number (the recovery path after an unknown outcome).
    let by_number = api
        .list_incoming(&IncomingFilter {
            phone_number: Some(target.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_number.len(), 1);
    assert_eq!(by_number[0].sid, n.sid);

    // Release; a second release is "not found".
    api.release(&n.sid).await.unwrap();
    assert!(api.release(&n.sid).await.unwrap_err().is_not_found());
    assert!(api.fetch_incoming(&n.sid).await.unwrap_err().is_not_found());
    assert!(env.sim.owned_numbers(&env.sid).is_empty());

    // Toll-free and mobile searches.
    let tf = api
        .search_available(&SearchQuery {
            country: "US".into(),
            number_type: NumberKind::TollFree,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!tf.is_empty());

    // Pricing.
    let np = api.number_prices("US").await.unwrap();
    assert_eq!(np.price_unit, "USD");
    assert!(
        np.monthly_fee(NumberKind::Local).is_some()
            && np.monthly_fee(NumberKind::TollFree).is_some()
    );
    let vp = api.voice_prices("US").await.unwrap();
    assert!(vp.inbound_for(NumberKind::Local).is_some() && vp.outbound_default().is_some());
    let vn = api
        .voice_number_price("+14155551234", Some(&target))
        .await
        .unwrap();
    assert_eq!(vn.iso_country, "US");
    assert!(vn.outbound_price().is_some());
}

#[tokio::test]
async fn sim_list_incoming_pages_through_three_pages() {
    let env = sim::env().await;
    let api = env.api();
    let mut bought = sim::buy_any(&api, 212, 7).await;
    bought.sort();
    let before = env.route_count(LIST_ROUTE);
    let listed = api
        .list_incoming(&IncomingFilter {
            page_size: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut sids: Vec<String> = listed.iter().map(|n| n.sid.clone()).collect();
    sids.sort();
    assert_eq!(sids, bought, "every owned number exactly once");
    assert_eq!(
        env.route_count(LIST_ROUTE) - before,
        3,
        "7 numbers at 3 per page"
    );
    assert_eq!(env.client.stats().requests_for("list_incoming"), 3);
}

#[tokio::test]
async fn list_incoming_pages_hands_over_each_page_as_it_arrives() {
    let (mock, base) = mock::start().await;
    mock.owned.store(7, Ordering::SeqCst);
    let c = client(&base);
    let api = c.account(&creds(), &Routing::default());
    let filter = IncomingFilter {
        page_size: Some(3),
        ..Default::default()
    };
    let mut pages: Vec<(usize, usize)> = Vec::new();
    api.list_incoming_pages(&filter, |page| {
        // How many pages the server had been asked for when this one was handed over.
        pages.push((
            page.len(),
            mock.hits_of("GET", "/IncomingPhoneNumbers.json").len(),
        ))
    })
    .await
    .unwrap();
    assert_eq!(pages, vec![(3, 1), (3, 2), (1, 3)]);
    // The same numbers, in the same order, as the list in one piece.
    let mut paged = Vec::new();
    api.list_incoming_pages(&filter, |page| paged.extend(page))
        .await
        .unwrap();
    let whole = api.list_incoming(&filter).await.unwrap();
    assert_eq!(paged, whole);
}

#[tokio::test]
async fn sim_subaccount_with_parent_credentials() {
    let env = sim::env().await;
    let parent = env.api();
    let sub = parent.create_subaccount("tenant-a").await.unwrap();
    assert_eq!(sub.owner_account_sid, env.sid);
    assert_eq!(sub.friendly_name, "tenant-a");
    let listed = parent
        .list_accounts(Some("tenant-a"), Some("active"))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.sid.as_str()).collect::<Vec<_>>(),
        vec![sub.sid.as_str()]
    );

    let api = env
        .client
        .subaccount(&env.creds, &sub.sid, &Routing::default());
    assert_eq!(api.account_sid(), sub.sid);
    assert_eq!(api.fetch_account().await.unwrap().sid, sub.sid);
    let bought = sim::buy_any(&api, 305, 1).await;
    let owned = env.sim.owned_numbers(&sub.sid);
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].sid, bought[0]);
    assert!(
        env.sim.owned_numbers(&env.sid).is_empty(),
        "bought in the subaccount, not the parent"
    );
    assert_eq!(
        api.list_incoming(&IncomingFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    // Pricing works with the parent's credentials.
    api.number_prices("US").await.unwrap();

    let closed = parent.close_subaccount(&sub.sid).await.unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(
        parent
            .list_accounts(Some("tenant-a"), Some("closed"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn sim_api_key_auth() {
    let env = sim::env().await;
    let (sk, secret) = env.sim.add_api_key(&env.sid, true).unwrap();
    let key = Credentials::ApiKey {
        account_sid: env.sid.clone(),
        key_sid: sk.clone(),
        key_secret: Secret::new(secret.clone()),
    };
    let api = env.client.account(&key, &Routing::default());
    assert_eq!(api.account_sid(), env.sid);
    api.balance().await.unwrap();
    let bought = sim::buy_any(&api, 415, 1).await;
    assert_eq!(env.sim.owned_numbers(&env.sid)[0].sid, bought[0]);
    // A wrong secret, then a deleted key, are refused as auth errors (not retried).
    let wrong = Credentials::ApiKey {
        account_sid: env.sid.clone(),
        key_sid: sk.clone(),
        key_secret: Secret::new("nope".into()),
    };
    let e = env
        .client
        .account(&wrong, &Routing::default())
        .balance()
        .await
        .unwrap_err();
    assert!(e.is_auth() && e.class == ErrorClass::Permanent, "{e:?}");
    assert!(env.sim.remove_api_key(&sk));
    let e = api.balance().await.unwrap_err();
    assert!(e.is_auth(), "{e:?}");
    assert_eq!(e.code(), Some(codes::AUTHENTICATION));
}

#[tokio::test]
async fn sim_error_classes() {
    let env = sim::env().await;
    let api = env.api();
    let code_of = |e: TwilioError| (e.class, e.code());
    // Permanent: invalid number, unavailable number, no numbers in area code, bundle required.
    assert_eq!(
        code_of(api.buy(&buy_req("+1415")).await.unwrap_err()),
        (ErrorClass::Permanent, Some(codes::INVALID_NUMBER))
    );
    let owned = sim::buy_any(&api, 415, 1).await;
    let phone = api.fetch_incoming(&owned[0]).await.unwrap().phone_number;
    assert_eq!(
        code_of(api.buy(&buy_req(&phone)).await.unwrap_err()),
        (ErrorClass::Permanent, Some(codes::NUMBER_UNAVAILABLE))
    );
    let e = api
        .buy(&PurchaseRequest {
            area_code: Some(533),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        code_of(e),
        (ErrorClass::Permanent, Some(codes::NO_NUMBERS_IN_AREA_CODE))
    );
    let de = api
        .search_available(&telephony_operator::twilio::SearchQuery {
            country: "DE".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let first = de.first().expect("the simulator offers DE numbers");
    let e = api.buy(&buy_req(&first.phone_number)).await.unwrap_err();
    assert_eq!(
        code_of(e),
        (ErrorClass::Permanent, Some(codes::BUNDLE_REQUIRED))
    );
    assert!(
        api.release("PN00000000000000000000000000000000")
            .await
            .unwrap_err()
            .is_not_found()
    );
    // Test credentials: purchases of magic numbers only, everything else 20008.
    let (test_sid, test_token) = env.sim.test_credentials(&env.sid).unwrap();
    let test = env.client.account(
        &Credentials::AuthToken {
            account_sid: test_sid,
            auth_token: Secret::new(test_token),
        },
        &Routing::default(),
    );
    assert_eq!(
        test.buy(&buy_req("+15005550006"))
            .await
            .unwrap()
            .phone_number,
        "+15005550006"
    );
    assert_eq!(
        code_of(test.buy(&buy_req("+15005550000")).await.unwrap_err()),
        (ErrorClass::Permanent, Some(codes::NUMBER_UNAVAILABLE))
    );
    assert_eq!(
        code_of(test.balance().await.unwrap_err()),
        (
            ErrorClass::Permanent,
            Some(codes::TEST_CREDENTIALS_NOT_ALLOWED)
        )
    );
    // Retryable: 5xx on every attempt of a GET → 1 + max_retries requests, then Retryable.
    env.sim.set_faults(sim::faults(FaultConfig {
        error_5xx_rate: 1.0,
        ..Default::default()
    }));
    let before = env.route_count(FETCH_ROUTE);
    let e = api.fetch_incoming(&owned[0]).await.unwrap_err();
    assert!(e.is_retryable() && e.status == Some(503), "{e:?}");
    assert_eq!(env.route_count(FETCH_ROUTE) - before, 4);
    // A create answered 5xx without commit is still OutcomeUnknown (the client cannot tell).
    let before = env.route_count(BUY_ROUTE);
    let e = api.buy(&buy_req("+14155550123")).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert_eq!(env.route_count(BUY_ROUTE) - before, 1);
    env.sim.set_faults(FaultConfig::default());
}

use twilio_sim::FaultConfig;

#[tokio::test]
async fn sim_get_5xx_is_retried_until_success() {
    let env = sim::env_with(twilio_sim::SimConfig::default(), |c| {
        c.max_retries = 20;
        c.backoff_base = Duration::from_millis(20);
        c.backoff_cap = Duration::from_millis(100);
    })
    .await;
    let api = env.api();
    let owned = sim::buy_any(&api, 415, 1).await;
    env.sim.set_faults(FaultConfig {
        error_5xx_rate: 1.0,
        ..Default::default()
    });
    let clear = sim::clear_faults_when(&env.sim, |c| c.faults.errors_5xx >= 2);
    let n = api.fetch_incoming(&owned[0]).await.unwrap();
    clear.await.unwrap();
    assert_eq!(n.sid, owned[0]);
    assert!(env.sim.counters().faults.errors_5xx >= 2);
    assert!(env.client.stats().retries >= 2);
}

#[tokio::test]
async fn sim_429_retry_after_is_honoured() {
    let env = sim::env().await;
    let api = env.api();
    // Every request is throttled with Retry-After: 1 until the first 429 was sent.
    env.sim.set_faults(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: Some(1),
        ..Default::default()
    });
    let clear = sim::clear_faults_when(&env.sim, |c| c.faults.rate_limited_429 >= 1);
    let started = Instant::now();
    let bal = api.balance().await.unwrap();
    let elapsed = started.elapsed();
    clear.await.unwrap();
    assert_eq!(bal.account_sid, env.sid);
    assert_eq!(env.sim.counters().faults.rate_limited_429, 1);
    assert_eq!(
        env.route_count("GET /2010-04-01/Accounts/{AccountSid}/Balance.json"),
        2
    );
    assert!(
        elapsed >= Duration::from_secs(1),
        "retried after {elapsed:?}; Retry-After was 1 s"
    );
    let s = env.client.stats();
    assert_eq!((s.throttled, s.retries), (1, 1));

    // A create throttled with 429 was not executed: retried, bought exactly once.
    let found = api.search_available(&sim::us_local(415)).await.unwrap();
    env.sim.set_faults(FaultConfig {
        rate_429: 1.0,
        retry_after_secs: Some(1),
        ..Default::default()
    });
    let clear = sim::clear_faults_when(&env.sim, |c| c.faults.rate_limited_429 >= 2);
    let n = api.buy(&buy_req(&found[0].phone_number)).await.unwrap();
    clear.await.unwrap();
    assert_eq!(env.route_count(BUY_ROUTE), 2);
    assert_eq!(env.sim.purchase_log().len(), 1);
    assert_eq!(env.sim.owned_numbers(&env.sid)[0].sid, n.sid);
}

async fn commit_then_fail_case(config: twilio_sim::SimConfig) {
    let env = sim::env_with(config, |_| {}).await;
    let api = env.api();
    let found = api.search_available(&sim::us_local(415)).await.unwrap();
    let target = found[0].phone_number.clone();
    env.sim.set_faults(FaultConfig {
        commit_then_fail_rate: 1.0,
        ..Default::default()
    });
    let e = api.buy(&buy_req(&target)).await.unwrap_err();
    env.sim.set_faults(FaultConfig::default());
    assert_eq!(e.class, ErrorClass::OutcomeUnknown, "{e:?}");
    let c = env.sim.counters();
    assert_eq!(c.requests.get(BUY_ROUTE).copied(), Some(1), "not retried");
    assert_eq!((c.purchases, c.faults.commit_then_fail), (1, 1));
    assert_eq!(env.sim.purchase_log().len(), 1);
    let owned = env.sim.owned_numbers(&env.sid);
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].phone_number, target);
    // The caller's recovery: look the number up before buying again.
    let found = api
        .list_incoming(&IncomingFilter {
            phone_number: Some(target.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].sid, owned[0].sid);
}

#[tokio::test]
async fn sim_commit_then_drop_is_outcome_unknown_not_retried() {
    commit_then_fail_case(twilio_sim::SimConfig::default()).await;
}

#[tokio::test]
async fn sim_commit_then_500_is_outcome_unknown_not_retried() {
    commit_then_fail_case(sim::error500()).await;
}

#[tokio::test]
async fn sim_dropped_connections() {
    let env = sim::env().await;
    let api = env.api();
    let owned = sim::buy_any(&api, 415, 1).await;
    env.sim.set_faults(FaultConfig {
        drop_connection_rate: 1.0,
        ..Default::default()
    });
    let e = api.fetch_incoming(&owned[0]).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Retryable, "{e:?}");
    assert_eq!(env.sim.counters().faults.dropped_connections, 4);
    let e = api.buy(&buy_req("+14155550199")).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::OutcomeUnknown, "{e:?}");
    assert_eq!(
        env.sim.counters().faults.dropped_connections,
        5,
        "create sent once"
    );
    env.sim.set_faults(FaultConfig::default());
}

#[tokio::test]
async fn sim_secrets_never_logged() {
    let env = sim::env().await;
    let (sk, secret) = env.sim.add_api_key(&env.sid, true).unwrap();
    let token = match &env.creds {
        Credentials::AuthToken { auth_token, .. } => auth_token.expose().to_owned(),
        Credentials::ApiKey { .. } => unreachable!(),
    };
    let key = Credentials::ApiKey {
        account_sid: env.sid.clone(),
        key_sid: sk,
        key_secret: Secret::new(secret.clone()),
    };
    let mut texts = Vec::new();
    for creds in [env.creds.clone(), key] {
        let api = env.client.account(&creds, &Routing::default());
        let acct = api.fetch_account().await.unwrap(); // its body carries the auth token
        texts.push(format!("{acct:?}"));
        let sub = api.create_subaccount("tenant-x").await.unwrap(); // and the new subaccount's
        texts.push(format!("{sub:?}"));
        sim::buy_any(&api, 415, 1).await;
        env.sim.set_faults(FaultConfig {
            error_5xx_rate: 1.0,
            ..Default::default()
        });
        let e = api.balance().await.unwrap_err();
        env.sim.set_faults(FaultConfig::default());
        texts.push(format!("{e} {e:?} {creds:?} {api:?} {:?}", env.client));
        let bad = Credentials::AuthToken {
            account_sid: env.sid.clone(),
            auth_token: Secret::new(format!("{token}x")),
        };
        let e = env
            .client
            .account(&bad, &Routing::default())
            .balance()
            .await
            .unwrap_err();
        texts.push(format!("{e} {e:?}"));
    }
    texts.push(String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned());
    for t in &texts {
        assert!(!t.contains(&token), "auth token leaked: {t}");
        assert!(!t.contains(&secret), "API key secret leaked: {t}");
    }
}
