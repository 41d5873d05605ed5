//! Execution of recognised Twilio API requests against the state: authentication, authorisation,
//! then the resource handlers (accounts, numbers, search, pricing).

pub(crate) mod accounts;
pub(crate) mod available;
pub(crate) mod fields;
pub(crate) mod numbers;
pub(crate) mod paging;
pub(crate) mod pricing;

use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::routes::Route;
use crate::sim::Simulator;
use serde_json::{Value, json};

/// Query or form parameters, in order (names are case-sensitive PascalCase, as Twilio's).
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(s: &str) -> Self {
        Self(serde_urlencoded::from_str::<Vec<(String, String)>>(s).unwrap_or_default())
    }

    /// Last value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Boolean parameter (`true`/`false`, case-insensitive); `None` when absent.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(
                20001,
                format!("Invalid value '{v}' for parameter {name}"),
            )),
        }
    }
}

/// A successful answer.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    /// A purchase was committed (commit-then-fail faults apply).
    pub purchased: bool,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: Some(body),
            purchased: false,
        }
    }
    pub fn created(body: Value) -> Self {
        Self {
            status: 201,
            body: Some(body),
            purchased: false,
        }
    }
    pub fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
            purchased: false,
        }
    }
}

/// Authenticates, authorises and runs one request.
pub(crate) fn execute(
    sim: &Simulator,
    auth_header: Option<&str>,
    route: &Route,
    path: &str,
    q: &Params,
    form: &Params,
) -> Result<Reply, ApiError> {
    let (principal, acting) = {
        let st = sim.inner.lock();
        let p = auth::authenticate(&st, auth_header)?;
        let acting = auth::authorize(&st, &p, route)?;
        // A parent acting on a suspended/closed subaccount may read and update the account
        // itself, nothing below it.
        if acting != p.account_sid
            && !matches!(route, Route::AccountFetch(_) | Route::AccountUpdate(_))
            && st
                .accounts
                .get(&acting)
                .is_none_or(|a| a.status != "active")
        {
            return Err(ApiError::auth());
        }
        (p, acting)
    };
    dispatch(sim, &principal, &acting, route, path, q, form)
}

fn dispatch(
    sim: &Simulator,
    p: &Principal,
    acting: &str,
    route: &Route,
    path: &str,
    q: &Params,
    form: &Params,
) -> Result<Reply, ApiError> {
    match route {
        Route::AccountsList => accounts::list(sim, p, q),
        Route::AccountsCreate => accounts::create(sim, p, form),
        Route::AccountFetch(_) => accounts::fetch(sim, acting),
        Route::AccountUpdate(_) => accounts::update(sim, p, acting, form),
        Route::Balance(_) => accounts::balance(sim, acting, path),
        Route::AvailableCountries(_) => available::countries(sim, acting),
        Route::AvailableCountry(_, iso) => available::country(sim, acting, iso, path),
        Route::AvailableSearch(_, iso, kind) => available::search(sim, acting, iso, *kind, q, path),
        Route::NumbersList(_, kind) => numbers::list(sim, acting, *kind, q, path),
        Route::NumbersCreate(path_sid, kind) => {
            numbers::create(sim, p, acting, path_sid, *kind, form)
        }
        Route::NumberFetch(_, sid) => numbers::fetch(sim, acting, sid, path),
        Route::NumberUpdate(_, sid) => numbers::update(sim, p, acting, sid, form, path),
        Route::NumberDelete(_, sid) => numbers::delete(sim, acting, sid, path),
        Route::PricingNumberCountries => pricing::number_countries(sim, q),
        Route::PricingNumberCountry(iso) => pricing::number_country(sim, iso, path),
        Route::PricingVoiceCountries => pricing::voice_countries(sim, q),
        Route::PricingVoiceCountry(iso) => pricing::voice_country(sim, iso, path),
        Route::PricingVoiceNumber(dest) => pricing::voice_number(sim, acting, dest, q, path),
    }
}

/// `GET /_sim/state`: accounts (without tokens), API keys (without secrets) and owned numbers.
pub(crate) fn dump_state(sim: &Simulator) -> Value {
    let st = sim.inner.lock();
    let accounts: Vec<Value> = st
        .accounts
        .values()
        .map(|a| {
            let mut numbers: Vec<&str> = st
                .by_account
                .get(&a.sid)
                .map(|s| {
                    s.iter()
                        .filter_map(|sid| st.numbers.get(sid).map(|n| n.phone_number.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            numbers.sort_unstable();
            json!({
                "sid": a.sid, "owner_account_sid": a.owner_sid, "friendly_name": a.friendly_name,
                "status": a.status, "type": a.account_type, "balance": a.balance.to_string(),
                "test_account_sid": a.test_sid, "numbers": numbers,
            })
        })
        .collect();
    let keys: Vec<Value> = st
        .keys
        .iter()
        .map(|(sid, k)| json!({"sid": sid, "account_sid": k.account_sid, "type": if k.main { "Main" } else { "Standard" }}))
        .collect();
    let mut numbers: Vec<&crate::model::OwnedNumber> = st.numbers.values().collect();
    numbers.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
    json!({
        "accounts": accounts,
        "api_keys": keys,
        "numbers": numbers,
        "quarantined": st.quarantine.len(),
        "purchases": st.purchases,
        "releases": st.releases,
    })
}
