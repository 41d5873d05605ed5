//! The TelephonyAccount controller's steps against in-memory ports (no HTTP, no API server): what
//! it reads, what it writes and which Twilio calls it makes, for a BringYourOwn connection, a
//! Managed subaccount whose create response was lost, a conflicting status write and a deletion.

use super::apply::{Next, apply};
use super::cleanup::cleanup;
use super::ports::{AccountStore, Ports, StatusWriteError};
use crate::api::condition::{CREDENTIALS_VALID, READY};
use crate::api::{CredentialsSecretRef, CreditGrant, PhoneNumber, TelephonyAccount};
use crate::controller::Context;
use crate::controller::account_access::AccessError;
use crate::controller::claims::HeldClaim;
use crate::controller::conditions::get_condition;
use crate::reconcile::account::Event;
use crate::twilio::{
    Account, AccountPort, AvailableNumber, Balance, Credentials, ErrorClass, IncomingFilter,
    IncomingNumber, NumberConfig, PurchaseRequest, Routing, SearchQuery, Secret, TwilioConnector,
    TwilioError, TwilioPort,
};
use serde_json::json;
use std::sync::{Arc, Mutex};

const BYO_SID: &str = "AC0000000000000000000000000000b0b0";
const MASTER_SID: &str = "AC000000000000000000000000000000aa";

// ---- the Store port in memory ----

#[derive(Default)]
struct StoreState {
    account: Option<TelephonyAccount>,
    numbers: Vec<PhoneNumber>,
    grant: Option<CreditGrant>,
    deleted: Vec<String>,
    conflicts: u32,
    writes: u32,
    events: Vec<String>,
    /// Claims the account holds (numbers of deleted PhoneNumbers).
    holds: Vec<HeldClaim>,
    /// Holds an adopter takes over before the account can mark them (by number).
    adopted_meanwhile: Vec<String>,
    /// The auth token the tenant Secret holds (a default one when unset).
    token: Option<String>,
}

#[derive(Default)]
struct MemoryStore(Mutex<StoreState>);

impl MemoryStore {
    fn with(account: TelephonyAccount) -> Self {
        MemoryStore(Mutex::new(StoreState {
            account: Some(account),
            ..Default::default()
        }))
    }
    fn account(&self) -> TelephonyAccount {
        self.0.lock().unwrap().account.clone().unwrap()
    }
    fn writes(&self) -> u32 {
        self.0.lock().unwrap().writes
    }
    fn deleted(&self) -> Vec<String> {
        self.0.lock().unwrap().deleted.clone()
    }
    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().events.clone()
    }
}

fn creds(sid: &str) -> Credentials {
    Credentials::AuthToken {
        account_sid: sid.into(),
        auth_token: Secret::new("token-not-logged".to_string()),
    }
}

impl AccountStore for MemoryStore {
    async fn credentials(
        &self,
        namespace: &str,
        secret_ref: &CredentialsSecretRef,
    ) -> Result<Credentials, AccessError> {
        if secret_ref.name == "twilio" {
            Ok(match self.0.lock().unwrap().token.clone() {
                Some(token) => Credentials::AuthToken {
                    account_sid: BYO_SID.into(),
                    auth_token: Secret::new(token),
                },
                None => creds(BYO_SID),
            })
        } else {
            Err(AccessError::SecretNotFound {
                namespace: namespace.into(),
                name: secret_ref.name.clone(),
            })
        }
    }
    async fn master_credentials(&self) -> Result<Credentials, AccessError> {
        Ok(creds(MASTER_SID))
    }
    async fn credit_grant(
        &self,
        _namespace: &str,
        _name: &str,
    ) -> Result<Option<CreditGrant>, kube::Error> {
        Ok(self.0.lock().unwrap().grant.clone())
    }
    async fn phone_numbers(
        &self,
        _namespace: &str,
        account: &str,
    ) -> Result<Vec<PhoneNumber>, kube::Error> {
        let s = self.0.lock().unwrap();
        Ok(s.numbers
            .iter()
            .filter(|pn| pn.spec.account_ref.name == account)
            .cloned()
            .collect())
    }
    async fn delete_phone_number(&self, _namespace: &str, name: &str) -> Result<(), kube::Error> {
        let mut s = self.0.lock().unwrap();
        s.deleted.push(name.to_string());
        // Its finalizer holds it while the number is released.
        for pn in s
            .numbers
            .iter_mut()
            .filter(|pn| pn.metadata.name.as_deref() == Some(name))
        {
            pn.metadata.deletion_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    "2026-03-01T12:05:00Z".parse().unwrap(),
                ));
        }
        Ok(())
    }
    async fn held_numbers(&self, account_uid: &str) -> Result<Vec<HeldClaim>, kube::Error> {
        assert_eq!(account_uid, "u-1", "holds are listed by the account's uid");
        Ok(self.0.lock().unwrap().holds.clone())
    }
    async fn mark_releasing(&self, held: &HeldClaim) -> Result<Option<HeldClaim>, kube::Error> {
        let mut s = self.0.lock().unwrap();
        let number = held.hold.phone_number.clone();
        if s.adopted_meanwhile.contains(&number) {
            s.holds.retain(|h| h.hold.phone_number != number);
            return Ok(None);
        }
        let Some(h) = s.holds.iter_mut().find(|h| h.hold.phone_number == number) else {
            return Ok(None);
        };
        h.hold.releasing = true;
        Ok(Some(h.clone()))
    }
    async fn drop_hold(&self, held: &HeldClaim) -> Result<(), kube::Error> {
        let mut s = self.0.lock().unwrap();
        s.holds
            .retain(|h| h.hold.phone_number != held.hold.phone_number);
        Ok(())
    }
    async fn get(&self, _namespace: &str, _name: &str) -> Result<TelephonyAccount, kube::Error> {
        Ok(self.account())
    }
    async fn replace_status(
        &self,
        account: &TelephonyAccount,
    ) -> Result<TelephonyAccount, StatusWriteError> {
        let mut s = self.0.lock().unwrap();
        let s = &mut *s;
        let stored = s.account.as_mut().ok_or(StatusWriteError::Gone)?;
        if s.conflicts > 0 {
            s.conflicts -= 1;
            // Someone else wrote meanwhile: a new resourceVersion.
            let rv: u64 = stored
                .metadata
                .resource_version
                .as_deref()
                .unwrap_or("1")
                .parse()
                .unwrap();
            stored.metadata.resource_version = Some((rv + 1).to_string());
            return Err(StatusWriteError::Conflict);
        }
        if stored.metadata.resource_version != account.metadata.resource_version {
            return Err(StatusWriteError::Conflict);
        }
        let rv: u64 = stored
            .metadata
            .resource_version
            .as_deref()
            .unwrap_or("1")
            .parse()
            .unwrap();
        stored.status = account.status.clone();
        stored.metadata.resource_version = Some((rv + 1).to_string());
        let written = stored.clone();
        s.writes += 1;
        Ok(written)
    }
    async fn publish(&self, _account: &TelephonyAccount, events: &[Event]) {
        let mut s = self.0.lock().unwrap();
        s.events.extend(events.iter().map(|e| e.reason.to_string()));
    }
}

// ---- the Twilio port in memory ----

#[derive(Default)]
struct TwilioState {
    accounts: Vec<Account>,
    owned: Vec<IncomingNumber>,
    /// The next subaccount create is carried out but its response lost.
    lose_create_response: bool,
    calls: Vec<String>,
}

#[derive(Clone, Default)]
struct MemoryTwilio(Arc<Mutex<TwilioState>>);

struct MemoryAccount {
    sid: String,
    twilio: MemoryTwilio,
}

impl MemoryTwilio {
    fn new(accounts: &[(&str, &str, &str)]) -> Self {
        let t = MemoryTwilio::default();
        t.0.lock().unwrap().accounts = accounts
            .iter()
            .map(|(sid, owner, name)| account(sid, owner, name))
            .collect();
        t
    }
    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().calls.clone()
    }
    fn count(&self, call: &str) -> usize {
        self.calls().iter().filter(|c| c.as_str() == call).count()
    }
}

fn account(sid: &str, owner: &str, name: &str) -> Account {
    serde_json::from_value(json!({
        "sid": sid, "owner_account_sid": owner, "friendly_name": name,
        "status": "active", "type": "Full",
    }))
    .unwrap()
}

impl TwilioConnector for MemoryTwilio {
    type Port = MemoryAccount;
    fn account(&self, creds: &Credentials, _routing: &Routing) -> MemoryAccount {
        MemoryAccount {
            sid: creds.account_sid().to_string(),
            twilio: self.clone(),
        }
    }
    fn subaccount(&self, _parent: &Credentials, sid: &str, _routing: &Routing) -> MemoryAccount {
        MemoryAccount {
            sid: sid.to_string(),
            twilio: self.clone(),
        }
    }
}

impl MemoryAccount {
    fn call(&self, name: &str) -> std::sync::MutexGuard<'_, TwilioState> {
        let mut s = self.twilio.0.lock().unwrap();
        s.calls.push(name.to_string());
        s
    }
}

fn unused(op: &'static str) -> TwilioError {
    TwilioError::new(
        ErrorClass::Permanent,
        op,
        "not used by the account controller",
    )
}

impl TwilioPort for MemoryAccount {
    fn account_sid(&self) -> &str {
        &self.sid
    }
    async fn search_available(
        &self,
        _q: &SearchQuery,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        Err(unused("search_available"))
    }
    async fn buy(&self, _req: &PurchaseRequest) -> Result<IncomingNumber, TwilioError> {
        Err(unused("buy"))
    }
    async fn list_incoming(&self, _f: &IncomingFilter) -> Result<Vec<IncomingNumber>, TwilioError> {
        Ok(self.call("list_incoming").owned.clone())
    }
    async fn update_incoming(
        &self,
        _sid: &str,
        _config: &NumberConfig,
    ) -> Result<IncomingNumber, TwilioError> {
        Err(unused("update_incoming"))
    }
    async fn release(&self, sid: &str) -> Result<(), TwilioError> {
        let mut s = self.call("release");
        let before = s.owned.len();
        s.owned.retain(|n| n.sid != sid);
        if s.owned.len() == before {
            let mut e = TwilioError::new(ErrorClass::Permanent, "release", "no such number");
            e.status = Some(404);
            return Err(e);
        }
        Ok(())
    }
}

impl AccountPort for MemoryAccount {
    async fn fetch_account(&self) -> Result<Account, TwilioError> {
        let s = self.call("fetch_account");
        s.accounts
            .iter()
            .find(|a| a.sid == self.sid)
            .cloned()
            .ok_or_else(|| {
                TwilioError::new(ErrorClass::Permanent, "fetch_account", "no such account")
            })
    }
    async fn balance(&self) -> Result<Balance, TwilioError> {
        drop(self.call("balance"));
        Ok(serde_json::from_value(
            json!({"account_sid": self.sid, "balance": "12.50", "currency": "USD"}),
        )
        .unwrap())
    }
    async fn list_accounts(
        &self,
        friendly_name: Option<&str>,
        _status: Option<&str>,
    ) -> Result<Vec<Account>, TwilioError> {
        let s = self.call("list_accounts");
        Ok(s.accounts
            .iter()
            .filter(|a| friendly_name.is_none_or(|n| a.friendly_name == n))
            .cloned()
            .collect())
    }
    async fn create_subaccount(&self, friendly_name: &str) -> Result<Account, TwilioError> {
        let mut s = self.call("create_subaccount");
        let sid = format!("AC{:032x}", s.accounts.len() + 1);
        let created = account(&sid, &self.sid, friendly_name);
        s.accounts.push(created.clone());
        if std::mem::take(&mut s.lose_create_response) {
            return Err(TwilioError::new(
                ErrorClass::OutcomeUnknown,
                "create_subaccount",
                "timed out after sending",
            ));
        }
        Ok(created)
    }
    async fn close_subaccount(&self, sid: &str) -> Result<Account, TwilioError> {
        let mut s = self.call("close_subaccount");
        let a = s
            .accounts
            .iter_mut()
            .find(|a| a.sid == sid)
            .ok_or_else(|| TwilioError::new(ErrorClass::Permanent, "close", "no such account"))?;
        a.status = "closed".into();
        Ok(a.clone())
    }
}

// ---- harness ----

/// A Context whose Kubernetes client can reach nothing (every call the ports do not make fails).
fn context() -> Arc<Context> {
    let service = tower::service_fn(|_req: http::Request<kube::client::Body>| async {
        Err::<http::Response<kube::client::Body>, std::io::Error>(std::io::Error::other(
            "no API server in this test",
        ))
    });
    crate::controller::context::for_tests(kube::Client::new(service, "default"))
}

fn object(spec: serde_json::Value) -> TelephonyAccount {
    let mut a: TelephonyAccount = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "main", "namespace": "team", "uid": "u-1", "generation": 1,
                     "resourceVersion": "1"},
        "spec": spec,
    }))
    .unwrap();
    a.metadata.finalizers = Some(vec![crate::api::FINALIZER.to_string()]);
    a
}

fn byo() -> TelephonyAccount {
    object(json!({"mode": "BringYourOwn", "credentialsSecretRef": {"name": "twilio"}}))
}

fn managed() -> TelephonyAccount {
    object(json!({"mode": "Managed", "managed": {
        "termsAccepted": true, "termsVersion": crate::DEFAULT_TERMS_VERSION,
    }}))
}

fn condition(a: &TelephonyAccount, t: &str) -> (String, String) {
    let c = get_condition(&a.status.as_ref().unwrap().conditions, t).unwrap();
    (c.status.clone(), c.reason.to_string())
}

fn ports(store: MemoryStore, twilio: MemoryTwilio) -> Ports<MemoryStore, MemoryTwilio> {
    Ports {
        ctx: context(),
        store,
        twilio,
    }
}

// ---- tests ----

#[tokio::test]
async fn a_byo_account_connects_in_one_write_and_a_settled_resync_writes_nothing() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let p = ports(MemoryStore::with(byo()), twilio.clone());

    let next = apply(&p, &p.store.account()).await.unwrap();
    assert!(matches!(next, Next::Requeue(_)), "{next:?}");
    let a = p.store.account();
    assert_eq!(
        a.status.as_ref().unwrap().account_sid.as_deref(),
        Some(BYO_SID)
    );
    assert_eq!(condition(&a, READY).0, "True");
    assert_eq!(condition(&a, CREDENTIALS_VALID).0, "True");
    assert_eq!(p.store.writes(), 1);
    assert_eq!(
        twilio.calls(),
        ["fetch_account", "balance", "list_incoming"]
    );

    // Nothing changed: no write, no Twilio call (verified and listed within the resync).
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(p.store.writes(), 1);
    assert_eq!(twilio.calls().len(), 3, "{:?}", twilio.calls());
}

#[tokio::test]
async fn a_missing_secret_is_reported_without_calling_twilio() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let account = object(json!({"mode": "BringYourOwn", "credentialsSecretRef": {"name": "nope"}}));
    let p = ports(MemoryStore::with(account), twilio.clone());
    apply(&p, &p.store.account()).await.unwrap();
    let a = p.store.account();
    assert_eq!(
        condition(&a, CREDENTIALS_VALID),
        ("False".into(), "SecretNotFound".into())
    );
    assert!(twilio.calls().is_empty(), "{:?}", twilio.calls());
}

#[tokio::test]
async fn a_lost_subaccount_create_response_is_looked_up_not_repeated() {
    let twilio = MemoryTwilio::new(&[(MASTER_SID, MASTER_SID, "Platform")]);
    twilio.0.lock().unwrap().lose_create_response = true;
    let p = ports(MemoryStore::with(managed()), twilio.clone());

    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("create_subaccount"), 1, "{:?}", twilio.calls());
    let sub = twilio.0.lock().unwrap().accounts[1].sid.clone();
    let a = p.store.account();
    assert_eq!(
        a.status.as_ref().unwrap().account_sid.as_deref(),
        Some(sub.as_str())
    );
    assert!(
        p.store.events().iter().any(|r| r == "SubaccountCreated"),
        "{:?}",
        p.store.events()
    );

    // The next reconcile uses the recorded SID: no lookup, no create.
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("create_subaccount"), 1);
    assert_eq!(twilio.count("list_accounts"), 2, "{:?}", twilio.calls());
}

#[tokio::test]
async fn a_conflicting_status_write_is_recomputed_on_the_fresh_object() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let store = MemoryStore::with(byo());
    store.0.lock().unwrap().conflicts = 2;
    let p = ports(store, twilio.clone());
    let stale = p.store.account();
    apply(&p, &stale).await.unwrap();
    assert_eq!(p.store.writes(), 1);
    let a = p.store.account();
    assert_eq!(a.metadata.resource_version.as_deref(), Some("4"));
    assert_eq!(condition(&a, READY).0, "True");
    // The observation was made once; only the decision was recomputed.
    assert_eq!(twilio.count("fetch_account"), 1);
}

#[tokio::test]
async fn deletion_waits_for_its_numbers_then_closes_the_subaccount_once() {
    let twilio = MemoryTwilio::new(&[(MASTER_SID, MASTER_SID, "Platform")]);
    let p = ports(MemoryStore::with(managed()), twilio.clone());
    apply(&p, &p.store.account()).await.unwrap();
    let sub = p.store.account().status.unwrap().account_sid.unwrap();

    let number: PhoneNumber = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": "support", "namespace": "team"},
        "spec": {"accountRef": {"name": "main"}, "number": "+14155550100"},
    }))
    .unwrap();
    p.store.0.lock().unwrap().numbers.push(number);
    let mut deleting = p.store.account();
    deleting.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-03-01T12:05:00Z".parse().unwrap(),
        ));
    p.store.0.lock().unwrap().account = Some(deleting.clone());

    // The account deletes its PhoneNumber (once) and waits while it is released.
    let waiting = cleanup(&p, &deleting).await;
    assert!(
        matches!(waiting, Err(super::Error::DeletionBlocked(_))),
        "{waiting:?}"
    );
    assert_eq!(p.store.deleted(), ["support"]);
    assert_eq!(twilio.count("close_subaccount"), 0);
    assert!(p.store.events().iter().any(|r| r == "DeletingNumbers"));
    let again = cleanup(&p, &p.store.account()).await;
    assert!(matches!(again, Err(super::Error::DeletionBlocked(_))));
    assert_eq!(p.store.deleted(), ["support"], "deleted once");

    p.store.0.lock().unwrap().numbers.clear();
    cleanup(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("close_subaccount"), 1);
    let closed = twilio
        .0
        .lock()
        .unwrap()
        .accounts
        .iter()
        .find(|a| a.sid == sub)
        .unwrap()
        .status
        .clone();
    assert_eq!(closed, "closed");
}

// ---- numbers held after their PhoneNumber was deleted (issue 14: a rename loses nothing) ----

fn owned_number(sid: &str, e164: &str) -> IncomingNumber {
    serde_json::from_value(json!({
        "sid": sid, "account_sid": BYO_SID, "phone_number": e164,
        "capabilities": {"voice": true, "sms": true, "mms": false},
    }))
    .unwrap()
}

fn held(sid: &str, e164: &str, release_at: &str) -> HeldClaim {
    use crate::reconcile::phone_number::status::micro;
    HeldClaim {
        lease: Default::default(),
        hold: crate::api::HeldNumber {
            phone_number: e164.into(),
            sid: sid.into(),
            account_sid: BYO_SID.into(),
            deleted_from: "old-name".into(),
            held_since: micro("2026-03-01T11:30:00Z".parse().unwrap()),
            release_at: micro(release_at.parse().unwrap()),
            purchased_at: None,
            period: None,
            period_days: None,
            releasing: false,
        },
    }
}

#[tokio::test]
async fn held_numbers_are_listed_until_their_window_ends_then_released_once() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    twilio.0.lock().unwrap().owned = vec![
        owned_number("PN1", "+14155550101"),
        owned_number("PN2", "+14155550102"),
    ];
    let store = MemoryStore::with(byo());
    // Clock at 12:00: one hold ended at 11:59, one runs until 12:30.
    store.0.lock().unwrap().holds = vec![
        held("PN1", "+14155550101", "2026-03-01T11:59:00Z"),
        held("PN2", "+14155550102", "2026-03-01T12:30:00Z"),
    ];
    let p = ports(store, twilio.clone());
    let next = apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("release"), 1, "{:?}", twilio.calls());
    let owned: Vec<String> = twilio
        .0
        .lock()
        .unwrap()
        .owned
        .iter()
        .map(|n| n.sid.clone())
        .collect();
    assert_eq!(
        owned,
        ["PN2"],
        "only the hold whose window ended is released"
    );
    let status = p.store.account().status.unwrap();
    let listed: Vec<&str> = status
        .held_numbers
        .iter()
        .map(|h| h.phone_number.as_str())
        .collect();
    assert_eq!(
        listed,
        ["+14155550102"],
        "the running hold is shown with its release time"
    );
    assert!(p.store.events().iter().any(|r| r == "HeldNumberReleased"));
    // Woken for the next release (30 minutes), not only at the resync.
    match next {
        Next::Requeue(wait) => assert!(wait <= std::time::Duration::from_secs(30 * 60), "{wait:?}"),
        other => panic!("{other:?}"),
    }
    // Again before 12:30: nothing released; the inventory summary catches up with the release
    // once (the held number is listed as held, not as unclaimed), then nothing is written.
    apply(&p, &p.store.account()).await.unwrap();
    let inventory = p.store.account().status.unwrap().inventory.unwrap();
    assert_eq!(inventory.unclaimed, 0, "{inventory:?}");
    assert!(inventory.unclaimed_numbers.is_empty(), "{inventory:?}");
    let writes = p.store.writes();
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("release"), 1);
    assert_eq!(p.store.writes(), writes);
}

#[tokio::test]
async fn a_hold_adopted_meanwhile_is_never_released() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    twilio.0.lock().unwrap().owned = vec![owned_number("PN1", "+14155550101")];
    let store = MemoryStore::with(byo());
    store.0.lock().unwrap().holds = vec![held("PN1", "+14155550101", "2026-03-01T11:59:00Z")];
    store.0.lock().unwrap().adopted_meanwhile = vec!["+14155550101".into()];
    let p = ports(store, twilio.clone());
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("release"), 0, "{:?}", twilio.calls());
    assert!(p.store.account().status.unwrap().held_numbers.is_empty());
}

#[tokio::test]
async fn a_deleted_account_releases_what_it_holds_before_it_goes() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    twilio.0.lock().unwrap().owned = vec![owned_number("PN1", "+14155550101")];
    let store = MemoryStore::with(byo());
    let p = ports(store, twilio.clone());
    apply(&p, &p.store.account()).await.unwrap();
    // Held until well after now: the account's deletion does not wait for the window.
    p.store.0.lock().unwrap().holds = vec![held("PN1", "+14155550101", "2026-03-01T13:00:00Z")];
    let mut deleting = p.store.account();
    deleting.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-03-01T12:05:00Z".parse().unwrap(),
        ));
    p.store.0.lock().unwrap().account = Some(deleting.clone());
    cleanup(&p, &deleting).await.unwrap();
    assert_eq!(twilio.count("release"), 1, "{:?}", twilio.calls());
    assert!(twilio.0.lock().unwrap().owned.is_empty());
    assert!(p.store.0.lock().unwrap().holds.is_empty());
}

#[tokio::test]
async fn a_release_interrupted_by_a_crash_is_finished_not_undone() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    // Crashed after marking the hold releasing (window not even over yet) and after the Twilio
    // release (the number is gone already): both are finished, neither is adoptable again.
    twilio.0.lock().unwrap().owned = vec![owned_number("PN1", "+14155550101")];
    let mut marked = held("PN1", "+14155550101", "2026-03-01T13:00:00Z");
    marked.hold.releasing = true;
    let mut gone = held("PN2", "+14155550102", "2026-03-01T11:00:00Z");
    gone.hold.releasing = true;
    let store = MemoryStore::with(byo());
    store.0.lock().unwrap().holds = vec![marked, gone];
    let p = ports(store, twilio.clone());
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("release"), 2, "{:?}", twilio.calls());
    assert!(twilio.0.lock().unwrap().owned.is_empty());
    assert!(p.store.0.lock().unwrap().holds.is_empty());
    assert!(p.store.account().status.unwrap().held_numbers.is_empty());
}

// ---- an account follows its numbers while they are being bought ----

fn number_of_main(name: &str, ready_with: Option<&str>) -> PhoneNumber {
    let mut pn: PhoneNumber = serde_json::from_value(json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"accountRef": {"name": "main"},
                 "search": {"country": "US", "type": "Local", "areaCode": 415}},
    }))
    .unwrap();
    if let Some(e164) = ready_with {
        pn.status = Some(
            serde_json::from_value(json!({
                "phase": "Active", "phoneNumber": e164,
                "conditions": [{"type": "Ready", "status": "True", "reason": "Active",
                                "message": "", "lastTransitionTime": "2026-03-01T12:00:00Z"}],
            }))
            .unwrap(),
        );
    }
    pn
}

#[tokio::test]
async fn an_account_looks_again_soon_while_its_numbers_are_bought_and_rereads_its_balance() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let store = MemoryStore::with(byo());
    store.0.lock().unwrap().numbers = vec![number_of_main("one", None)];
    let p = ports(store, twilio.clone());

    // A number is being bought: the account looks again shortly, not at its resync.
    let next = apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(next, Next::Requeue(super::apply::WHILE_NUMBERS_CHANGE));
    assert_eq!(
        twilio.calls(),
        ["fetch_account", "balance", "list_incoming"]
    );
    let inventory = |p: &Ports<MemoryStore, MemoryTwilio>| {
        p.store.account().status.unwrap().inventory.unwrap().managed
    };
    assert_eq!(inventory(&p), 0);

    // One bought (and noted in the shared snapshot, as the PhoneNumber engine does), another
    // still being bought: the summary written a moment ago stands (summaries are written at
    // most every 30 s while numbers are in progress) and the balance waits for the burst to
    // end (or for half a minute): nothing is written.
    p.ctx
        .inventory
        .note_purchased(BYO_SID, owned_number("PN1", "+14155550101"));
    p.store.0.lock().unwrap().numbers = vec![
        number_of_main("one", Some("+14155550101")),
        number_of_main("two", None),
    ];
    let writes = p.store.writes();
    let next = apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(next, Next::Requeue(super::apply::WHILE_NUMBERS_CHANGE));
    assert_eq!(inventory(&p), 0);
    assert_eq!(p.store.writes(), writes, "no write while the burst goes on");
    assert_eq!(twilio.count("balance"), 1, "{:?}", twilio.calls());

    // Both bought: nothing is left in progress, so the balance, which the purchases moved, is
    // read again and the next look is at the resync.
    p.ctx
        .inventory
        .note_purchased(BYO_SID, owned_number("PN2", "+14155550102"));
    p.store.0.lock().unwrap().numbers = vec![
        number_of_main("one", Some("+14155550101")),
        number_of_main("two", Some("+14155550102")),
    ];
    let next = apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(next, Next::Requeue(p.ctx.config.resync_period()));
    assert_eq!(inventory(&p), 2);
    assert_eq!(
        twilio.calls(),
        ["fetch_account", "balance", "list_incoming", "balance"]
    );

    // Settled: no Twilio call, no write.
    let writes = p.store.writes();
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.calls().len(), 4, "{:?}", twilio.calls());
    assert_eq!(p.store.writes(), writes);
}

#[tokio::test]
async fn a_stalled_number_does_not_keep_its_account_looking() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let store = MemoryStore::with(byo());
    let mut stalled = number_of_main("too-expensive", None);
    stalled.status = Some(
        serde_json::from_value(json!({
            "phase": "Pending",
            "conditions": [{"type": "Stalled", "status": "True", "reason": "PriceAboveLimit",
                            "message": "", "lastTransitionTime": "2026-03-01T12:00:00Z"}],
        }))
        .unwrap(),
    );
    store.0.lock().unwrap().numbers = vec![stalled];
    let p = ports(store, twilio);
    let next = apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(next, Next::Requeue(p.ctx.config.resync_period()));
}

#[tokio::test]
async fn a_restarted_operator_trusts_a_recent_verification_in_status() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let first = ports(MemoryStore::with(byo()), twilio.clone());
    apply(&first, &first.store.account()).await.unwrap();
    let written = first.store.account();
    assert!(written.status.as_ref().unwrap().verified_at.is_some());
    assert_eq!(
        twilio.calls(),
        ["fetch_account", "balance", "list_incoming"]
    );

    // A new process (empty caches), the same status: only the inventory list, which checks the
    // credentials; nothing written.
    let restarted = ports(MemoryStore::with(written.clone()), twilio.clone());
    apply(&restarted, &restarted.store.account()).await.unwrap();
    assert_eq!(
        twilio.calls(),
        ["fetch_account", "balance", "list_incoming", "list_incoming"]
    );
    assert_eq!(restarted.store.writes(), 0);

    // A status from an operator that recorded no verification time is verified again.
    let mut older = written;
    older.status.as_mut().unwrap().verified_at = None;
    let again = ports(MemoryStore::with(older), twilio.clone());
    apply(&again, &again.store.account()).await.unwrap();
    assert_eq!(twilio.count("fetch_account"), 2, "{:?}", twilio.calls());
}

#[tokio::test]
async fn a_rotated_secret_is_verified_again_though_status_is_recent() {
    let twilio = MemoryTwilio::new(&[(BYO_SID, BYO_SID, "Acme")]);
    let p = ports(MemoryStore::with(byo()), twilio.clone());
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("fetch_account"), 1);
    // The same process, the Secret rotated: its own memory no longer matches, and the recent
    // verification in status is not taken instead.
    p.store.0.lock().unwrap().token = Some("rotated-token".into());
    apply(&p, &p.store.account()).await.unwrap();
    assert_eq!(twilio.count("fetch_account"), 2, "{:?}", twilio.calls());
}
