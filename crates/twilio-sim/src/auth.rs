//! HTTP Basic authentication and authorisation: Auth Token, API keys (Main/Standard), test
//! credentials, parent-over-subaccount access, and account status.

use crate::error::ApiError;
use crate::routes::Route;
use crate::state::State;
use base64::Engine;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The (real) account the credentials belong to.
    pub account_sid: String,
    pub kind: PrincipalKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    AuthToken,
    MainKey,
    StandardKey,
    /// Test credentials; the field is the test SID.
    Test(String),
}

/// Decodes `Authorization: Basic …` into (user, password).
pub fn basic(header: Option<&str>) -> Option<(String, String)> {
    let v = header?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Constant-time-ish comparison (the simulator is not a security boundary, but cheap to do).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks the credentials; the principal's account (and its parent) must be active.
pub fn authenticate(st: &State, header: Option<&str>) -> Result<Principal, ApiError> {
    let (user, pass) = basic(header).ok_or_else(ApiError::auth)?;
    let p = if user.starts_with("SK") {
        let key = st
            .keys
            .get(&user)
            .filter(|k| same(&k.secret, &pass))
            .ok_or_else(ApiError::auth)?;
        Principal {
            account_sid: key.account_sid.clone(),
            kind: if key.main {
                PrincipalKind::MainKey
            } else {
                PrincipalKind::StandardKey
            },
        }
    } else if let Some(a) = st.accounts.get(&user) {
        if !same(&a.auth_token, &pass) {
            return Err(ApiError::auth());
        }
        Principal {
            account_sid: a.sid.clone(),
            kind: PrincipalKind::AuthToken,
        }
    } else if let Some(real) = st.test_sids.get(&user) {
        let a = st.accounts.get(real).ok_or_else(ApiError::auth)?;
        if !same(&a.test_token, &pass) {
            return Err(ApiError::auth());
        }
        Principal {
            account_sid: a.sid.clone(),
            kind: PrincipalKind::Test(user),
        }
    } else {
        return Err(ApiError::auth());
    };
    let a = st.accounts.get(&p.account_sid).ok_or_else(ApiError::auth)?;
    let parent_active = st
        .accounts
        .get(&a.owner_sid)
        .is_some_and(|o| o.status == "active");
    if a.status != "active" || !parent_active {
        return Err(ApiError::auth());
    }
    Ok(p)
}

/// Authorises a route for a principal. Returns the account SID acted on (the path's account for
/// v2010 routes, the principal's account otherwise).
pub fn authorize(st: &State, p: &Principal, route: &Route) -> Result<String, ApiError> {
    if let PrincipalKind::Test(test_sid) = &p.kind {
        return match route {
            Route::NumbersCreate(acct, _) if acct == test_sid => Ok(p.account_sid.clone()),
            Route::NumbersCreate(..) => Err(ApiError::auth()),
            _ => Err(ApiError::test_credentials()),
        };
    }
    if p.kind == PrincipalKind::StandardKey && route.is_accounts_resource() {
        return Err(ApiError::auth());
    }
    let Some(target) = route.path_account() else {
        return Ok(p.account_sid.clone());
    };
    if target == p.account_sid {
        return Ok(target.to_string());
    }
    match st.accounts.get(target) {
        Some(t) if t.owner_sid == p.account_sid => Ok(target.to_string()),
        _ => Err(ApiError::auth()),
    }
}
