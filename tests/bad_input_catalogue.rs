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
                "spec": {"mode": "Managed", "managed": {"termsAccepted": false, "termsVersion": "2026-01", "credits": {"perCycle": "25.00", "currency": "USD"}}},
                "status": {"accountSid": SID}
            }))
            .unwrap();
            let nu = telephony_operator::reconcile::account::usable(
                &acct,
                telephony_operator::DEFAULT_TERMS_VERSION,
            )
            .unwrap_err();
            AccountView::NotUsable {
                why: telephony_operator::controller::conditions::ReasonMessage::new(
                    nu.reason, nu.message,
                ),
                transient: false,
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

fn stalled_reason(st: &PhoneNumberStatus) -> Option<String> {
    st.conditions
        .iter()
        .find(|c| c.type_ == "Stalled" && c.status == "True")
        .map(|c| c.reason.clone())
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
