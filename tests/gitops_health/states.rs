//! THE table: every lifecycle state of a PhoneNumber and a TelephonyAccount, with what the
//! object reads as once the server has it (phase; Ready / Reconciling / Stalled and the reason
//! that decides), what kstatus makes of it (what Flux sees) and what the Argo CD health check of
//! deploy/argocd/ makes of it. docs/gitops-health.md holds the same table (a test renders this
//! one and compares).
//!
//! Each row builds its object's spec, and its status with the operator's own core: the
//! decisions of `reconcile::phone_number` / `reconcile::account` run on the object as the server
//! returned it, on observations of the state (a Twilio answer, an account, a refusal), through
//! as many steps as the state takes (bought, then due, then refused...). Only the final status
//! is written (status subresource).

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use telephony_core::api::{PhoneNumber, TelephonyAccount, TelephonyAccountStatus};
use telephony_core::reason::{Reason, ReasonMessage};
use telephony_core::reconcile::account::{self as acct, Connected, Connection, Observation};
use telephony_core::reconcile::phone_number::{
    self as pn, AccountView, Action, BuyFailure, Observed, Ownership, PriceQuote, PriceSource,
    RenewalOutcome,
};
use telephony_core::twilio::{AvailableNumber, ErrorClass, IncomingNumber, TwilioError, codes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PhoneNumber,
    TelephonyAccount,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PhoneNumber => "PhoneNumber",
            Kind::TelephonyAccount => "TelephonyAccount",
        }
    }
}

/// One state.
pub struct Row {
    pub kind: Kind,
    /// The object's name (unique in the table).
    pub name: &'static str,
    /// The lifecycle state, for people.
    pub state: &'static str,
    /// `status.phase` as read back (PhoneNumber), `-` when there is none.
    pub phase: &'static str,
    /// Ready / Reconciling / Stalled as read back, and the reason of the one that decides.
    pub conditions: &'static str,
    /// `status.Compute` of sigs.k8s.io/cli-utils (kstatus).
    pub kstatus: &'static str,
    /// Argo CD health with deploy/argocd/'s script.
    pub argocd: &'static str,
    /// The spec the object is created with.
    pub spec: fn() -> Value,
    /// The status the operator's core writes, from the object as the server returned it
    /// (`None`: no status is written).
    pub status: fn(&Value) -> Option<Value>,
    /// Deleted after the status write (a finalizer keeps it, as the operator's does).
    pub deleting: bool,
    /// A known gap: the classification is wrong and the fix is outside this test (says where).
    pub gap: Option<&'static str>,
}

macro_rules! row {
    ($kind:ident, $name:literal, $state:literal, $phase:literal, $conds:literal, $ks:literal, $argo:literal, $spec:expr, $status:expr $(, deleting = $del:expr)? $(, gap = $gap:expr)?) => {
        Row {
            kind: Kind::$kind,
            name: $name,
            state: $state,
            phase: $phase,
            conditions: $conds,
            kstatus: $ks,
            argocd: $argo,
            spec: $spec,
            status: $status,
            deleting: row!(@or false $(, $del)?),
            gap: row!(@or None $(, Some($gap))?),
        }
    };
    (@or $default:expr) => { $default };
    (@or $default:expr, $given:expr) => { $given };
}

#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    // --- PhoneNumber: the way to Active ---
    row!(PhoneNumber, "pn-just-applied", "just applied, not reconciled yet", "-", "none (observedGeneration -1)", "InProgress", "Progressing", spec_number, no_status),
    row!(PhoneNumber, "pn-purchasing", "purchase intent recorded, buying", "Purchasing", "Ready=False, Reconciling=True: Purchasing", "InProgress", "Progressing", spec_number, purchasing),
    row!(PhoneNumber, "pn-purchase-in-flight", "a purchase may still be in flight (checked again shortly)", "Purchasing", "Ready=False, Reconciling=True: PurchaseInFlight", "InProgress", "Progressing", spec_number, purchase_in_flight),
    row!(PhoneNumber, "pn-number-taken", "searched number taken before the buy: searching again", "Pending", "Ready=False, Reconciling=True: NumberTaken", "InProgress", "Progressing", spec_search, number_taken),
    row!(PhoneNumber, "pn-account-connecting", "account still connecting", "Pending", "Ready=False, Reconciling=True: WaitingForAccount", "InProgress", "Progressing", spec_number, account_connecting),
    row!(PhoneNumber, "pn-account-unreachable", "account's Twilio briefly unreachable", "Pending", "Ready=False, Reconciling=True: WaitingForAccount", "InProgress", "Progressing", spec_number, account_unreachable),
    row!(PhoneNumber, "pn-active", "Active (bought, BringYourOwn)", "Active", "Ready=True: Active", "Current", "Healthy", spec_number, active_byo),
    row!(PhoneNumber, "pn-active-managed", "Active (adopted, Managed, renews from credits)", "Active", "Ready=True: Active", "Current", "Healthy", spec_number, active_managed),
    // --- PhoneNumber: renewal and its end ---
    row!(PhoneNumber, "pn-grace-autorenew-off", "GracePeriod: due, spec.renewal.autoRenew false", "GracePeriod", "Ready=False, Stalled=True: AutoRenewOff", "Failed", "Suspended", spec_number_no_autorenew, grace_autorenew_off),
    row!(PhoneNumber, "pn-grace-no-credits", "GracePeriod: renewal refused, credits exhausted", "GracePeriod", "Ready=False, Stalled=True: InsufficientCredits", "Failed", "Degraded", spec_number, grace_no_credits),
    row!(PhoneNumber, "pn-released", "Released after the grace period (final)", "Released", "Ready=False, Stalled=True: Released", "Failed", "Degraded", spec_number_no_autorenew, released),
    // --- PhoneNumber: Stalled, a person must act ---
    row!(PhoneNumber, "pn-invalid-spec", "invalid spec (unsupported country)", "Failed", "Ready=False, Stalled=True: UnsupportedCountry", "Failed", "Degraded", spec_search_bad_country, invalid_spec),
    row!(PhoneNumber, "pn-account-not-found", "referenced account does not exist (yet)", "Pending", "Ready=False, Reconciling=True: AccountNotFound", "InProgress", "Progressing", spec_number, account_not_found),
    row!(PhoneNumber, "pn-account-credentials-refused", "account Stalled: Twilio refused its credentials", "Pending", "Ready=False, Stalled=True: AuthenticationFailed", "Failed", "Degraded", spec_number, account_credentials_refused),
    row!(PhoneNumber, "pn-account-terms-not-accepted", "Managed account has not accepted the terms", "Pending", "Ready=False, Stalled=True: TermsNotAccepted", "Failed", "Degraded", spec_number, account_terms_not_accepted),
    row!(PhoneNumber, "pn-price-above-limit", "price above spec.maxMonthlyPrice", "Failed", "Ready=False, Stalled=True: PriceAboveLimit", "Failed", "Degraded", spec_number_cheap, price_above_limit),
    row!(PhoneNumber, "pn-price-unknown", "no published price while spec.maxMonthlyPrice needs one", "Failed", "Ready=False, Stalled=True: PriceUnknown", "Failed", "Degraded", spec_number, price_unknown),
    row!(PhoneNumber, "pn-not-on-rate-card", "Managed: the rate card has no price for the number", "Failed", "Ready=False, Stalled=True: NotOnRateCard", "Failed", "Degraded", spec_number, not_on_rate_card),
    row!(PhoneNumber, "pn-no-numbers", "no available number matches the search", "Failed", "Ready=False, Stalled=True: NoNumbersAvailable", "Failed", "Degraded", spec_search, no_numbers),
    row!(PhoneNumber, "pn-number-claimed", "the number is claimed by another PhoneNumber", "Failed", "Ready=False, Stalled=True: NumberClaimed", "Failed", "Degraded", spec_number, number_claimed),
    row!(PhoneNumber, "pn-insufficient-credits", "Managed: not enough credits to buy", "Failed", "Ready=False, Stalled=True: InsufficientCredits", "Failed", "Degraded", spec_number, insufficient_credits),
    row!(PhoneNumber, "pn-address-required", "Twilio refused the purchase: address required", "Failed", "Ready=False, Stalled=True: AddressRequired", "Failed", "Degraded", spec_number, address_required),
    row!(PhoneNumber, "pn-purchase-failed", "purchase failed after every attempt", "Failed", "Ready=False, Stalled=True: PurchaseFailed", "Failed", "Degraded", spec_number, purchase_failed),
    row!(PhoneNumber, "pn-twilio-refused-credentials", "Twilio refused the credentials on a call", "Failed", "Ready=False, Stalled=True: AuthenticationFailed", "Failed", "Degraded", spec_number, twilio_refused_credentials),
    row!(PhoneNumber, "pn-config-rejected", "Twilio refused the configuration (number Active)", "Active", "Ready=False, Stalled=True: ConfigRejected", "Failed", "Degraded", spec_number_voice, config_rejected),
    row!(PhoneNumber, "pn-number-lost", "number released outside the operator", "Failed", "Ready=False, Stalled=True: NumberLost", "Failed", "Degraded", spec_number, number_lost),
    row!(PhoneNumber, "pn-deleting", "being deleted (finalizer: releasing)", "Active", "Ready=True: Active", "Terminating", "Progressing", spec_number, active_byo, deleting = true),
    // --- TelephonyAccount ---
    row!(TelephonyAccount, "tacct-just-applied", "just applied, not reconciled yet", "-", "none (observedGeneration -1)", "InProgress", "Progressing", spec_byo, no_status),
    row!(TelephonyAccount, "tacct-connecting", "connecting: Twilio not reached yet", "-", "Ready=False, Reconciling=True: TwilioUnavailable", "InProgress", "Progressing", spec_byo, account_first_unreachable),
    row!(TelephonyAccount, "tacct-secret-unreadable", "credentials Secret not readable (API error, retried)", "-", "Ready=False, Reconciling=True: KubernetesError", "InProgress", "Progressing", spec_byo, account_kubernetes_error),
    row!(TelephonyAccount, "tacct-ready", "Ready (connected)", "-", "Ready=True: Connected", "Current", "Healthy", spec_byo, account_ready),
    row!(TelephonyAccount, "tacct-unreachable", "connected before, Twilio unreachable now", "-", "Ready=False, Reconciling=True: TwilioUnavailable", "InProgress", "Progressing", spec_byo, account_unreachable_after_ready),
    row!(TelephonyAccount, "tacct-credentials-refused", "Twilio refused the credentials", "-", "Ready=False, Stalled=True: AuthenticationFailed", "Failed", "Degraded", spec_byo, account_auth_failed),
    row!(TelephonyAccount, "tacct-secret-not-found", "credentials Secret missing", "-", "Ready=False, Stalled=True: SecretNotFound", "Failed", "Degraded", spec_byo, account_secret_not_found),
    row!(TelephonyAccount, "tacct-master-credentials-missing", "Managed: the platform's master credentials missing", "-", "Ready=False, Stalled=True: MasterCredentialsMissing", "Failed", "Degraded", spec_managed, account_master_missing),
    row!(TelephonyAccount, "tacct-terms-not-accepted", "Managed: terms not accepted", "-", "Ready=False, Stalled=True: TermsNotAccepted", "Failed", "Degraded", spec_managed_no_terms, account_terms_not_accepted_status),
    row!(TelephonyAccount, "tacct-terms-version-mismatch", "Managed: an old terms version accepted", "-", "Ready=False, Stalled=True: TermsVersionMismatch", "Failed", "Degraded", spec_managed_old_terms, account_terms_old),
    row!(TelephonyAccount, "tacct-mode-change-refused", "spec.mode changed without approval", "-", "Ready=False, Stalled=True: ModeChangeNotApproved", "Failed", "Degraded", spec_managed, account_mode_refused),
    row!(TelephonyAccount, "tacct-suspended", "Twilio account suspended", "-", "Ready=False, Stalled=True: AccountSuspended", "Failed", "Degraded", spec_byo, account_suspended),
    row!(TelephonyAccount, "tacct-closed", "Twilio account closed", "-", "Ready=False, Stalled=True: AccountClosed", "Failed", "Degraded", spec_byo, account_closed),
    row!(TelephonyAccount, "tacct-subaccount-gone", "Managed: the recorded subaccount no longer exists", "-", "Ready=False, Stalled=True: SubaccountNotFound", "Failed", "Degraded", spec_managed, account_subaccount_gone),
    row!(TelephonyAccount, "tacct-twilio-refused", "Twilio refused the request", "-", "Ready=False, Stalled=True: TwilioError", "Failed", "Degraded", spec_byo, account_twilio_refused),
    row!(TelephonyAccount, "tacct-deleting", "being deleted (finalizer)", "-", "Ready=True: Connected", "Terminating", "Progressing", spec_byo, account_ready, deleting = true),
];

/// The terms version the Managed accounts here accept (the operator's default).
pub const TERMS: &str = telephony_operator::DEFAULT_TERMS_VERSION;
const ACC: &str = "AC11111111111111111111111111111111";
const NUMBER: &str = "+14155550100";

fn now() -> Timestamp {
    Timestamp::now()
}

fn ago(d: SignedDuration) -> Timestamp {
    now().checked_sub(d).expect("a time in range")
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serializes")
}

// --- specs ------------------------------------------------------------------------------------

fn spec_number() -> Value {
    json!({"accountRef": {"name": "main"}, "number": NUMBER, "maxMonthlyPrice": "2.00"})
}

fn spec_number_no_autorenew() -> Value {
    json!({"accountRef": {"name": "main"}, "number": NUMBER, "renewal": {"autoRenew": false}})
}

fn spec_number_cheap() -> Value {
    json!({"accountRef": {"name": "main"}, "number": NUMBER, "maxMonthlyPrice": "1.00"})
}

fn spec_number_voice() -> Value {
    json!({"accountRef": {"name": "main"}, "number": NUMBER, "voice": {"url": "https://agents.example.com/voice"}})
}

fn spec_search() -> Value {
    json!({"accountRef": {"name": "main"}, "search": {"country": "US", "type": "Local", "areaCode": 415}})
}

fn spec_search_bad_country() -> Value {
    json!({"accountRef": {"name": "main"}, "search": {"country": "ZZ", "type": "Local"}})
}

fn spec_byo() -> Value {
    json!({"mode": "BringYourOwn", "friendlyName": "acme", "credentialsSecretRef": {"name": "twilio"}})
}

fn spec_managed() -> Value {
    json!({"mode": "Managed", "managed": {"termsAccepted": true, "termsVersion": TERMS}})
}

fn spec_managed_no_terms() -> Value {
    json!({"mode": "Managed", "managed": {"termsAccepted": false}})
}

fn spec_managed_old_terms() -> Value {
    json!({"mode": "Managed", "managed": {"termsAccepted": true, "termsVersion": "2000-01"}})
}

fn no_status(_: &Value) -> Option<Value> {
    None
}

// --- PhoneNumber observations ------------------------------------------------------------------

fn phone_number(o: &Value) -> PhoneNumber {
    serde_json::from_value(o.clone()).expect("a PhoneNumber as the server returned it")
}

fn usable(mode: telephony_core::api::AccountMode) -> AccountView {
    AccountView::Usable {
        mode,
        account_sid: ACC.into(),
    }
}

fn byo() -> AccountView {
    usable(telephony_core::api::AccountMode::BringYourOwn)
}

fn managed() -> AccountView {
    usable(telephony_core::api::AccountMode::Managed)
}

fn quote(source: PriceSource) -> PriceQuote {
    PriceQuote {
        currency: "USD".into(),
        monthly_fee: Decimal::new(115, 2),
        inbound_per_minute: Some(Decimal::new(85, 4)),
        outbound_per_minute: Some(Decimal::new(945, 4)),
        source,
        fetched_at: Some(now()),
    }
}

/// What the operator observed at `at` through `account`: the price (Pricing API or rate card).
fn observed_at(at: Timestamp, account: AccountView) -> Observed {
    let source = match &account {
        AccountView::Usable {
            mode: telephony_core::api::AccountMode::Managed,
            ..
        } => PriceSource::RateCard,
        _ => PriceSource::TwilioPricingApi,
    };
    let mut o = Observed::new(at, account);
    o.price = Some(quote(source));
    o
}

fn observed(account: AccountView) -> Observed {
    observed_at(now(), account)
}

fn incoming(created: Timestamp) -> IncomingNumber {
    let mut n: IncomingNumber = serde_json::from_value(json!({
        "sid": "PN0123456789abcdef0123456789abcdef",
        "account_sid": ACC,
        "phone_number": NUMBER,
        "capabilities": {"voice": true, "sms": true, "mms": false},
        "type": "local",
    }))
    .expect("an incoming number");
    n.date_created = Some(created);
    n
}

fn lookup(number: Option<IncomingNumber>, at: Timestamp) -> Option<Ownership> {
    Some(Ownership {
        number,
        as_of: at,
        targeted: true,
    })
}

/// Decides, and keeps the decision's status as the object's (what the controller writes).
fn step(p: &mut PhoneNumber, o: &Observed) -> pn::Decision {
    let d = pn::decide(p, o);
    p.status = Some(d.status.clone());
    d
}

fn status_of(p: &PhoneNumber) -> Option<Value> {
    p.status.as_ref().map(to_json)
}

/// Looked up (not in the account), the intent is recorded: Purchasing.
fn intent_at(p: &mut PhoneNumber, at: Timestamp, account: AccountView) {
    let mut o = observed_at(at, account);
    o.owned = lookup(None, at);
    let d = step(p, &o);
    assert!(
        matches!(d.action, Action::RecordIntent { .. }),
        "{:?}",
        d.action
    );
}

fn purchasing(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    intent_at(&mut p, now(), byo());
    status_of(&p)
}

fn purchase_in_flight(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let start = ago(SignedDuration::from_secs(5));
    intent_at(&mut p, start, byo());
    let mut obs = observed(byo());
    obs.owned = lookup(None, now());
    step(&mut p, &obs);
    status_of(&p)
}

fn number_taken(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let found: AvailableNumber = serde_json::from_value(json!({
        "phone_number": "+14155550199", "friendly_name": "(415) 555-0199", "iso_country": "US",
        "capabilities": {"voice": true, "SMS": true, "MMS": false}
    }))
    .expect("an available number");
    let mut obs = observed(byo());
    obs.search = Some(vec![found]);
    let d = step(&mut p, &obs);
    assert!(
        matches!(d.action, Action::RecordIntent { .. }),
        "{:?}",
        d.action
    );
    let mut obs = observed(byo());
    obs.buy_failure = Some(BuyFailure::Refused {
        code: Some(codes::NUMBER_UNAVAILABLE),
        message: "not available".into(),
    });
    obs.owned = lookup(None, now());
    step(&mut p, &obs);
    status_of(&p)
}

/// The number is bought: intent, then the account holds it.
fn bought(p: &mut PhoneNumber, account: AccountView) {
    let start = ago(SignedDuration::from_secs(30));
    intent_at(p, start, account.clone());
    let mut obs = observed(account);
    obs.owned = lookup(Some(incoming(now())), now());
    let d = step(p, &obs);
    assert!(matches!(d.action, Action::Confirm { .. }), "{:?}", d.action);
}

fn active_byo(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    bought(&mut p, byo());
    status_of(&p)
}

fn active_managed(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(managed());
    obs.owned = lookup(Some(incoming(ago(days(3)))), now());
    let d = step(&mut p, &obs);
    assert!(matches!(d.action, Action::Confirm { .. }), "{:?}", d.action);
    status_of(&p)
}

/// Managed, adopted 28 days and an hour ago with autoRenew false: due, so in its grace period.
fn grace_autorenew_off(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(managed());
    obs.owned = lookup(
        Some(incoming(ago(days(28) + SignedDuration::from_hours(1)))),
        now(),
    );
    step(&mut p, &obs);
    status_of(&p)
}

/// Managed, bought 28 days and an hour ago; the renewal charge is refused (no credits).
fn grace_no_credits(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let bought_at = ago(days(28) + SignedDuration::from_hours(1));
    let mut obs = observed_at(bought_at, managed());
    obs.owned = lookup(Some(incoming(bought_at)), bought_at);
    step(&mut p, &obs);
    let mut obs = observed(managed());
    obs.owned = lookup(Some(incoming(bought_at)), now());
    let d = step(&mut p, &obs);
    assert!(matches!(d.action, Action::Renew { .. }), "{:?}", d.action);
    obs.renewal = Some(RenewalOutcome::Refused(ReasonMessage::new(
        Reason::InsufficientCredits,
        "the credits balance 0.00 USD does not cover 1.15 USD",
    )));
    step(&mut p, &obs);
    status_of(&p)
}

/// The grace period of `grace_autorenew_off` ended and the number was released at Twilio.
fn released(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    p.status = serde_json::from_value(grace_autorenew_off(o)?).ok();
    let mut obs = observed(managed());
    obs.released = true;
    step(&mut p, &obs);
    status_of(&p)
}

fn invalid_spec(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    step(&mut p, &observed(byo()));
    status_of(&p)
}

fn account_not_found(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    step(&mut p, &observed(AccountView::Missing));
    status_of(&p)
}

/// The PhoneNumber's view of `account` (reconcile::account::usable, as the controller asks).
fn view_of(account: &TelephonyAccount) -> AccountView {
    match acct::usable(account, TERMS) {
        Ok(()) => byo(),
        Err(nu) => AccountView::NotUsable {
            why: nu.why,
            transient: nu.transient,
            first_look_due: nu.first_look_due,
        },
    }
}

fn with_account(o: &Value, account: TelephonyAccount) -> Option<Value> {
    let mut p = phone_number(o);
    step(&mut p, &observed(view_of(&account)));
    status_of(&p)
}

fn account_connecting(o: &Value) -> Option<Value> {
    with_account(o, local_account(spec_byo(), first_unreachable))
}

fn account_unreachable(o: &Value) -> Option<Value> {
    with_account(o, local_account(spec_byo(), unreachable_after_ready))
}

fn account_credentials_refused(o: &Value) -> Option<Value> {
    with_account(o, local_account(spec_byo(), auth_failed))
}

fn account_terms_not_accepted(o: &Value) -> Option<Value> {
    with_account(o, local_account(spec_managed_no_terms(), terms_blocked))
}

fn price_above_limit(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(byo());
    obs.owned = lookup(None, now());
    step(&mut p, &obs);
    status_of(&p)
}

fn price_unknown(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(byo());
    obs.owned = lookup(None, now());
    obs.price = None;
    obs.price_problem = Some(ReasonMessage::new(
        Reason::PriceUnknown,
        "Twilio publishes no monthly price for Local numbers in US",
    ));
    step(&mut p, &obs);
    status_of(&p)
}

fn not_on_rate_card(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(managed());
    obs.owned = lookup(None, now());
    obs.price = None;
    step(&mut p, &obs);
    status_of(&p)
}

fn no_numbers(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(byo());
    obs.search = Some(Vec::new());
    step(&mut p, &obs);
    status_of(&p)
}

fn number_claimed(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(byo());
    obs.claimed_by = Some("other-team-line".into());
    step(&mut p, &obs);
    status_of(&p)
}

fn insufficient_credits(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    intent_at(&mut p, now(), managed());
    let mut obs = observed(managed());
    obs.buy_failure = Some(BuyFailure::NoCredits {
        message: "the credits balance 0.00 USD does not cover 1.15 USD".into(),
    });
    step(&mut p, &obs);
    status_of(&p)
}

fn address_required(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    intent_at(&mut p, now(), byo());
    let mut obs = observed(byo());
    obs.buy_failure = Some(BuyFailure::Refused {
        code: Some(codes::ADDRESS_REQUIRED),
        message: "Phone Number Requires an Address but the 'AddressSid' parameter was empty."
            .into(),
    });
    step(&mut p, &obs);
    status_of(&p)
}

/// Every attempt of the intent ran out without the number appearing in the account.
fn purchase_failed(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut at = ago(SignedDuration::from_mins(20));
    intent_at(&mut p, at, byo());
    // Every attempt's buy was sent (and its outcome never known): each one counts.
    let sent = |p: &mut PhoneNumber| {
        if let Some(i) = p.status.as_mut().and_then(|s| s.purchase_intent.as_mut()) {
            i.buy_sent = true;
        }
    };
    sent(&mut p);
    for _ in 1..pn::MAX_PURCHASE_ATTEMPTS {
        at = at
            .checked_add(SignedDuration::from_mins(2))
            .expect("a time in range");
        let mut obs = observed_at(at, byo());
        obs.owned = lookup(None, at);
        let d = step(&mut p, &obs);
        assert!(
            matches!(d.action, Action::RetryBuy { .. }),
            "{:?}",
            d.action
        );
        sent(&mut p);
    }
    let mut obs = observed(byo());
    obs.owned = lookup(None, now());
    step(&mut p, &obs);
    status_of(&p)
}

fn twilio_refused_credentials(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    let mut obs = observed(byo());
    let mut err = TwilioError::new(ErrorClass::Permanent, "list_incoming", "Authenticate");
    err.status = Some(401);
    err.code = Some(codes::AUTHENTICATION);
    obs.refusal = Some(pn::refusal_of(&err));
    step(&mut p, &obs);
    status_of(&p)
}

fn config_rejected(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    bought(&mut p, byo());
    let mut obs = observed(byo());
    obs.owned = lookup(Some(incoming(now())), now());
    obs.sync_failure = Some(ReasonMessage::new(
        Reason::ConfigRejected,
        "Twilio refused the configuration: VoiceUrl is not a valid URL (21502)",
    ));
    step(&mut p, &obs);
    status_of(&p)
}

fn number_lost(o: &Value) -> Option<Value> {
    let mut p = phone_number(o);
    bought(&mut p, byo());
    let mut obs = observed(byo());
    obs.owned = lookup(None, now());
    step(&mut p, &obs);
    status_of(&p)
}

// --- TelephonyAccount observations --------------------------------------------------------------

fn telephony_account(o: &Value) -> TelephonyAccount {
    serde_json::from_value(o.clone()).expect("a TelephonyAccount as the server returned it")
}

/// A TelephonyAccount named `main` with `spec`, generation 1, and the status `status` gives it.
fn local_account(spec: Value, status: fn(&mut TelephonyAccount)) -> TelephonyAccount {
    let mut a = telephony_account(&json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
        "metadata": {"name": "main", "namespace": "local", "generation": 1},
        "spec": spec,
    }));
    status(&mut a);
    a
}

/// One reconcile of the account with `connection` observed; the status becomes the object's.
fn reconcile(a: &mut TelephonyAccount, connection: Connection) {
    let gate = acct::gate(a, TERMS);
    let d = acct::decide(a, TERMS, now(), &gate, Observation::new(connection));
    a.status = Some(d.status);
}

fn connected(status: &str) -> Connection {
    Connection::Connected(Connected {
        account_sid: ACC.into(),
        account_status: status.into(),
        account_type: "Full".into(),
        balance: None,
        verified_at: None,
    })
}

fn twilio_error(class: ErrorClass, status: Option<u16>, code: Option<u32>) -> Connection {
    let mut e = TwilioError::new(class, "fetch_account", "as Twilio answered");
    e.status = status;
    e.code = code;
    Connection::Twilio(e)
}

fn unreachable() -> Connection {
    twilio_error(ErrorClass::Retryable, Some(503), None)
}

fn access_failed(reason: Reason, message: &str, transient: bool) -> Connection {
    Connection::AccessFailed {
        reason,
        message: message.into(),
        transient,
    }
}

fn first_unreachable(a: &mut TelephonyAccount) {
    reconcile(a, unreachable());
}

fn ready(a: &mut TelephonyAccount) {
    reconcile(a, connected("active"));
}

fn unreachable_after_ready(a: &mut TelephonyAccount) {
    ready(a);
    reconcile(a, unreachable());
}

fn auth_failed(a: &mut TelephonyAccount) {
    reconcile(
        a,
        twilio_error(
            ErrorClass::Permanent,
            Some(401),
            Some(codes::AUTHENTICATION),
        ),
    );
}

fn terms_blocked(a: &mut TelephonyAccount) {
    reconcile(a, Connection::NotAttempted);
}

/// The object as the server returned it, reconciled by `status`.
fn account_with(o: &Value, status: fn(&mut TelephonyAccount)) -> Option<Value> {
    let mut a = telephony_account(o);
    status(&mut a);
    a.status.as_ref().map(to_json)
}

fn account_first_unreachable(o: &Value) -> Option<Value> {
    account_with(o, first_unreachable)
}

fn account_kubernetes_error(o: &Value) -> Option<Value> {
    account_with(o, |a| {
        reconcile(
            a,
            access_failed(
                Reason::KubernetesError,
                "reading Secret twilio: the server is currently unable to handle the request",
                true,
            ),
        )
    })
}

fn account_ready(o: &Value) -> Option<Value> {
    account_with(o, ready)
}

fn account_unreachable_after_ready(o: &Value) -> Option<Value> {
    account_with(o, unreachable_after_ready)
}

fn account_auth_failed(o: &Value) -> Option<Value> {
    account_with(o, auth_failed)
}

fn account_secret_not_found(o: &Value) -> Option<Value> {
    account_with(o, |a| {
        reconcile(
            a,
            access_failed(
                Reason::SecretNotFound,
                "Secret twilio was not found: create it with the account's Twilio credentials",
                false,
            ),
        )
    })
}

fn account_master_missing(o: &Value) -> Option<Value> {
    account_with(o, |a| {
        reconcile(
            a,
            access_failed(
                Reason::MasterCredentialsMissing,
                "the operator's master Twilio credentials are missing",
                false,
            ),
        )
    })
}

fn account_terms_not_accepted_status(o: &Value) -> Option<Value> {
    account_with(o, terms_blocked)
}

fn account_terms_old(o: &Value) -> Option<Value> {
    account_with(o, terms_blocked)
}

/// Connected in BringYourOwn (status.mode locked), then spec.mode became Managed.
fn account_mode_refused(o: &Value) -> Option<Value> {
    let mut a = telephony_account(o);
    let mut byo = local_account(spec_byo(), ready);
    byo.metadata.generation = a.metadata.generation;
    a.status = byo.status.clone();
    reconcile(&mut a, Connection::NotAttempted);
    a.status.as_ref().map(to_json)
}

fn account_suspended(o: &Value) -> Option<Value> {
    account_with(o, |a| reconcile(a, connected("suspended")))
}

fn account_closed(o: &Value) -> Option<Value> {
    account_with(o, |a| reconcile(a, connected("closed")))
}

fn account_subaccount_gone(o: &Value) -> Option<Value> {
    account_with(o, |a| {
        a.status = Some(TelephonyAccountStatus {
            mode: Some(telephony_core::api::AccountMode::Managed),
            account_sid: Some(ACC.into()),
            ..Default::default()
        });
        reconcile(
            a,
            twilio_error(ErrorClass::Permanent, Some(404), Some(codes::NOT_FOUND)),
        )
    })
}

fn account_twilio_refused(o: &Value) -> Option<Value> {
    account_with(o, |a| {
        reconcile(
            a,
            twilio_error(ErrorClass::Permanent, Some(400), Some(20001)),
        )
    })
}
