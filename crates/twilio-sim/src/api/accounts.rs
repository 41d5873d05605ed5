//! Accounts and subaccounts: fetch, list, create, update (status rules, closing releases numbers)
//! and balance.

use super::paging::{self, PageReq};
use super::{Params, Reply};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::sim::{Inner, Simulator};
use crate::state::{Account, State};
use crate::util::{random_secret, random_sid, rfc2822};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub(crate) fn render(a: &Account) -> Value {
    let base = format!("/2010-04-01/Accounts/{}", a.sid);
    json!({
        "auth_token": a.auth_token,
        "date_created": rfc2822(a.date_created),
        "date_updated": rfc2822(a.date_updated),
        "friendly_name": a.friendly_name,
        "owner_account_sid": a.owner_sid,
        "sid": a.sid,
        "status": a.status,
        "subresource_uris": {
            "addresses": format!("{base}/Addresses.json"),
            "available_phone_numbers": format!("{base}/AvailablePhoneNumbers.json"),
            "balance": format!("{base}/Balance.json"),
            "incoming_phone_numbers": format!("{base}/IncomingPhoneNumbers.json"),
            "applications": format!("{base}/Applications.json"),
            "calls": format!("{base}/Calls.json"),
            "messages": format!("{base}/Messages.json"),
        },
        "type": a.account_type,
        "uri": format!("{base}.json"),
    })
}

pub(crate) fn fetch(sim: &Simulator, acting: &str) -> Result<Reply, ApiError> {
    let st = sim.inner.lock();
    let a = st
        .accounts
        .get(acting)
        .ok_or_else(|| ApiError::not_found(&format!("/2010-04-01/Accounts/{acting}.json")))?;
    Ok(Reply::ok(render(a)))
}

pub(crate) fn list(sim: &Simulator, p: &Principal, q: &Params) -> Result<Reply, ApiError> {
    let req = PageReq::parse(q)?;
    let name = q.get("FriendlyName");
    let status = q.get("Status");
    if let Some(s) = status
        && !matches!(s, "active" | "suspended" | "closed")
    {
        return Err(ApiError::bad_request(
            20001,
            format!("Invalid Status '{s}'"),
        ));
    }
    let st = sim.inner.lock();
    let me = st.accounts.get(&p.account_sid).ok_or_else(ApiError::auth)?;
    let visible: Vec<&Account> = st
        .accounts
        .values()
        .filter(|a| a.sid == me.sid || (me.is_main() && a.owner_sid == me.sid))
        .filter(|a| name.is_none_or(|n| a.friendly_name == n))
        .filter(|a| status.is_none_or(|s| a.status == s))
        .collect();
    let sids: Vec<&str> = visible.iter().map(|a| a.sid.as_str()).collect();
    let (range, more, before) = paging::select(&sids, &req)?;
    let page = &visible[range];
    let mut filters = Vec::new();
    if let Some(n) = name {
        filters.push(("FriendlyName".to_string(), n.to_string()));
    }
    if let Some(s) = status {
        filters.push(("Status".to_string(), s.to_string()));
    }
    let items = page.iter().map(|a| render(a)).collect();
    Ok(Reply::ok(paging::body(
        "accounts",
        items,
        "/2010-04-01/Accounts.json",
        &filters,
        &req,
        page.first().map(|a| a.sid.as_str()),
        page.last().map(|a| a.sid.as_str()),
        more,
        before,
    )))
}

fn default_subaccount_name(now: DateTime<Utc>) -> String {
    format!("SubAccount Created at {}", now.format("%Y-%m-%d %I:%M %P"))
}

pub(crate) fn create(sim: &Simulator, p: &Principal, form: &Params) -> Result<Reply, ApiError> {
    let now = sim.inner.now();
    let name = match form.get("FriendlyName") {
        Some(n) if n.chars().count() > 64 => {
            return Err(ApiError::bad_request(
                20001,
                "FriendlyName is longer than 64 characters",
            ));
        }
        Some(n) if !n.is_empty() => n.to_string(),
        _ => default_subaccount_name(now),
    };
    let mut st = sim.inner.lock();
    let parent = st.accounts.get(&p.account_sid).ok_or_else(ApiError::auth)?;
    if !parent.is_main() {
        return Err(ApiError::auth());
    }
    let parent_type = parent.account_type.clone();
    if st.subaccounts_of(&p.account_sid).len() >= sim.inner.settings.max_subaccounts {
        return Err(ApiError::bad_request(
            20001,
            "Subaccount limit reached for this account",
        ));
    }
    let a = sim.inner.new_account(
        random_sid("AC"),
        random_secret(),
        name,
        Decimal::ZERO,
        parent_type,
        Some(p.account_sid.clone()),
    );
    let body = render(&a);
    Inner::insert_account(&mut st, a);
    Ok(Reply::created(body))
}

/// Releases every number of an account (closing it).
pub(crate) fn release_all(st: &mut State, sid: &str, until: DateTime<Utc>) {
    let sids: Vec<String> = st
        .by_account
        .get(sid)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    for n in sids {
        st.release(&n, until);
    }
}

pub(crate) fn update(
    sim: &Simulator,
    p: &Principal,
    acting: &str,
    form: &Params,
) -> Result<Reply, ApiError> {
    let now = sim.inner.now();
    let until = sim.inner.quarantine_until();
    let mut st = sim.inner.lock();
    let a = st
        .accounts
        .get(acting)
        .ok_or_else(|| ApiError::not_found(&format!("/2010-04-01/Accounts/{acting}.json")))?;
    let new_status = form.get("Status").filter(|s| !s.is_empty());
    if let Some(s) = new_status {
        if !matches!(s, "active" | "suspended" | "closed") {
            return Err(ApiError::bad_request(
                20001,
                format!("Invalid Status '{s}'"),
            ));
        }
        if a.is_main() {
            return Err(ApiError::bad_request(
                20001,
                "The status of a main account cannot be changed through the API",
            ));
        }
        if a.owner_sid != p.account_sid {
            return Err(ApiError::auth());
        }
        if a.status == "closed" && s != "closed" {
            return Err(ApiError::bad_request(
                21479,
                "Cannot change the status of a closed subaccount",
            ));
        }
    }
    if let Some(n) = form.get("FriendlyName")
        && n.chars().count() > 64
    {
        return Err(ApiError::bad_request(
            20001,
            "FriendlyName is longer than 64 characters",
        ));
    }
    let closing = new_status == Some("closed");
    let Some(a) = st.accounts.get_mut(acting) else {
        return Err(ApiError::not_found(acting));
    };
    if let Some(n) = form.get("FriendlyName") {
        a.friendly_name = n.to_string();
    }
    if let Some(s) = new_status {
        a.status = s.to_string();
    }
    a.date_updated = now;
    let body = render(a);
    if closing {
        release_all(&mut st, acting, until);
    }
    Ok(Reply::ok(body))
}

pub(crate) fn balance(sim: &Simulator, acting: &str, path: &str) -> Result<Reply, ApiError> {
    let st = sim.inner.lock();
    let a = st
        .accounts
        .get(acting)
        .ok_or_else(|| ApiError::not_found(path))?;
    let amount = if a.is_main() {
        a.balance
    } else if sim.inner.settings.subaccount_balance_from_parent {
        st.payer_of(acting).map(|p| p.balance).unwrap_or_default()
    } else {
        return Err(ApiError::not_found(path));
    };
    Ok(Reply::ok(
        json!({"account_sid": acting, "balance": format!("{amount:.2}"), "currency": "USD"}),
    ))
}
