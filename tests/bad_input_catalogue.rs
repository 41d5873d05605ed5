//! The bad-input catalogue (`tests/bad_input/*.yaml`): every invalid manifest is either rejected
//! by the generated CRD schema at apply time (checked with the Kubernetes API emulator's schema
//! admission, as `kubectl apply` would see it: fieldValidation=Strict, CEL rules included), or
//! admitted and then reported `Stalled` with a specific reason by the PhoneNumber decisions —
//! driven against the Twilio simulator where Twilio is involved — with nothing bought and
//! nothing panicking.
//!
//! Each file's header says what is wrong and the expected outcome, and carries the machine-read
//! lines `# expect: schema|stalled`, `# field:` (schema), `# reason:` (stalled), `# also-stalled:`
//! (the reason if a server without schema validation admitted it) and `# setup:`.
//!
//! With `TELEPHONY_E2E_KUBECONFIG` (tests/real-cluster/start.sh) the same catalogue runs against
//! a real kube-apiserver too (`real_server_rejects_and_stalls_like_the_emulator`, helpers in
//! `tests/bad_input/real_server.rs`): apply-time verdicts compared with the emulator's, and the
//! operator — as deploy/'s ServiceAccount — reporting every `expect: stalled` manifest Stalled
//! with its reason. Without it that test only says it is skipped.

use jiff::Timestamp;
use kube::CustomResourceExt;
use kube_emulator::schema::{CompiledSchema, FieldValidation};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use telephony_operator::api::{
    ChargeKind, CredentialsSecretRef, PhoneNumber, PhoneNumberStatus, TelephonyAccount,
};
use telephony_operator::clock::{Clock, ManualClock};
use telephony_operator::controller::account_access::{AccessError, credentials_from_secret};
use telephony_operator::controller::claims::ClaimOutcome;
use telephony_operator::controller::credits::{CreditsError, HoldOutcome};
use telephony_operator::controller::inventory::InventoryCache;
use telephony_operator::controller::phone_number::effects::{Effects, WriteError};
use telephony_operator::controller::phone_number::engine::{Env, drive};
use telephony_operator::controller::phone_number::observe;
use telephony_operator::controller::pricing::PricingCache;
use telephony_operator::reconcile::phone_number::{
    AccountView, Action, Event, Observed, Ownership, PriceQuote, PriceSource, decide,
};
use telephony_operator::twilio::{Credentials, Routing, Secret, TwilioClient, TwilioClientConfig};
use twilio_sim::{SeedAccount, SimConfig, Simulator};

#[path = "e2e/common.rs"]
mod common;
#[path = "bad_input/real_server.rs"]
mod real_server;

const SID: &str = "AC00000000000000000000000000000abc";
const OTHER: &str = "AC00000000000000000000000000000def";

struct Case {
    file: String,
    text: String,
    meta: BTreeMap<String, String>,
}

fn cases() -> Vec<Case> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let meta = text
                .lines()
                .filter_map(|l| l.strip_prefix("# "))
                .filter_map(|l| l.split_once(": "))
                .filter(|(k, _)| ["expect", "field", "reason", "also-stalled", "setup"].contains(k))
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                .collect();
            Case {
                file: p.file_name().unwrap().to_string_lossy().into_owned(),
                text,
                meta,
            }
        })
        .collect()
}

impl Case {
    /// The manifest as JSON (the YAML body; the header comments are YAML comments).
    fn manifest(&self) -> Value {
        serde_saphyr::from_str(&self.text).unwrap_or_else(|e| panic!("{}: {e}", self.file))
    }
}

fn schema_for(kind: &str) -> CompiledSchema {
    let crd = match kind {
        "PhoneNumber" => PhoneNumber::crd(),
        "TelephonyAccount" => TelephonyAccount::crd(),
        other => panic!("no CRD for {other}"),
    };
    let v = serde_json::to_value(&crd.spec.versions[0]).unwrap();
    CompiledSchema::compile(&v["schema"]["openAPIV3Schema"]).unwrap()
}

/// Effects that keep one object and refuse credits (never reached: nothing may be bought).
struct Store(Mutex<PhoneNumber>);

impl Effects for Store {
    async fn write_status(
        &self,
        pn: &PhoneNumber,
        status: &PhoneNumberStatus,
    ) -> Result<PhoneNumber, WriteError> {
        let mut o = self.0.lock().unwrap();
        *o = pn.clone();
        o.status = Some(status.clone());
        Ok(o.clone())
    }
    async fn hold(
        &self,
        _: &PhoneNumber,
        _: &str,
        _: Decimal,
        _: ChargeKind,
    ) -> Result<HoldOutcome, CreditsError> {
        panic!("no credits may be held for bad input")
    }
    async fn settle(&self, _: &PhoneNumber, _: &str, _: &str) -> Result<(), CreditsError> {
        panic!("no credits may be settled for bad input")
    }
    async fn release_hold(&self, _: &PhoneNumber, _: &str) -> Result<(), CreditsError> {
        Ok(())
    }
    async fn claim(&self, _: &PhoneNumber, _: &str, _: &str) -> Result<ClaimOutcome, kube::Error> {
        // A claim buys nothing (an owned number is claimed before it could be adopted).
        Ok(ClaimOutcome::Ours)
    }
    async fn hold_number(
        &self,
        _: &PhoneNumber,
        _: &telephony_operator::controller::claims::AccountHolder,
        _: &telephony_operator::api::HeldNumber,
    ) -> Result<telephony_operator::controller::claims::HoldOutcome, kube::Error> {
        panic!("bad input never bought a number to hold")
    }
    async fn release_claims(
        &self,
        _: &PhoneNumber,
        _: Option<(&str, &str)>,
    ) -> Result<(), kube::Error> {
        Ok(())
    }
    async fn event(&self, _: &PhoneNumber, _: &Event) {}
}

fn now() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn not_usable(e: AccessError) -> AccountView {
    AccountView::NotUsable {
        why: telephony_operator::controller::conditions::ReasonMessage::new(
            e.reason(),
            e.to_string(),
        ),
        transient: e.is_transient(),
        first_look_due: None,
    }
}

/// The account view of a decision-only setup.
fn account_view(setup: &str) -> AccountView {
    match setup {
        "no-account" => AccountView::Missing,
        "secret-missing" => not_usable(AccessError::SecretNotFound {
            namespace: "acme".into(),
            name: "twilio-credentials".into(),
        }),
        "key-missing" => {
            let secret: k8s_openapi::api::core::v1::Secret =
                serde_json::from_value(serde_json::json!({
                    "metadata": {"name": "twilio-credentials", "namespace": "acme"},
                    "stringData": {"accountSid": SID}
                }))
                .unwrap();
            let r = CredentialsSecretRef {
                name: "twilio-credentials".into(),
                account_sid_key: None,
                auth_token_key: None,
                api_key_sid_key: None,
                api_key_secret_key: None,
            };
            not_usable(credentials_from_secret("acme", &secret, &r).unwrap_err())
        }
        "managed-terms-not-accepted" => {
            let acct: TelephonyAccount = serde_json::from_value(serde_json::json!({
                "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
                "metadata": {"name": "acme-managed", "namespace": "acme"},
                "spec": {"mode": "Managed", "managed": {"termsAccepted": false, "termsVersion": "2026-01"}},
                "status": {"accountSid": SID}
            }))
            .unwrap();
            let nu = telephony_operator::reconcile::account::usable(
                &acct,
                telephony_operator::DEFAULT_TERMS_VERSION,
            )
            .unwrap_err();
            AccountView::NotUsable {
                why: nu.why,
                transient: false,
                first_look_due: nu.first_look_due,
            }
        }
        _ => AccountView::Usable {
            mode: telephony_operator::api::AccountMode::BringYourOwn,
            account_sid: SID.into(),
        },
    }
}

/// Runs the pure decision with no Twilio at hand; any action other than Wait is a failure
/// (bad input must be refused before Twilio is needed).
fn stalled_without_twilio(pn: &PhoneNumber, setup: &str) -> PhoneNumberStatus {
    let mut obs = Observed::new(now(), account_view(setup));
    obs.price = Some(PriceQuote {
        currency: "USD".into(),
        monthly_fee: Decimal::new(115, 2),
        inbound_per_minute: None,
        outbound_per_minute: None,
        source: PriceSource::TwilioPricingApi,
        fetched_at: None,
    });
    obs.owned = Some(Ownership {
        number: None,
        as_of: now(),
        targeted: false,
    });
    let d = decide(pn, &obs);
    assert_eq!(
        d.action,
        Action::Wait,
        "bad input must not reach Twilio: {:?}",
        d.action
    );
    d.status
}

/// Runs the engine against the simulator; returns the final status and the purchase count.
async fn stalled_with_simulator(pn: PhoneNumber, setup: &str) -> (PhoneNumberStatus, usize) {
    let seeds = [SID, OTHER].map(|sid| SeedAccount {
        sid: sid.into(),
        auth_token: format!("token-{sid}"),
        friendly_name: sid.into(),
        balance: Decimal::new(10_000, 2),
        account_type: "Full".into(),
    });
    let sim = Simulator::new(SimConfig {
        accounts: seeds.to_vec(),
        ..Default::default()
    });
    let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base: url::Url = server.base_url().parse().unwrap();
    let client = TwilioClient::new(TwilioClientConfig {
        api_base: base.clone(),
        pricing_base: base,
        timeout: Duration::from_secs(5),
        max_retries: 1,
        ..Default::default()
    })
    .unwrap();
    let token = if setup == "sim-wrong-credentials" {
        "wrong-token".to_string()
    } else {
        format!("token-{SID}")
    };
    let creds = Credentials::AuthToken {
        account_sid: SID.into(),
        auth_token: Secret::new(token),
    };
    let api = client.account(&creds, &Routing::default());
    if setup == "sim-owned-elsewhere" {
        let n = pn.spec.number.clone().unwrap();
        sim.assign_number(OTHER, &n)
            .expect("the other account takes the number");
    }
    let clock = ManualClock::new(now());
    let mut obs = Observed::new(
        now(),
        AccountView::Usable {
            mode: telephony_operator::api::AccountMode::BringYourOwn,
            account_sid: SID.into(),
        },
    );
    // Prices as the controller gets them: Pricing API through the cache.
    let pricing = PricingCache::default();
    if let Ok(p) = pricing
        .country(&api, "US", Duration::from_secs(3600), now())
        .await
    {
        obs.price = p
            .for_type(telephony_operator::api::NumberType::Local)
            .map(|t| PriceQuote {
                currency: t.currency,
                monthly_fee: t.monthly_fee,
                inbound_per_minute: t.inbound_per_minute,
                outbound_per_minute: t.outbound_per_minute,
                source: PriceSource::TwilioPricingApi,
                fetched_at: Some(t.fetched_at),
            });
    }
    let inventory = InventoryCache::default();
    match observe::ownership(&inventory, &api, &pn, Duration::from_secs(300)).await {
        Ok(o) => obs.owned = o,
        Err(e) if e.is_auth() => {
            obs.refusal = Some(telephony_operator::controller::phone_number::engine::refusal_of(&e))
        }
        Err(e) => panic!("{e}"),
    }
    let store = Store(Mutex::new(pn.clone()));
    let env = Env {
        effects: &store,
        api: &api,
        inventory: &inventory,
        clock: &clock,
        metrics: None,
        crash: None,
    };
    // Two reconciles: the outcome must be stable.
    let (pn, _) = drive(&env, pn, obs.clone()).await.expect("reconcile");
    let mut obs2 = obs;
    obs2.now = clock.now();
    let (pn, _) = drive(&env, pn, obs2).await.expect("second reconcile");
    let status = pn.status.unwrap_or_default();
    assert!(
        !format!("{status:?}").contains("wrong-token")
            && !format!("{status:?}").contains("token-AC"),
        "no secret in status"
    );
    (status, sim.purchase_log().len())
}

/// The reason a PhoneNumber is held with: `Stalled=True`'s, or — for what resolves itself,
/// like an account not created yet — `Reconciling=True`'s.
fn stalled_reason(st: &PhoneNumberStatus) -> Option<String> {
    let held = |t: &str| {
        st.conditions
            .iter()
            .find(|c| c.type_ == t && c.status == "True")
            .map(|c| c.reason.clone())
    };
    held("Stalled").or_else(|| held("Reconciling"))
}

async fn assert_stalled(case: &Case, obj: Value, reason: &str) {
    let pn: PhoneNumber =
        serde_json::from_value(obj).unwrap_or_else(|e| panic!("{}: {e}", case.file));
    let setup = case.meta.get("setup").map(String::as_str).unwrap_or("");
    let (status, purchases) = if setup.starts_with("sim") {
        stalled_with_simulator(pn, setup).await
    } else {
        (stalled_without_twilio(&pn, setup), 0)
    };
    assert_eq!(
        stalled_reason(&status).as_deref(),
        Some(reason),
        "{}: {status:#?}",
        case.file
    );
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "False", "{}", case.file);
    assert!(
        status.message.as_deref().is_some_and(|m| m.len() > 20),
        "{}: a message a person can act on",
        case.file
    );
    assert!(
        status.purchase_intent.is_none() && status.sid.is_none(),
        "{}: nothing bought",
        case.file
    );
    assert_eq!(purchases, 0, "{}: nothing bought at Twilio", case.file);
}

#[tokio::test]
async fn every_bad_manifest_is_rejected_or_stalled_and_nothing_is_bought() {
    let cases = cases();
    assert!(cases.len() >= 20, "catalogue has {} manifests", cases.len());
    let (mut schema_count, mut stalled_count) = (0, 0);
    for case in &cases {
        assert!(
            case.text.starts_with("# What is wrong"),
            "{}: header comment first",
            case.file
        );
        let obj: Value =
            serde_saphyr::from_str(&case.text).unwrap_or_else(|e| panic!("{}: {e}", case.file));
        let kind = obj["kind"].as_str().unwrap().to_string();
        let schema = schema_for(&kind);
        let mut admitted = obj.clone();
        let verdict = schema.admit(&mut admitted, None, FieldValidation::Strict);
        match case.meta.get("expect").map(String::as_str) {
            Some("schema") => {
                schema_count += 1;
                let field = &case.meta["field"];
                let causes =
                    verdict.expect_err(&format!("{}: the schema should reject it", case.file));
                assert!(
                    causes.iter().any(|c| &c.field == field
                        || c.field.starts_with(&format!("{field}."))
                        || c.field.starts_with(&format!("{field}["))),
                    "{}: expected a cause on {field}, got {causes:?}",
                    case.file
                );
                if let Some(reason) = case.meta.get("also-stalled") {
                    // A server that does not validate (no CEL, or pruning only): the decisions
                    // still refuse.
                    let mut pruned = obj.clone();
                    schema.prune(&mut pruned);
                    assert_stalled(case, pruned, reason).await;
                }
            }
            Some("stalled") => {
                stalled_count += 1;
                verdict.unwrap_or_else(|c| {
                    panic!(
                        "{}: the schema should admit it (it is caught later), got {c:?}",
                        case.file
                    )
                });
                assert_eq!(kind, "PhoneNumber");
                assert_stalled(case, admitted, &case.meta["reason"]).await;
            }
            other => panic!("{}: unknown expectation {other:?}", case.file),
        }
    }
    assert!(
        schema_count >= 10 && stalled_count >= 8,
        "{schema_count} schema, {stalled_count} stalled"
    );
}

/// Against a real kube-apiserver (`TELEPHONY_E2E_KUBECONFIG`, the real-cluster harness): every
/// manifest gets the same apply-time verdict there as in the emulator (schema module and a
/// running emulator; server-side apply and create, fieldValidation=Strict), a rejection names
/// the `# field:`, and every `expect: stalled` manifest, with its `# setup:`, is reported
/// `Stalled` with its `# reason:` by the operator running as deploy/'s ServiceAccount — and, side
/// by side, by the operator on the emulator — with nothing bought. Skipped without a cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_server_rejects_and_stalls_like_the_emulator() {
    use std::io::Write as _;
    use telephony_operator::sandbox::stack::StackOptions;
    if common::target().is_none() {
        eprintln!(
            "skipped: set TELEPHONY_E2E_KUBECONFIG (tests/real-cluster/start.sh) to check the catalogue against a real kube-apiserver"
        );
        return;
    }
    telephony_operator::install_crypto_provider();
    let cases = cases();
    let started = std::time::Instant::now();
    let opts = StackOptions {
        resync_seconds: 2,
        ..Default::default()
    };
    let real = common::real_cluster_stack(opts.clone())
        .await
        .expect("real cluster configured");
    let version = real
        .stack
        .client
        .apiserver_version()
        .await
        .map(|v| v.git_version)
        .unwrap_or_else(|e| panic!("server version: {e}"));

    // 1. Apply-time verdicts.
    let applied = real_server::compare_apply_verdicts(&real.stack.client, &cases).await;
    let mut diffs: Vec<String> = applied
        .differences
        .iter()
        .map(|d| format!("apply time: {d}"))
        .collect();

    // 2. Stalled, on the real server and (for comparison) on the emulator, at once.
    let mut stalled: Vec<real_server::StallCase> = cases
        .iter()
        .filter(|c| c.meta.get("expect").map(String::as_str) == Some("stalled"))
        .map(|case| real_server::StallCase {
            case,
            reason: case.meta["reason"].clone(),
            default_validation: false,
        })
        .collect();
    let expect_stalled = stalled.len();
    stalled.extend(
        applied
            .admitted_by_default_create
            .iter()
            .map(|&i| real_server::StallCase {
                case: &cases[i],
                reason: cases[i].meta["also-stalled"].clone(),
                default_validation: true,
            }),
    );
    let emulator = common::emulator_stack(opts).await;
    let on_server = format!("kube-apiserver {version}");
    let (on_real, on_emulator) = tokio::join!(
        real_server::stalled_on(&real.stack, &on_server, &stalled),
        real_server::stalled_on(&emulator, "the emulator", &stalled)
    );
    emulator.shutdown().await;
    let mut stall_table =
        String::from("| manifest | expected | real server | emulator |\n|---|---|---|---|\n");
    let show = |outcomes: &[real_server::StallOutcome], file: &str| {
        outcomes
            .iter()
            .find(|o| o.file == file)
            .map(|o| {
                o.problem
                    .clone()
                    .unwrap_or_else(|| format!("Stalled/{}", o.expected))
            })
            .unwrap_or_else(|| "-".into())
    };
    let mut rows: Vec<(String, String)> = stalled
        .iter()
        .map(|c| (c.label(), c.reason.clone()))
        .collect();
    rows.push(("(simulator)".into(), "nothing bought".into()));
    for (file, expected) in &rows {
        stall_table.push_str(&format!(
            "| {file} | {expected} | {} | {} |\n",
            show(&on_real, file),
            show(&on_emulator, file)
        ));
    }
    // The operator against the catalogue. The same problem on the emulator's stack means the
    // operator (or the catalogue), not the server, is at fault.
    for o in &on_real {
        if let Some(p) = &o.problem {
            let on_emu = on_emulator.iter().find(|e| e.file == o.file);
            let emu = match on_emu.and_then(|e| e.problem.as_ref()) {
                Some(_) => "also so on the emulator: the operator, not the server",
                None => "NOT so on the emulator",
            };
            diffs.push(format!(
                "stalled: {} on the real server: expected Stalled/{}; {p} [{emu}]",
                o.file, o.expected
            ));
        }
    }
    for e in &on_emulator {
        let on_real_ok = on_real
            .iter()
            .any(|o| o.file == e.file && o.problem.is_none());
        if let (Some(p), true) = (&e.problem, on_real_ok) {
            diffs.push(format!(
                "stalled: {} on the emulator only: expected Stalled/{}; {p}",
                e.file, e.expected
            ));
        }
    }
    let passed = |c: &real_server::StallCase| {
        on_real
            .iter()
            .any(|o| o.file == c.label() && o.problem.is_none())
    };
    let stalled_ok = stalled[..expect_stalled]
        .iter()
        .filter(|c| passed(c))
        .count();
    let also_ok = stalled[expect_stalled..]
        .iter()
        .filter(|c| passed(c))
        .count();
    real.stack.shutdown().await;

    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\nbad-input apply-time verdicts:\n{}\nbad-input stalled reasons:\n{stall_table}",
        applied.table
    );
    for note in &applied.notes {
        let _ = writeln!(err, "note (emulator fidelity, not a failure): {note}");
    }
    let _ = writeln!(
        err,
        "bad-input on {version}: {} rejected by schema (same as emulator), {stalled_ok} stalled with the expected reason ({} manifests: {} expect schema, {expect_stalled} expect stalled; also {also_ok} of {} admitted with the server's default validation stalled with their also-stalled reason; {:.1} s)",
        applied.rejected_everywhere,
        cases.len(),
        cases.len() - expect_stalled,
        stalled.len() - expect_stalled,
        started.elapsed().as_secs_f64()
    );
    drop(err);
    assert!(
        diffs.is_empty(),
        "bad input on kube-apiserver {version} is not what the catalogue and the emulator say:\n{}",
        diffs.join("\n")
    );
    let expected_schema = cases
        .iter()
        .filter(|c| c.meta.get("expect").map(String::as_str) == Some("schema"))
        .count();
    assert_eq!(
        applied.rejected_everywhere, expected_schema,
        "every schema case rejected everywhere"
    );
    assert_eq!(stalled_ok, expect_stalled, "every stalled case stalled");
}

/// Webhook URLs around the edges of the rule: good ones (ports, paths, queries, userinfo, IPv6,
/// punycode hosts, exactly 2,048 characters) and one of each bad class.
fn webhook_url_corpus() -> Vec<String> {
    let base = "https://agents.acme.example/";
    let mut urls: Vec<String> = [
        // Good.
        "https://agents.acme.example/voice",
        "http://agents.acme.example",
        "https://agents.acme.example:8443/twilio/voice",
        "http://agents.acme.example:1/",
        "http://agents.acme.example:65535/",
        "https://agents.acme.example/v?tenant=acme&x=%20y#frag",
        "https://agents.acme.example/p/a-t_h.~!$&'()*+,;=:@/%E2%9C%93",
        "https://xn--bcher-kva.example/voice",
        "https://xn--80ak6aa92e.xn--p1ai/?q",
        "https://user:p%40ss@agents.acme.example/voice",
        "https://192.0.2.10/voice",
        "https://[2001:db8::1]:8443/voice",
        "https://[::ffff:192.0.2.1]/",
        "https://a/",
        // Control characters (C0, DEL, C1).
        "https://agents.acme.example/voice\r\nX-Injected: 1",
        "https://agents.acme.example/voice\n",
        "https://agents.acme.example/\0voice",
        "https://agents.acme.example/\tvoice",
        "https://agents.acme.example/\u{7f}",
        "https://agents.acme.example/\u{85}",
        "https://agents.acme.example/\u{9b}31m",
        // Bidirectional controls.
        "https://agents.acme.example/\u{200E}",
        "https://agents.acme.example/\u{200F}",
        "https://agents.acme.example/\u{202A}",
        "https://agents.acme.example/\u{202E}eciov",
        "https://agents.acme.example/\u{2066}",
        "https://agents.acme.example/\u{2069}",
        // Whitespace.
        "https://agents.acme.example/a b",
        " https://agents.acme.example/",
        "https://agents.acme.example/ ",
        "https://agents.acme.example/\u{a0}",
        "https://agents.acme.example/\u{2028}",
        "https://agents.acme.example/\u{3000}",
        // Not absolute http(s) with a host.
        "ftp://agents.acme.example/voice",
        "agents.acme.example/voice",
        "/voice",
        "HTTPS://agents.acme.example/",
        "https:/agents.acme.example/",
        "https://",
        "https:///voice",
        "https://?x",
        "https://user@/voice",
        "https://agents..acme.example/",
        "https://agents.acme.example./",
        "https://-agents.acme.example/",
        "https://agents_x.acme.example/",
        "https://bücher.example/",
        "https://agents.acme.example/café",
        "https://agents.acme.example:0/",
        "https://agents.acme.example:65536/",
        "https://agents.acme.example:08080/",
        "https://agents.acme.example:/",
        "https://[2001:db8::1/",
        "https://[::1]x/",
        "https://a@b@agents.acme.example/",
        "https://agents.acme.example/100%",
        "https://agents.acme.example/%zz",
        "",
    ]
    .map(String::from)
    .to_vec();
    urls.extend(OPERATOR_ONLY.iter().map(|u| u.to_string()));
    urls.push(format!("{base}{}", "a".repeat(2048 - base.len())));
    urls.push(format!("{base}{}", "a".repeat(2049 - base.len())));
    urls.push(format!("https://{}.example/", "a".repeat(63)));
    urls
}

/// Refused by the operator only: what a regular expression does not check.
const OPERATOR_ONLY: &[&str] = &[
    "https://[2001:db8::1::2]/voice",
    "https://[1::2::3]/",
    "https://[:::]/",
    "https://999.0.2.10/voice",
    "https://1.2.3/",
    "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example/",
];

const WEBHOOK_FIELDS: [(&str, &str); 5] = [
    ("voice", "url"),
    ("voice", "fallbackUrl"),
    ("voice", "statusCallback"),
    ("sms", "url"),
    ("sms", "fallbackUrl"),
];

fn with_webhook(group: &str, field: &str, url: &str) -> Value {
    serde_json::json!({
        "apiVersion": "telephony.agni.ai/v1alpha1",
        "kind": "PhoneNumber",
        "metadata": {"name": "hook", "namespace": "acme"},
        "spec": {"accountRef": {"name": "acme-twilio"}, "number": "+14155550100", group: {field: url}},
    })
}

fn shown(url: &str) -> String {
    if url.len() > 80 {
        format!("{:?}… ({} characters)", &url[..40], url.chars().count())
    } else {
        format!("{url:?}")
    }
}

/// The schema rule (maxLength and CEL, as the emulator evaluates them) and the operator's check
/// agree on every webhook URL field: what the operator accepts the schema admits, what the
/// schema rejects the operator refuses, and the only URLs the schema admits and the operator
/// refuses are the listed ones a regular expression cannot judge.
#[test]
fn webhook_url_schema_rule_and_operator_agree() {
    use telephony_operator::reconcile::phone_number::validate::check_webhook_url;
    let schema = schema_for("PhoneNumber");
    let mut problems = Vec::new();
    for url in webhook_url_corpus() {
        let operator_ok = check_webhook_url(&url).is_ok();
        for (group, field) in WEBHOOK_FIELDS {
            let mut obj = with_webhook(group, field, &url);
            let path = format!("spec.{group}.{field}");
            let verdict = schema.admit(&mut obj, None, FieldValidation::Strict);
            let schema_ok = verdict.is_ok();
            let expected_schema_ok = operator_ok || OPERATOR_ONLY.contains(&url.as_str());
            if schema_ok != expected_schema_ok {
                problems.push(format!(
                    "{path} = {}: schema {}, operator {}",
                    shown(&url),
                    if schema_ok { "admits" } else { "rejects" },
                    if operator_ok { "accepts" } else { "refuses" }
                ));
            }
            if let Err(causes) = verdict
                && !causes.iter().any(|c| {
                    c.field == path
                        && (c.message.contains("must be an absolute http")
                            || c.message.contains("2048"))
                })
            {
                problems.push(format!(
                    "{path} = {}: rejected without the rule's message on the field: {causes:?}",
                    shown(&url)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The same corpus against a real kube-apiserver (`TELEPHONY_E2E_KUBECONFIG`): a dry-run create
/// (fieldValidation=Strict) of each URL in each webhook field is admitted exactly when the
/// emulator's schema admits it. Skipped without a cluster.
#[tokio::test]
async fn webhook_urls_on_the_real_server_like_the_emulator() {
    let Some(path) = common::target() else {
        eprintln!(
            "skipped: set TELEPHONY_E2E_KUBECONFIG (tests/real-cluster/start.sh) to check webhook URLs against a real kube-apiserver"
        );
        return;
    };
    telephony_operator::install_crypto_provider();
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("kubeconfig usable");
    let client = kube::Client::try_from(config).expect("client");
    // The PhoneNumber CRD alone (this test needs no other), as the stack installs it.
    let crds: kube::Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        kube::Api::all(client.clone());
    let crd = PhoneNumber::crd();
    let crd_name = crd.metadata.name.clone().unwrap_or_default();
    crds.patch(
        &crd_name,
        &kube::api::PatchParams::apply("bad-input-catalogue").force(),
        &kube::api::Patch::Apply(&crd),
    )
    .await
    .unwrap_or_else(|e| panic!("{crd_name}: {e}"));
    tokio::time::timeout(
        Duration::from_secs(20),
        kube::runtime::wait::await_condition(
            crds,
            &crd_name,
            kube::runtime::wait::conditions::is_crd_established(),
        ),
    )
    .await
    .expect("PhoneNumber CRD Established within 20 s")
    .expect("PhoneNumber CRD watch");
    let ns = format!("webhook-urls-{}", real_server::run_id());
    let nss: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
    nss.create(
        &kube::api::PostParams::default(),
        &serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("namespace {ns}: {e}"));
    let dry_run = |obj: &Value| {
        let req = http::Request::post(format!(
            "/apis/telephony.agni.ai/v1alpha1/namespaces/{ns}/phonenumbers?dryRun=All&fieldValidation=Strict&fieldManager=kubectl-client-side-apply"
        ))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(obj).unwrap())
        .unwrap();
        client.request::<Value>(req)
    };
    // The server serves a changed CRD's schema a moment after Established: wait until a URL
    // only the new rule refuses is refused.
    let mut probe = with_webhook("voice", "url", "https://agents.acme.example/\r\n");
    probe["metadata"]["namespace"] = serde_json::json!(ns);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while dry_run(&probe).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never applied the webhook-URL rule"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let schema = schema_for("PhoneNumber");
    let (mut differences, mut admitted, mut rejected) = (Vec::new(), 0, 0);
    for url in webhook_url_corpus() {
        for (group, field) in WEBHOOK_FIELDS {
            let mut obj = with_webhook(group, field, &url);
            obj["metadata"]["namespace"] = serde_json::json!(ns);
            let emulator_ok = schema
                .admit(&mut obj.clone(), None, FieldValidation::Strict)
                .is_ok();
            let real = dry_run(&obj).await;
            let real_ok = match &real {
                Ok(_) => true,
                Err(kube::Error::Api(s)) if s.code == 422 => false,
                Err(e) => panic!("spec.{group}.{field} = {}: no verdict: {e}", shown(&url)),
            };
            if real_ok {
                admitted += 1;
            } else {
                rejected += 1;
            }
            if real_ok != emulator_ok {
                differences.push(format!(
                    "spec.{group}.{field} = {}: real server {}, emulator {}{}",
                    shown(&url),
                    if real_ok { "admits" } else { "rejects" },
                    if emulator_ok { "admits" } else { "rejects" },
                    match &real {
                        Err(kube::Error::Api(s)) => format!(" ({})", s.message),
                        _ => String::new(),
                    }
                ));
            }
        }
    }
    let _ = nss.delete(&ns, &kube::api::DeleteParams::default()).await;
    eprintln!(
        "webhook URLs on the real server: {admitted} admitted, {rejected} rejected, {} differences from the emulator",
        differences.len()
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// A PhoneNumber stored before the schema had the webhook-URL rule, its number already bought:
/// the next reconcile reports Stalled/InvalidWebhookUrl, keeps the number (phase, SID) and sends
/// nothing to Twilio (the decision is a Wait, not a configuration update).
#[test]
fn an_owned_number_with_a_stored_bad_webhook_url_stalls_and_sends_nothing() {
    for url in [
        "https://agents.acme.example/voice\r\nX-Injected: 1".to_string(),
        format!("https://agents.acme.example/{}", "a".repeat(1 << 20)),
        "https://[2001:db8::1::2]/voice".to_string(),
    ] {
        let pn: PhoneNumber = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "old", "namespace": "acme", "generation": 3},
            "spec": {"accountRef": {"name": "acme-twilio"}, "number": "+14155550100", "voice": {"url": url}},
            "status": {"phase": "Active", "phoneNumber": "+14155550100",
                       "sid": "PN0123456789abcdef0123456789abcdef", "accountSid": SID}
        }))
        .unwrap();
        let st = stalled_without_twilio(&pn, "");
        assert_eq!(
            stalled_reason(&st).as_deref(),
            Some("InvalidWebhookUrl"),
            "{st:#?}"
        );
        let message = st.message.clone().unwrap_or_default();
        assert!(
            message.starts_with("spec.voice.url ") && message.len() < 400,
            "{message}"
        );
        assert_eq!(
            st.phase,
            Some(telephony_operator::api::Phase::Active),
            "the number is kept"
        );
        assert_eq!(
            st.sid.as_deref(),
            Some("PN0123456789abcdef0123456789abcdef")
        );
    }
}
