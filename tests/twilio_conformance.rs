//! Conformance of the Twilio client's requests with Twilio's OpenAPI definitions.
//!
//! Two recording servers (API host, Pricing host) answer every request with the example the spec
//! gives for that path and method, so the client's response parsing is checked against the spec's
//! own examples too. Every request the client made is then matched to a spec path template and
//! method, and each path parameter, query parameter and form field is checked: the name must exist
//! in the spec for that operation, required ones must be present, and the value must satisfy the
//! declared type / enum / pattern / phone-number format (this catches a `+` sent unencoded).
//!
//! Spec directory: `TWILIO_OAI_DIR`, else `<CARGO_MANIFEST_DIR>/../shared/reference/twilio-oai/`.
//! When neither exists the suite prints that it is skipped and passes.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde_json::Value;
use telephony_operator::twilio::{
    Credentials, IncomingFilter, NumberConfig, NumberKind, PurchaseRequest, Routing, SearchQuery,
    Secret, TwilioClient, TwilioClientConfig,
};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SUB: &str = "ACfedcba9876543210fedcba9876543210";
const PN: &str = "PN0123456789abcdef0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Host {
    Api,
    Pricing,
}

/// One operation of the spec.
struct Op {
    host: Host,
    template: String,
    re: Regex,
    path_params: Vec<(String, Value)>,
    method: String,
    query: HashMap<String, (Value, bool)>,
    form: HashMap<String, Value>,
    form_required: Vec<String>,
    /// Success status and example body.
    example: (u16, Option<Value>),
}

struct Spec {
    ops: Vec<Op>,
    /// `components.schemas` of every file, for `$ref`s.
    schemas: HashMap<String, Value>,
}

impl Spec {
    fn load(dir: &std::path::Path) -> Spec {
        let mut ops = Vec::new();
        let mut schemas = HashMap::new();
        for file in [
            "twilio_api_v2010.json",
            "twilio_pricing_v1.json",
            "twilio_pricing_v2.json",
        ] {
            let text = std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("reading {file}: {e}"));
            let doc: Value = serde_json::from_str(&text).unwrap();
            if let Some(s) = doc["components"]["schemas"].as_object() {
                for (k, v) in s {
                    schemas.insert(k.clone(), v.clone());
                }
            }
            let top_server = doc["servers"][0]["url"].as_str().unwrap_or("").to_owned();
            for (template, item) in doc["paths"].as_object().unwrap() {
                let server = item["servers"][0]["url"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| top_server.clone());
                let host = if server.contains("pricing.twilio.com") {
                    Host::Pricing
                } else if server.contains("api.twilio.com") {
                    Host::Api
                } else {
                    continue;
                };
                let re = Regex::new(&format!(
                    "^{}$",
                    regex::escape(template)
                        .replace(r"\{", "{")
                        .replace(r"\}", "}")
                        .split('{')
                        .enumerate()
                        .map(|(i, part)| if i == 0 {
                            part.to_owned()
                        } else {
                            let rest = part.split_once('}').map(|(_, r)| r).unwrap_or("");
                            format!("([^/]+){rest}")
                        })
                        .collect::<String>()
                ))
                .unwrap();
                for method in ["get", "post", "delete"] {
                    let Some(op) = item.get(method) else { continue };
                    let mut path_params = Vec::new();
                    let mut query = HashMap::new();
                    for p in op["parameters"].as_array().into_iter().flatten() {
                        let name = p["name"].as_str().unwrap().to_owned();
                        match p["in"].as_str() {
                            Some("path") => path_params.push((name, p["schema"].clone())),
                            Some("query") => {
                                let required = p["required"].as_bool().unwrap_or(false);
                                query.insert(name, (p["schema"].clone(), required));
                            }
                            _ => {}
                        }
                    }
                    let form_schema = &op["requestBody"]["content"]["application/x-www-form-urlencoded"]
                        ["schema"];
                    let form = form_schema["properties"]
                        .as_object()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default();
                    let form_required = form_schema["required"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    let example = success_example(&op["responses"]);
                    ops.push(Op {
                        host,
                        template: template.clone(),
                        re: re.clone(),
                        path_params,
                        method: method.to_ascii_uppercase(),
                        query,
                        form,
                        form_required,
                        example,
                    });
                }
            }
        }
        Spec { ops, schemas }
    }

    fn find(&self, host: Host, method: &str, path: &str) -> Option<(&Op, Vec<String>)> {
        self.ops.iter().find_map(|op| {
            if op.host != host || op.method != method {
                return None;
            }
            let caps = op.re.captures(path)?;
            Some((
                op,
                caps.iter()
                    .skip(1)
                    .map(|m| m.map(|m| m.as_str().to_owned()).unwrap_or_default())
                    .collect(),
            ))
        })
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => self
                .schemas
                .get(r.trim_start_matches("#/components/schemas/"))
                .unwrap_or(schema),
            None => schema,
        }
    }

    /// Why `value` does not satisfy `schema`, if it does not.
    fn check_value(&self, schema: &Value, value: &str) -> Option<String> {
        let schema = self.resolve(schema);
        if let Some(en) = schema["enum"].as_array()
            && !en.iter().any(|e| e.as_str() == Some(value))
        {
            return Some(format!("`{value}` not in enum {en:?}"));
        }
        match schema["type"].as_str() {
            Some("boolean") if value != "true" && value != "false" => {
                return Some(format!("`{value}` is not a boolean"));
            }
            Some("integer") if value.parse::<i64>().is_err() => {
                return Some(format!("`{value}` is not an integer"));
            }
            _ => {}
        }
        if let Some(p) = schema["pattern"].as_str()
            && !Regex::new(p).unwrap().is_match(value)
        {
            return Some(format!("`{value}` does not match {p}"));
        }
        if let Some(min) = schema["minLength"].as_u64()
            && (value.chars().count() as u64) < min
        {
            return Some(format!("`{value}` shorter than {min}"));
        }
        if let Some(max) = schema["maxLength"].as_u64()
            && (value.chars().count() as u64) > max
        {
            return Some(format!("`{value}` longer than {max}"));
        }
        match schema["format"].as_str() {
            Some("phone-number")
                if !Regex::new(r"^\+[1-9][0-9]{1,14}$").unwrap().is_match(value) =>
            {
                Some(format!("`{value}` is not an E.164 number"))
            }
            Some("uri") if !value.starts_with("http://") && !value.starts_with("https://") => {
                Some(format!("`{value}` is not a URI"))
            }
            _ => None,
        }
    }
}

/// First 2xx response: status and its first example (the first non-empty list example when several).
fn success_example(responses: &Value) -> (u16, Option<Value>) {
    let Some(map) = responses.as_object() else {
        return (200, None);
    };
    for (code, resp) in map {
        if let Ok(status) = code.parse::<u16>()
            && (200..300).contains(&status)
        {
            let examples = resp["content"]["application/json"]["examples"].as_object();
            let example = examples.and_then(|ex| {
                ex.values()
                    .map(|e| e["value"].clone())
                    .find(|v| !is_empty_list(v))
                    .or_else(|| ex.values().next().map(|e| e["value"].clone()))
            });
            return (status, example);
        }
    }
    (200, None)
}

fn is_empty_list(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.values()
            .any(|x| x.as_array().is_some_and(|a| a.is_empty()))
    })
}

#[derive(Clone, Debug)]
struct Recorded {
    host: Host,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    content_type: Option<String>,
    authorized: bool,
}

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

fn spec_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("TWILIO_OAI_DIR") {
        let d = PathBuf::from(d);
        return d.join("twilio_api_v2010.json").exists().then_some(d);
    }
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/twilio-oai");
    d.join("twilio_api_v2010.json").exists().then_some(d)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn full_config() -> NumberConfig {
    NumberConfig {
        friendly_name: Some("support line".into()),
        voice_url: Some("https://agent.example.com/voice?x=1&y=+2".into()),
        voice_method: Some("POST".into()),
        voice_fallback_url: Some("https://agent.example.com/fallback".into()),
        voice_fallback_method: Some("GET".into()),
        status_callback: Some("https://agent.example.com/status".into()),
        voice_application_sid: Some("AP0123456789abcdef0123456789abcdef".into()),
        trunk_sid: Some("TK0123456789abcdef0123456789abcdef".into()),
        sms_url: Some("https://agent.example.com/sms".into()),
        sms_method: Some("POST".into()),
        sms_fallback_url: Some("https://agent.example.com/sms-fallback".into()),
        sms_application_sid: Some("AP0123456789abcdef0123456789abcdef".into()),
        address_sid: Some("AD0123456789abcdef0123456789abcdef".into()),
        bundle_sid: Some("BU0123456789abcdef0123456789abcdef".into()),
        identity_sid: Some("RI0123456789abcdef0123456789abcdef".into()),
        emergency_address_sid: Some("AD0123456789abcdef0123456789abcdef".into()),
    }
}

/// Checks recorded requests against the spec: violations, and the `(method, template)` covered.
fn check(spec: &Spec, recorded: &[Recorded]) -> (Vec<String>, BTreeSet<(String, String)>) {
    let mut violations = Vec::new();
    let mut covered = BTreeSet::new();
    for r in recorded {
        let what = format!("{:?} {} {}", r.host, r.method, r.path);
        if !r.authorized {
            violations.push(format!("{what}: no Basic authorization"));
        }
        let Some((op, values)) = spec.find(r.host, &r.method, &r.path) else {
            violations.push(format!("{what}: no such path+method in the spec"));
            continue;
        };
        covered.insert((r.method.clone(), op.template.clone()));
        for ((name, schema), raw) in op.path_params.iter().zip(values) {
            if let Some(why) = spec.check_value(schema, &percent_decode(&raw)) {
                violations.push(format!("{what}: path {name}: {why}"));
            }
        }
        for (name, value) in &r.query {
            match op.query.get(name) {
                None => violations.push(format!("{what}: query `{name}` not in spec")),
                Some((schema, _)) => {
                    if let Some(why) = spec.check_value(schema, value) {
                        violations.push(format!("{what}: query {name}: {why}"));
                    }
                }
            }
        }
        for (name, (_, required)) in &op.query {
            if *required && !r.query.iter().any(|(k, _)| k == name) {
                violations.push(format!("{what}: required query `{name}` missing"));
            }
        }
        if r.method == "POST" {
            if r.content_type.as_deref() != Some("application/x-www-form-urlencoded") {
                violations.push(format!("{what}: content-type {:?}", r.content_type));
            }
            for (name, value) in &r.form {
                match op.form.get(name) {
                    None => violations.push(format!("{what}: form `{name}` not in spec")),
                    Some(schema) => {
                        if let Some(why) = spec.check_value(schema, value) {
                            violations.push(format!("{what}: form {name}: {why}"));
                        }
                    }
                }
            }
            for name in &op.form_required {
                if !r.form.iter().any(|(k, _)| k == name) {
                    violations.push(format!("{what}: required form `{name}` missing"));
                }
            }
        } else if !r.form.is_empty() {
            violations.push(format!("{what}: body on a {}", r.method));
        }
    }
    (violations, covered)
}

/// The `(method, template)` of every call the client makes.
fn expected_operations() -> BTreeSet<(String, String)> {
    [
        ("GET", "/2010-04-01/Accounts/{Sid}.json"),
        ("POST", "/2010-04-01/Accounts.json"),
        ("GET", "/2010-04-01/Accounts.json"),
        ("POST", "/2010-04-01/Accounts/{Sid}.json"),
        ("GET", "/2010-04-01/Accounts/{AccountSid}/Balance.json"),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/TollFree.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Mobile.json",
        ),
        (
            "POST",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
        ),
        (
            "POST",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
        ),
        (
            "DELETE",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
        ),
        ("GET", "/v1/PhoneNumbers/Countries/{IsoCountry}"),
        ("GET", "/v2/Voice/Countries/{IsoCountry}"),
        ("GET", "/v2/Voice/Numbers/{DestinationNumber}"),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_owned(), t.to_owned()))
    .collect()
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
    config.voice_application_sid = None; // the simulator checks referenced SIDs exist
    config.sms_application_sid = None;
    config.trunk_sid = None;
    config.address_sid = None;
    config.bundle_sid = None;
    config.identity_sid = None;
    config.emergency_address_sid = None;
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
