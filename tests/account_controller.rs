//! The TelephonyAccount controller end to end, against the Kubernetes API emulator and the
//! Twilio simulator (both on 127.0.0.1, free ports): BringYourOwn connect and balance, credential
//! rotation picked up through the Secret watch, the mode lock (nothing at Twilio), Managed terms,
//! idempotent subaccount creation, credits status, the deletion guard and subaccount closure.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use telephony_operator::api::condition::*;
use telephony_operator::api::{
    AccountMode, CreditGrant, FINALIZER, PhoneNumber, TelephonyAccount, crds,
};
use telephony_operator::billing::RateCard;
use telephony_operator::clock::SystemClock;
use telephony_operator::config::OperatorConfig;
use telephony_operator::controller::Context;
use telephony_operator::controller::conditions::get_condition;
use telephony_operator::twilio::{TwilioClient, TwilioClientConfig};
use tokio_util::sync::CancellationToken;

const BYO_SID: &str = "AC5ea7c0ffee5ea7c0ffee5ea7c0ffee00";
const BYO_TOKEN: &str = "byo-token-0123456789abcdef";

struct Env {
    emulator: Option<kube_emulator::EmulatorHandle>,
    sim: twilio_sim::Simulator,
    sim_server: Option<twilio_sim::SimServer>,
    client: Client,
    master_sid: String,
    /// Subaccount creates seen by the lossy proxy.
    creates: Arc<AtomicUsize>,
    token: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Env {
    async fn start() -> Env {
        Self::start_with(false).await
    }

    /// `lossy`: Twilio is reached through a proxy whose first subaccount create is committed at
    /// the simulator and then answered with a 500 (the client reports OutcomeUnknown).
    async fn start_with(lossy: bool) -> Env {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emulator = kube_emulator::start(kube_emulator::EmulatorConfig::default())
            .await
            .unwrap();
        let client = Client::try_from(kube::Config::new(emulator.url().parse().unwrap())).unwrap();
        let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crds() {
            crd_api.create(&PostParams::default(), &crd).await.unwrap();
        }
        let accounts: Api<TelephonyAccount> = Api::all(client.clone());
        for _ in 0..200 {
            if accounts.list(&Default::default()).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for ns in ["telephony-system", "byo", "managed"] {
            namespace(&client, ns).await;
        }
        let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig {
            accounts: vec![twilio_sim::SeedAccount {
                sid: BYO_SID.into(),
                auth_token: BYO_TOKEN.into(),
                friendly_name: "Acme".into(),
                balance: rust_decimal::Decimal::new(2000, 2),
                account_type: "Full".into(),
            }],
            ..Default::default()
        });
        let master = sim.add_account("Agni platform");
        sim.assign_number(BYO_SID, "+14155550123").unwrap();
        let sim_server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let creates = Arc::new(AtomicUsize::new(0));
        let base_url = if lossy {
            lossy_proxy(sim_server.base_url(), creates.clone()).await
        } else {
            sim_server.base_url()
        };
        let base: url::Url = base_url.parse().unwrap();
        let mut config = OperatorConfig::for_local(&base);
        config.resync_seconds = 2;
        secret(
            &client,
            &config.operator_namespace,
            &config.master_credentials_secret,
            &master.sid,
            &master.auth_token,
        )
        .await;
        let twilio = TwilioClient::new(TwilioClientConfig {
            api_base: base.clone(),
            pricing_base: base,
            ..Default::default()
        })
        .unwrap();
        let ctx = Arc::new(Context::new(
            client.clone(),
            twilio,
            Arc::new(SystemClock),
            config,
            RateCard::default(),
        ));
        let token = CancellationToken::new();
        let task = tokio::spawn(telephony_operator::controller::account::run(
            ctx,
            token.clone(),
        ));
        Env {
            emulator: Some(emulator),
            sim,
            sim_server: Some(sim_server),
            client,
            master_sid: master.sid,
            creates,
            token,
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        self.token.cancel();
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        if let Some(s) = self.sim_server.take() {
            s.shutdown().await;
        }
        if let Some(e) = self.emulator.take() {
            e.shutdown().await;
        }
    }

    fn accounts(&self, ns: &str) -> Api<TelephonyAccount> {
        Api::namespaced(self.client.clone(), ns)
    }
}

async fn namespace(client: &Client, name: &str) {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns: k8s_openapi::api::core::v1::Namespace = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
    .unwrap();
    let _ = api.create(&PostParams::default(), &ns).await;
}

async fn event_reasons(client: &Client, ns: &str) -> Vec<String> {
    let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns);
    let mut reasons = Vec::new();
    for _ in 0..100 {
        reasons = api
            .list(&Default::default())
            .await
            .map(|l| l.items.into_iter().filter_map(|e| e.reason).collect())
            .unwrap_or_default();
        if reasons
            .iter()
            .any(|r| r == "ModeChangeRefused" || r == "DeletingNumbers")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reasons
}

async fn lossy_proxy(target: String, creates: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    telephony_operator::install_crypto_provider();
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (http, target, creates) = (http.clone(), target.clone(), creates.clone());
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut rb = http.request(parts.method.clone(), format!("{target}{path}")).body(bytes.to_vec());
            for (k, v) in parts.headers.iter() {
                if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
                    rb = rb.header(k, v);
                }
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status();
            let body = resp.bytes().await.unwrap();
            let is_create = parts.method == http::Method::POST && parts.uri.path() == "/2010-04-01/Accounts.json";
            if is_create && creates.fetch_add(1, Ordering::SeqCst) == 0 {
                let lost = r#"{"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}"#;
                return (http::StatusCode::INTERNAL_SERVER_ERROR, lost.as_bytes().to_vec());
            }
            (status, body.to_vec())
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn secret(client: &Client, ns: &str, name: &str, sid: &str, token: &str) {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let s: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "stringData": {"accountSid": sid, "authToken": token}
    }))
    .unwrap();
    api.patch(name, &PatchParams::apply("test").force(), &Patch::Apply(&s))
        .await
        .unwrap();
}

async fn create(api: &Api<TelephonyAccount>, value: serde_json::Value) {
    let obj: TelephonyAccount = serde_json::from_value(value).unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
}

fn byo(ns: &str) -> serde_json::Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "main", "namespace": ns},
        "spec": {"mode": "BringYourOwn", "friendlyName": "acme", "credentialsSecretRef": {"name": "twilio"}}
    })
}

fn managed(ns: &str, terms: bool) -> serde_json::Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "main", "namespace": ns},
        "spec": {"mode": "Managed", "managed": {
            "termsAccepted": terms, "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION,
        }}
    })
}

/// The platform's CreditGrant for the account `ns/main`.
async fn grant(client: &Client, ns: &str, per_cycle: &str) {
    let api: Api<CreditGrant> = Api::all(client.clone());
    let g: CreditGrant = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "CreditGrant",
        "metadata": {"name": CreditGrant::name_for(ns, "main")},
        "spec": {"credits": {"perCycle": per_cycle, "currency": "USD"}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &g).await.unwrap();
}

/// Polls until `check` holds (generous deadline: a failure is a real failure, not a timing).
async fn wait_for(
    api: &Api<TelephonyAccount>,
    name: &str,
    what: &str,
    check: impl Fn(&TelephonyAccount) -> bool,
) -> TelephonyAccount {
    let mut last = None;
    for _ in 0..600 {
        if let Ok(Some(a)) = api.get_opt(name).await {
            if check(&a) {
                return a;
            }
            last = Some(a);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "timed out waiting for {what}; last: {:#?}",
        last.and_then(|a| a.status)
    );
}

fn reason(a: &TelephonyAccount, t: &str) -> Option<(String, String)> {
    let c = get_condition(&a.status.as_ref()?.conditions, t)?;
    Some((c.status.clone(), c.reason.clone()))
}

fn is(a: &TelephonyAccount, t: &str, status: &str, why: &str) -> bool {
    reason(a, t) == Some((status.to_string(), why.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byo_connects_rotates_and_locks_its_mode() {
    let env = Env::start().await;
    let ns = "byo";
    let api = env.accounts(ns);
    create(&api, byo(ns)).await;
    // No Secret yet.
    wait_for(&api, "main", "SecretNotFound", |a| {
        is(a, CREDENTIALS_VALID, "False", "SecretNotFound")
    })
    .await;
    secret(&env.client, ns, "twilio", BYO_SID, BYO_TOKEN).await;
    let a = wait_for(&api, "main", "Ready", |a| is(a, READY, "True", "Connected")).await;
    let st = a.status.clone().unwrap();
    assert_eq!(st.mode, Some(AccountMode::BringYourOwn));
    assert_eq!(st.account_sid.as_deref(), Some(BYO_SID));
    assert_eq!(st.account_status.as_deref(), Some("active"));
    assert_eq!(st.r#type.as_deref(), Some("Full"));
    assert_eq!(
        st.balance.as_ref().map(|b| b.amount.as_str()),
        Some("20.00")
    );
    assert_eq!(st.observed_generation, a.metadata.generation);
    assert!(
        a.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&FINALIZER.to_string())
    );
    // One number owned, none claimed.
    let a = wait_for(&api, "main", "inventory", |a| {
        a.status
            .as_ref()
            .and_then(|s| s.inventory.as_ref())
            .is_some_and(|i| i.unclaimed == 1)
    })
    .await;
    let inv = a.status.unwrap().inventory.unwrap();
    assert_eq!(inv.managed, 0);
    assert_eq!(inv.unclaimed_numbers, vec!["+14155550123".to_string()]);

    // Rotation to a wrong token: seen through the Secret watch, no restart.
    secret(&env.client, ns, "twilio", BYO_SID, "wrong-token").await;
    let a = wait_for(&api, "main", "AuthenticationFailed", |a| {
        is(a, CREDENTIALS_VALID, "False", "AuthenticationFailed")
    })
    .await;
    assert!(is(&a, STALLED, "True", "AuthenticationFailed"));
    let msg = get_condition(&a.status.unwrap().conditions, CREDENTIALS_VALID)
        .unwrap()
        .message
        .clone();
    assert!(
        !msg.contains("wrong-token") && !msg.contains(BYO_TOKEN),
        "a secret leaked: {msg}"
    );
    secret(&env.client, ns, "twilio", BYO_SID, BYO_TOKEN).await;
    wait_for(&api, "main", "Ready again", |a| {
        is(a, READY, "True", "Connected")
    })
    .await;

    // Mode change without approval: refused, nothing at Twilio.
    let subs_before = env.sim.subaccounts(&env.master_sid).len();
    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"spec": {"mode": "Managed", "managed": {"termsAccepted": true,
            "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION}}}),
        ),
    )
    .await
    .unwrap();
    let a = wait_for(&api, "main", "ModeChangeNotApproved", |a| {
        is(a, STALLED, "True", "ModeChangeNotApproved")
    })
    .await;
    assert!(is(&a, READY, "False", "ModeChangeNotApproved"));
    let st = a.status.unwrap();
    assert_eq!(st.mode, Some(AccountMode::BringYourOwn));
    assert_eq!(st.account_sid.as_deref(), Some(BYO_SID));
    assert!(st.credits.is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        env.sim.subaccounts(&env.master_sid).len(),
        subs_before,
        "no subaccount for a refused mode"
    );

    // The story is told in events.
    let reasons = event_reasons(&env.client, ns).await;
    for r in [
        "SecretNotFound",
        "Connected",
        "ModeLocked",
        "AuthenticationFailed",
        "ModeChangeRefused",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "no {r} event in {reasons:?}"
        );
    }

    // Back to the locked mode: Ready again.
    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"mode": "BringYourOwn"}})),
    )
    .await
    .unwrap();
    wait_for(&api, "main", "Ready after revert", |a| {
        is(a, READY, "True", "Connected")
    })
    .await;

    // Deleting a BringYourOwn account never closes the workspace's own Twilio account.
    api.delete("main", &DeleteParams::default()).await.unwrap();
    for _ in 0..600 {
        if api.get_opt("main").await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(api.get_opt("main").await.unwrap().is_none());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_terms_subaccount_credits_and_deletion() {
    let env = Env::start().await;
    let ns = "managed";
    let api = env.accounts(ns);
    grant(&env.client, ns, "25.00").await;
    create(&api, managed(ns, false)).await;
    let a = wait_for(&api, "main", "TermsNotAccepted", |a| {
        is(a, TERMS_ACCEPTED, "False", "TermsNotAccepted")
    })
    .await;
    assert!(is(&a, STALLED, "True", "TermsNotAccepted"));
    assert!(a.status.as_ref().unwrap().account_sid.is_none());
    assert!(
        env.sim.subaccounts(&env.master_sid).is_empty(),
        "no subaccount before the terms"
    );

    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"managed": {"termsAccepted": true}}})),
    )
    .await
    .unwrap();
    let a = wait_for(&api, "main", "Ready", |a| is(a, READY, "True", "Connected")).await;
    let st = a.status.clone().unwrap();
    let subs = env.sim.subaccounts(&env.master_sid);
    assert_eq!(subs.len(), 1, "{subs:?}");
    let uid = a.metadata.uid.clone().unwrap();
    assert_eq!(subs[0].1, format!("agni/{ns}/main/{}", &uid[..8]));
    assert_eq!(st.account_sid.as_deref(), Some(subs[0].0.as_str()));
    assert_eq!(st.mode, Some(AccountMode::Managed));
    let credits = st.credits.expect("credits status");
    assert_eq!(credits.granted, "25.00");
    assert_eq!(credits.balance, "25.00");
    assert!(credits.cycle_end.unwrap().0 > credits.cycle_start.unwrap().0);

    // Lost status write: the subaccount is found again by name, never created twice.
    let mut lost = api.get("main").await.unwrap();
    lost.status.as_mut().unwrap().account_sid = None;
    api.replace_status("main", &PostParams::default(), &lost)
        .await
        .unwrap();
    let a = wait_for(&api, "main", "sid recovered", |a| {
        a.status.as_ref().and_then(|s| s.account_sid.as_deref()) == Some(subs[0].0.as_str())
    })
    .await;
    assert!(is(&a, READY, "True", "Connected"));
    assert_eq!(env.sim.subaccounts(&env.master_sid).len(), 1);

    // A PhoneNumber references the account: the account's deletion deletes it first and waits
    // while it goes (a finalizer stands in for the PhoneNumber controller releasing it).
    let pns: Api<PhoneNumber> = Api::namespaced(env.client.clone(), ns);
    let pn: PhoneNumber = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": "sales", "namespace": ns, "finalizers": ["test.telephony.agni.ai/releasing"]},
        "spec": {"accountRef": {"name": "main"}, "search": {"country": "US", "type": "Local"}}
    }))
    .unwrap();
    pns.create(&PostParams::default(), &pn).await.unwrap();
    api.delete("main", &DeleteParams::default()).await.unwrap();
    let a = wait_for(&api, "main", "DeletingNumbers", |a| {
        is(a, READY, "False", "DeletingNumbers")
    })
    .await;
    let msg = get_condition(&a.status.unwrap().conditions, READY)
        .unwrap()
        .message
        .clone();
    assert!(msg.contains("sales"), "{msg}");
    let sales = pns.get("sales").await.unwrap();
    assert!(
        sales.metadata.deletion_timestamp.is_some(),
        "the account's deletion deletes its PhoneNumbers"
    );
    let reasons = event_reasons(&env.client, ns).await;
    for r in [
        "TermsNotAccepted",
        "SubaccountCreated",
        "Connected",
        "DeletingNumbers",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "no {r} event in {reasons:?}"
        );
    }
    assert_eq!(env.sim.subaccounts(&env.master_sid)[0].2, "active");

    // The number goes: the subaccount is closed, then the account is deleted.
    pns.patch(
        "sales",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    for _ in 0..600 {
        if api.get_opt("main").await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        api.get_opt("main").await.unwrap().is_none(),
        "account deleted"
    );
    assert_eq!(env.sim.subaccounts(&env.master_sid)[0].2, "closed");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_response_never_creates_a_second_subaccount() {
    let env = Env::start_with(true).await;
    let ns = "managed";
    let api = env.accounts(ns);
    create(&api, managed(ns, true)).await;
    let a = wait_for(&api, "main", "Ready", |a| is(a, READY, "True", "Connected")).await;
    let subs = env.sim.subaccounts(&env.master_sid);
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(
        a.status.unwrap().account_sid.as_deref(),
        Some(subs[0].0.as_str())
    );
    assert_eq!(
        env.creates.load(Ordering::SeqCst),
        1,
        "the lost create was found by name, not repeated"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_mode_change_is_adopted() {
    let env = Env::start().await;
    let ns = "byo";
    let api = env.accounts(ns);
    secret(&env.client, ns, "twilio", BYO_SID, BYO_TOKEN).await;
    grant(&env.client, ns, "5.00").await;
    create(&api, byo(ns)).await;
    wait_for(&api, "main", "Ready", |a| is(a, READY, "True", "Connected")).await;
    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(json!({
            "metadata": {"annotations": {telephony_operator::api::MODE_CHANGE_APPROVED_ANNOTATION: "true"}},
            "spec": {"mode": "Managed", "managed": {"termsAccepted": true,
                "termsVersion": telephony_operator::DEFAULT_TERMS_VERSION}}
        })),
    )
    .await
    .unwrap();
    let a = wait_for(&api, "main", "Managed connection", |a| {
        a.status
            .as_ref()
            .is_some_and(|s| s.mode == Some(AccountMode::Managed))
            && is(a, READY, "True", "Connected")
    })
    .await;
    let subs = env.sim.subaccounts(&env.master_sid);
    assert_eq!(subs.len(), 1);
    let st = a.status.unwrap();
    assert_eq!(st.account_sid.as_deref(), Some(subs[0].0.as_str()));
    assert!(st.balance.is_none(), "no Twilio balance shown for Managed");
    assert_eq!(st.credits.unwrap().balance, "5.00");
    env.stop().await;
}

fn calls(sim: &twilio_sim::Simulator, route: &str) -> u64 {
    sim.counters().requests.get(route).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_state_resyncs_only_list_the_inventory() {
    const FETCH: &str = "GET /2010-04-01/Accounts/{Sid}.json";
    const BALANCE: &str = "GET /2010-04-01/Accounts/{AccountSid}/Balance.json";
    const LIST: &str = "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json";
    let env = Env::start().await;
    let ns = "byo";
    let api = env.accounts(ns);
    secret(&env.client, ns, "twilio", BYO_SID, BYO_TOKEN).await;
    create(&api, byo(ns)).await;
    wait_for(&api, "main", "inventory", |a| {
        is(a, READY, "True", "Connected")
            && a.status.as_ref().is_some_and(|s| s.inventory.is_some())
    })
    .await;
    let (fetches, balances, lists) = (
        calls(&env.sim, FETCH),
        calls(&env.sim, BALANCE),
        calls(&env.sim, LIST),
    );
    assert!(fetches >= 1 && balances >= 1 && lists >= 1);
    // Two more resyncs (each lists the inventory once)...
    for _ in 0..600 {
        if calls(&env.sim, LIST) >= lists + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        calls(&env.sim, LIST) >= lists + 2,
        "resyncs list the inventory"
    );
    // ... and nothing else: the account is not fetched again while nothing changed.
    assert_eq!(calls(&env.sim, FETCH), fetches);
    assert_eq!(calls(&env.sim, BALANCE), balances);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_credentials_rotation_reaches_managed_accounts() {
    let env = Env::start().await;
    let ns = "managed";
    let api = env.accounts(ns);
    create(&api, managed(ns, true)).await;
    wait_for(&api, "main", "Ready", |a| is(a, READY, "True", "Connected")).await;
    let master_token = {
        let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "telephony-system");
        let s = secrets.get("twilio-master-credentials").await.unwrap();
        let data = s.data.unwrap();
        String::from_utf8(data["authToken"].0.clone()).unwrap()
    };
    let master_sid = env.master_sid.clone();
    secret(
        &env.client,
        "telephony-system",
        "twilio-master-credentials",
        &master_sid,
        "revoked",
    )
    .await;
    let a = wait_for(&api, "main", "AuthenticationFailed", |a| {
        is(a, CREDENTIALS_VALID, "False", "AuthenticationFailed")
    })
    .await;
    let msg = get_condition(&a.status.unwrap().conditions, CREDENTIALS_VALID)
        .unwrap()
        .message
        .clone();
    assert!(msg.contains("master credentials"), "{msg}");
    secret(
        &env.client,
        "telephony-system",
        "twilio-master-credentials",
        &master_sid,
        &master_token,
    )
    .await;
    wait_for(&api, "main", "Ready again", |a| {
        is(a, READY, "True", "Connected")
    })
    .await;
    assert_eq!(env.sim.subaccounts(&env.master_sid).len(), 1);
    env.stop().await;
}

/// A Secret rotated to another valid Twilio account does not switch accounts silently: the
/// account stops (Stalled, AccountChanged, event) bound to its SID until an administrator
/// approves the new one by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_naming_another_twilio_account_is_refused_until_approved() {
    let env = Env::start().await;
    let ns = "byo";
    let api = env.accounts(ns);
    secret(&env.client, ns, "twilio", BYO_SID, BYO_TOKEN).await;
    create(&api, byo(ns)).await;
    wait_for(&api, "main", "Ready", |a| is(a, READY, "True", "Connected")).await;

    let other = env.sim.add_account("Someone else");
    secret(&env.client, ns, "twilio", &other.sid, &other.auth_token).await;
    let a = wait_for(&api, "main", "AccountChanged", |a| {
        is(a, STALLED, "True", "AccountChanged")
    })
    .await;
    assert_eq!(
        a.status.as_ref().unwrap().account_sid.as_deref(),
        Some(BYO_SID)
    );
    assert!(is(&a, READY, "False", "AccountChanged"));
    let reasons = event_reasons(&env.client, ns).await;
    assert!(reasons.iter().any(|r| r == "AccountChanged"), "{reasons:?}");

    api.patch(
        "main",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {
            telephony_operator::api::ACCOUNT_CHANGE_APPROVED_ANNOTATION: other.sid.clone()}}})),
    )
    .await
    .unwrap();
    let a = wait_for(&api, "main", "bound to the new account", |a| {
        is(a, READY, "True", "Connected")
    })
    .await;
    assert_eq!(
        a.status.unwrap().account_sid.as_deref(),
        Some(other.sid.as_str())
    );
    env.stop().await;
}
