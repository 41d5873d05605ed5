//! Conformance of the Twilio client's requests with Twilio's OpenAPI definitions.
//!
//! Two recording servers (API host, Pricing host) answer every request with the example the spec
//! gives for that path and method, so the client's response parsing is checked against the spec's
//! own examples too. Every request the client made is then matched to a spec path template and
//! method, and each path parameter, query parameter and form field is checked: the name must exist
//! in the spec for that operation, required ones must be present, and the value must satisfy the
//! declared type / enum / pattern / phone-number format (this catches a `+` sent unencoded).
//! A second test runs a realistic flow against the `twilio-sim` simulator behind a recording layer
//! (its own paging URIs and SIDs) and applies the same checks. Spec parsing and the checks live in
//! `fixtures/twilio/oai.rs`.
//!
//! Spec directory: `TWILIO_OAI_DIR`, else `<CARGO_MANIFEST_DIR>/../shared/reference/twilio-oai/`.
//! When neither exists the suite prints that it is skipped and passes.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use telephony_operator::twilio::{
    ConfigField, Credentials, IncomingFilter, NumberConfig, NumberKind, PurchaseRequest, Routing,
    SearchQuery, Secret, TwilioClient, TwilioClientConfig,
};

#[path = "fixtures/twilio/oai.rs"]
mod oai;
use oai::{Host, Recorded, Spec, check, expected_operations, spec_dir};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SUB: &str = "ACfedcba9876543210fedcba9876543210";
const PN: &str = "PN0123456789abcdef0123456789abcdef";

#[derive(Clone)]
struct MockState {
    host: Host,
    spec: Arc<Spec>,
    log: Arc<Mutex<Vec<Recorded>>>,
}

async fn record(
    State(st): State<MockState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let path = uri.path().to_owned();
    st.log.lock().unwrap().push(Recorded {
        host: st.host,
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        form,
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        authorized: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic ")),
    });
    let Some((op, _)) = st.spec.find(st.host, method.as_str(), &path) else {
        let body = serde_json::json!({"code": 20404, "message": format!("no spec operation for {method} {path}"), "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    let (status, example) = op.example.clone();
    let status = StatusCode::from_u16(status).unwrap();
    let Some(mut example) = example else {
        return status.into_response();
    };
    // Page lists: the first request gets a next page, the follow-up (with PageToken) ends.
    if let Some(obj) = example.as_object_mut()
        && obj.contains_key("next_page_uri")
    {
        let next = if query.iter().any(|(k, _)| k == "PageToken") {
            Value::Null
        } else {
            let mut q: Vec<(String, String)> =
                query.into_iter().filter(|(k, _)| k != "Page").collect();
            q.push(("Page".into(), "1".into()));
            q.push(("PageToken".into(), format!("PA{PN}")));
            Value::String(format!(
                "{path}?{}",
                serde_urlencoded::to_string(&q).unwrap()
            ))
        };
        obj.insert("next_page_uri".into(), next);
    }
    (status, axum::Json(example)).into_response()
}

async fn serve(st: MockState) -> url::Url {
    let app = axum::Router::new().fallback(record).with_state(st);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url::Url::parse(&format!("http://{addr}/")).unwrap()
}

fn full_config() -> NumberConfig {
    NumberConfig::default()
        .with(ConfigField::FriendlyName, "support line")
        .with(
            ConfigField::VoiceUrl,
            "https://agent.example.com/voice?x=1&y=+2",
        )
        .with(ConfigField::VoiceMethod, "POST")
        .with(
            ConfigField::VoiceFallbackUrl,
            "https://agent.example.com/fallback",
        )
        .with(ConfigField::VoiceFallbackMethod, "GET")
        .with(
            ConfigField::StatusCallback,
            "https://agent.example.com/status",
        )
        .with(
            ConfigField::VoiceApplicationSid,
            "AP0123456789abcdef0123456789abcdef",
        )
        .with(ConfigField::TrunkSid, "TK0123456789abcdef0123456789abcdef")
        .with(ConfigField::SmsUrl, "https://agent.example.com/sms")
        .with(ConfigField::SmsMethod, "POST")
        .with(
            ConfigField::SmsFallbackUrl,
            "https://agent.example.com/sms-fallback",
        )
        .with(
            ConfigField::SmsApplicationSid,
            "AP0123456789abcdef0123456789abcdef",
        )
        .with(
            ConfigField::AddressSid,
            "AD0123456789abcdef0123456789abcdef",
        )
        .with(ConfigField::BundleSid, "BU0123456789abcdef0123456789abcdef")
        .with(
            ConfigField::IdentitySid,
            "RI0123456789abcdef0123456789abcdef",
        )
        .with(
            ConfigField::EmergencyAddressSid,
            "AD0123456789abcdef0123456789abcdef",
        )
}

#[tokio::test]
async fn client_requests_conform_to_openapi() {
    let Some(dir) = spec_dir() else {
        eprintln!(
            "twilio_conformance: skipped — no OpenAPI specs (set TWILIO_OAI_DIR or place them in ../shared/reference/twilio-oai/)"
        );
        return;
    };
    let spec = Arc::new(Spec::load(&dir));
    let log = Arc::new(Mutex::new(Vec::new()));
    let api = serve(MockState {
        host: Host::Api,
        spec: spec.clone(),
        log: log.clone(),
    })
    .await;
    let pricing = serve(MockState {
        host: Host::Pricing,
        spec: spec.clone(),
        log: log.clone(),
    })
    .await;
    let client = TwilioClient::new(TwilioClientConfig {
        api_base: api,
        pricing_base: pricing,
        max_retries: 0,
        ..Default::default()
    })
    .unwrap();
    let creds = Credentials::AuthToken {
        account_sid: ACCOUNT.into(),
        auth_token: Secret::new("0123456789abcdef0123456789abcdef".into()),
    };
    let main = client.account(&creds, &Routing::default());
    let sub = client.subaccount(&creds, SUB, &Routing::default());

    // Every call, with every optional parameter set.
    main.fetch_account().await.expect("fetch_account");
    main.create_subaccount("tenant-a")
        .await
        .expect("create_subaccount");
    let accounts = main
        .list_accounts(Some("tenant-a"), Some("active"))
        .await
        .expect("list_accounts");
    assert!(!accounts.is_empty());
    main.close_subaccount(SUB).await.expect("close_subaccount");
    main.balance().await.expect("balance");
    for (kind, country) in [
        (NumberKind::Local, "US"),
        (NumberKind::TollFree, "US"),
        (NumberKind::Mobile, "GB"),
    ] {
        let found = sub
            .search_available(&SearchQuery {
                country: country.into(),
                number_type: kind,
                area_code: Some(415),
                contains: Some("555".into()),
                in_region: Some("CA".into()),
                in_locality: Some("San Francisco".into()),
                in_postal_code: Some("94107".into()),
                near_number: Some("+14155551234".into()),
                voice: Some(true),
                sms: Some(true),
                mms: Some(false),
                page_size: Some(20),
            })
            .await
            .unwrap_or_else(|e| panic!("search_available {kind:?}: {e}"));
        assert!(!found.is_empty(), "{kind:?}");
    }
    let bought = sub
        .buy(&PurchaseRequest {
            phone_number: Some("+14155551234".into()),
            area_code: None,
            config: full_config(),
        })
        .await
        .expect("buy by number");
    assert!(bought.sid.starts_with("PN"));
    sub.buy(&PurchaseRequest {
        phone_number: None,
        area_code: Some(415),
        config: NumberConfig::default(),
    })
    .await
    .expect("buy by area code");
    let listed = sub
        .list_incoming(&IncomingFilter {
            phone_number: Some("+14155551234".into()),
            friendly_name: Some("support line".into()),
            page_size: Some(2),
        })
        .await
        .expect("list_incoming");
    sub.fetch_incoming(PN).await.expect("fetch_incoming");
    sub.update_incoming(PN, &full_config())
        .await
        .expect("update_incoming");
    sub.release(PN).await.expect("release");
    let np = main.number_prices("us").await.expect("number_prices");
    assert!(!np.prices.is_empty());
    let vp = main.voice_prices("US").await.expect("voice_prices");
    assert!(!vp.outbound.is_empty());
    main.voice_number_price("+14155551234", Some("+14155550000"))
        .await
        .expect("voice_number_price");

    // Check every recorded request against the spec.
    let recorded = log.lock().unwrap().clone();
    let (violations, covered) = check(&spec, &recorded);
    let list_incoming_pages = recorded
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/IncomingPhoneNumbers.json"))
        .count();
    assert!(
        violations.is_empty(),
        "requests not conforming to the OpenAPI spec:\n{}",
        violations.join("\n")
    );

    let expected = expected_operations();
    assert_eq!(covered, expected, "operations exercised");
    // Paging was followed (the mock offers exactly one next page).
    assert_eq!(
        list_incoming_pages, 2,
        "list_incoming follows next_page_uri"
    );
    assert!(!listed.is_empty());
    // Subaccount calls carry the subaccount SID in the path; pricing carries no account.
    assert!(
        recorded
            .iter()
            .filter(|r| r.path.contains("IncomingPhoneNumbers")
                || r.path.contains("AvailablePhoneNumbers"))
            .all(|r| r.path.starts_with(&format!("/2010-04-01/Accounts/{SUB}/")))
    );
    assert!(
        recorded
            .iter()
            .filter(|r| r.host == Host::Pricing)
            .all(|r| !r.path.contains("AC"))
    );
}

/// Records each request, then hands it on unchanged (the simulator behind it answers).
async fn record_layer(
    State(log): State<Arc<Mutex<Vec<Recorded>>>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let host = if path.starts_with("/v1/") || path.starts_with("/v2/") {
        Host::Pricing
    } else {
        Host::Api
    };
    log.lock().unwrap().push(Recorded {
        host,
        method: parts.method.to_string(),
        path,
        query: serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default(),
        form: serde_urlencoded::from_bytes(&bytes).unwrap_or_default(),
        content_type: parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        authorized: parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic ")),
    });
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// The same check on a realistic flow against the simulator (its own paging URIs, real
/// subaccount SIDs, searched numbers), through a recording layer.
#[tokio::test]
async fn client_requests_to_the_simulator_conform_to_openapi() {
    let Some(dir) = spec_dir() else {
        eprintln!("twilio_conformance: skipped — no OpenAPI specs");
        return;
    };
    let spec = Spec::load(&dir);
    let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig::default());
    let acct = sim.add_account("acme");
    let log = Arc::new(Mutex::new(Vec::new()));
    let app = sim.router().layer(axum::middleware::from_fn_with_state(
        log.clone(),
        record_layer,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = TwilioClient::new(TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base,
        max_retries: 0,
        ..Default::default()
    })
    .unwrap();
    let creds = Credentials::AuthToken {
        account_sid: acct.sid.clone(),
        auth_token: Secret::new(acct.auth_token.clone()),
    };
    let main = client.account(&creds, &Routing::default());
    main.fetch_account().await.unwrap();
    main.balance().await.unwrap();
    let sub_acct = main.create_subaccount("tenant-a").await.unwrap();
    main.list_accounts(Some("tenant-a"), Some("active"))
        .await
        .unwrap();
    let sub = client.subaccount(&creds, &sub_acct.sid, &Routing::default());
    for (kind, country) in [
        (NumberKind::Local, "US"),
        (NumberKind::TollFree, "US"),
        (NumberKind::Mobile, "GB"),
    ] {
        sub.search_available(&SearchQuery {
            country: country.into(),
            number_type: kind,
            voice: Some(true),
            page_size: Some(30),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("search {kind:?}: {e}"));
    }
    let found = sub
        .search_available(&SearchQuery {
            country: "US".into(),
            area_code: Some(415),
            contains: Some("5".into()),
            in_region: Some("CA".into()),
            sms: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut config = full_config();
    config[ConfigField::VoiceApplicationSid] = None; // the simulator checks referenced SIDs exist
    config[ConfigField::SmsApplicationSid] = None;
    config[ConfigField::TrunkSid] = None;
    config[ConfigField::AddressSid] = None;
    config[ConfigField::BundleSid] = None;
    config[ConfigField::IdentitySid] = None;
    config[ConfigField::EmergencyAddressSid] = None;
    let mut bought = Vec::new();
    for a in found.iter().take(5) {
        let n = sub
            .buy(&PurchaseRequest {
                phone_number: Some(a.phone_number.clone()),
                area_code: None,
                config: config.clone(),
            })
            .await
            .unwrap();
        bought.push(n);
    }
    sub.buy(&PurchaseRequest {
        phone_number: None,
        area_code: Some(212),
        config: NumberConfig::default(),
    })
    .await
    .unwrap();
    let listed = sub
        .list_incoming(&IncomingFilter {
            page_size: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 6);
    sub.list_incoming(&IncomingFilter {
        phone_number: Some(bought[0].phone_number.clone()),
        friendly_name: Some("support line".into()),
        page_size: None,
    })
    .await
    .unwrap();
    sub.fetch_incoming(&bought[0].sid).await.unwrap();
    sub.update_incoming(&bought[0].sid, &config).await.unwrap();
    sub.release(&bought[0].sid).await.unwrap();
    main.number_prices("US").await.unwrap();
    main.voice_prices("US").await.unwrap();
    main.voice_number_price(&bought[1].phone_number, Some(&bought[2].phone_number))
        .await
        .unwrap();
    main.close_subaccount(&sub_acct.sid).await.unwrap();

    let recorded = log.lock().unwrap().clone();
    let (violations, covered) = check(&spec, &recorded);
    assert!(
        violations.is_empty(),
        "requests to the simulator not conforming to the OpenAPI spec:\n{}",
        violations.join("\n")
    );
    assert_eq!(covered, expected_operations());
    let pages = recorded
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/IncomingPhoneNumbers.json"))
        .count();
    assert_eq!(
        pages,
        3 + 1,
        "6 numbers at 2 per page, then one filtered list"
    );
}
