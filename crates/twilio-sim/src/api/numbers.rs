//! IncomingPhoneNumbers: purchase (incl. test credentials and magic numbers), list with filters
//! and paging, fetch, partial update, release into quarantine.

use super::available::{find_free, parse_area_code};
use super::fields::apply_fields;
use super::paging::{self, PageReq};
use super::{Params, Reply};
use crate::auth::{Principal, PrincipalKind};
use crate::config::OwnedNumberRebuy;
use crate::error::ApiError;
use crate::inventory::{Available, Filter, Inventory, NumberType};
use crate::model::{Capabilities, OwnedNumber};
use crate::sim::Simulator;
use crate::util::{friendly_number, is_e164, random_sid, rfc2822};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn opt(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// The resource body, shaped like Twilio's.
pub(crate) fn render(n: &OwnedNumber) -> Value {
    let uri = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
        n.account_sid, n.sid
    );
    json!({
        "account_sid": n.account_sid,
        "address_requirements": n.address_requirements,
        "address_sid": opt(&n.address_sid),
        "api_version": n.api_version,
        "beta": n.beta,
        "bundle_sid": opt(&n.bundle_sid),
        "capabilities": {"voice": n.capabilities.voice, "sms": n.capabilities.sms, "mms": n.capabilities.mms, "fax": n.capabilities.fax},
        "date_created": rfc2822(n.date_created),
        "date_updated": rfc2822(n.date_updated),
        "emergency_address_sid": opt(&n.emergency_address_sid),
        "emergency_address_status": if n.emergency_address_sid.is_empty() { "unregistered" } else { "registered" },
        "emergency_status": n.emergency_status,
        "friendly_name": n.friendly_name,
        "identity_sid": opt(&n.identity_sid),
        "origin": n.origin,
        "phone_number": n.phone_number,
        "sid": n.sid,
        "sms_application_sid": opt(&n.sms_application_sid),
        "sms_fallback_method": n.sms_fallback_method,
        "sms_fallback_url": n.sms_fallback_url,
        "sms_method": n.sms_method,
        "sms_url": n.sms_url,
        "status": "in-use",
        "status_callback": n.status_callback,
        "status_callback_method": n.status_callback_method,
        "trunk_sid": opt(&n.trunk_sid),
        "type": n.number_type,
        "uri": uri,
        "voice_application_sid": opt(&n.voice_application_sid),
        "voice_caller_id_lookup": n.voice_caller_id_lookup,
        "voice_fallback_method": n.voice_fallback_method,
        "voice_fallback_url": opt(&n.voice_fallback_url),
        "voice_method": n.voice_method,
        "voice_receive_mode": n.voice_receive_mode,
        "voice_url": opt(&n.voice_url),
    })
}

/// The body for a typed sub-resource (`…/IncomingPhoneNumbers/Local.json` etc.), whose schema
/// has no `type` field.
fn render_as(n: &OwnedNumber, kind: Option<NumberType>) -> Value {
    let mut v = render(n);
    if kind.is_some()
        && let Some(o) = v.as_object_mut()
    {
        o.remove("type");
    }
    v
}

/// A freshly owned number with Twilio's defaults (metadata from the inventory when it is there).
pub(crate) fn new_owned_number(
    inv: &Inventory,
    account_sid: &str,
    e164: &str,
    now: DateTime<Utc>,
) -> OwnedNumber {
    let avail = inv.lookup(e164);
    from_available(
        account_sid,
        e164,
        avail.as_ref(),
        inv.country_of(e164).unwrap_or("US"),
        now,
    )
}

fn from_available(
    account_sid: &str,
    e164: &str,
    a: Option<&Available>,
    iso: &str,
    now: DateTime<Utc>,
) -> OwnedNumber {
    OwnedNumber {
        sid: random_sid("PN"),
        account_sid: account_sid.to_string(),
        phone_number: e164.to_string(),
        friendly_name: friendly_number(e164),
        iso_country: iso.to_string(),
        number_type: a.map_or("local", |a| a.number_type.api_type()).to_string(),
        capabilities: Capabilities {
            voice: a.is_none_or(|a| a.voice),
            sms: a.is_none_or(|a| a.sms),
            mms: a.is_none_or(|a| a.mms),
            fax: false,
        },
        locality: a.and_then(|a| a.locality).map(str::to_string),
        region: a.and_then(|a| a.region).map(str::to_string),
        voice_url: String::new(),
        voice_method: "POST".into(),
        voice_fallback_url: String::new(),
        voice_fallback_method: "POST".into(),
        voice_caller_id_lookup: false,
        voice_application_sid: String::new(),
        voice_receive_mode: "voice".into(),
        trunk_sid: String::new(),
        sms_url: String::new(),
        sms_method: "POST".into(),
        sms_fallback_url: String::new(),
        sms_fallback_method: "POST".into(),
        sms_application_sid: String::new(),
        status_callback: String::new(),
        status_callback_method: "POST".into(),
        api_version: "2010-04-01".into(),
        address_sid: String::new(),
        bundle_sid: String::new(),
        identity_sid: String::new(),
        emergency_status: "Inactive".into(),
        emergency_address_sid: String::new(),
        address_requirements: a.map_or("none", |a| a.address_requirements).to_string(),
        origin: "twilio".into(),
        beta: false,
        date_created: now,
        date_updated: now,
        next_billing_at: crate::billing::next_month(now),
    }
}

fn not_available(e164: &str) -> ApiError {
    ApiError::bad_request(21422, format!("Phone number {e164} is not available"))
}

fn invalid_number(e164: &str) -> ApiError {
    ApiError::bad_request(21421, format!("PhoneNumber {e164} is invalid"))
}

fn no_numbers_in(area: &str) -> ApiError {
    ApiError::bad_request(21452, format!("No phone numbers found in area code {area}"))
}

/// Structural validity: E.164 and, for NANP, NPA/NXX not starting with 0 or 1.
fn check_valid(e164: &str) -> Result<(), ApiError> {
    if !is_e164(e164) {
        return Err(invalid_number(e164));
    }
    if let Some(n) = e164.strip_prefix("+1") {
        let b = n.as_bytes();
        if n.len() != 10 || b[0] < b'2' || b[3] < b'2' {
            return Err(invalid_number(e164));
        }
    }
    Ok(())
}

/// What to buy.
enum Target {
    Number(Available),
    /// Candidates of an `AreaCode` purchase: the first one still free when the lock is held.
    AnyOf(Vec<Available>),
    /// Not in stock but owned by the same account (rebuy setting applies).
    OwnedBySelf(String),
}

pub(crate) fn create(
    sim: &Simulator,
    p: &Principal,
    acting: &str,
    path_sid: &str,
    kind: Option<NumberType>,
    form: &Params,
) -> Result<Reply, ApiError> {
    let inner = &sim.inner;
    let settings = &inner.settings;
    let now = inner.now();
    let test = matches!(p.kind, PrincipalKind::Test(_));
    let phone = form
        .get("PhoneNumber")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let area = form
        .get("AreaCode")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if kind.is_some() && area.is_some() {
        return Err(ApiError::bad_request(
            21457,
            "AreaCode parameter not supported for this resource",
        ));
    }
    if phone.is_none() && area.is_none() {
        return Err(ApiError::bad_request(
            21450,
            "A PhoneNumber or AreaCode is required",
        ));
    }
    // Test credentials: magic values, validation only, no state change.
    if test {
        let e164 = match (phone, area) {
            (Some("+15005550006"), _) | (None, Some("500")) => "+15005550006".to_string(),
            (Some("+15005550000"), _) => return Err(not_available("+15005550000")),
            (Some("+15005550001"), _) => return Err(invalid_number("+15005550001")),
            (None, Some("533")) => return Err(no_numbers_in("533")),
            (Some(n), _) => {
                check_valid(n)?;
                let st = inner.lock();
                if inner.inventory.lookup(n).is_none() || st.is_taken(n, now) {
                    return Err(not_available(n));
                }
                n.to_string()
            }
            (None, Some(a)) => {
                let first = pick_by_area(sim, a)?.into_iter().next();
                first.ok_or_else(|| no_numbers_in(a))?.phone_number
            }
            (None, None) => {
                return Err(ApiError::bad_request(
                    21450,
                    "A PhoneNumber or AreaCode is required",
                ));
            }
        };
        let mut n = from_available(
            path_sid,
            &e164,
            inner.inventory.lookup(&e164).as_ref(),
            "US",
            now,
        );
        apply_fields(&mut n, form, None)?;
        n.account_sid = path_sid.to_string();
        return Ok(Reply::created(render_as(&n, kind)));
    }

    for _attempt in 0..8 {
        let target = match (phone, area) {
            (Some(e164), _) => {
                check_valid(e164)?;
                match inner.inventory.lookup(e164) {
                    Some(a) => {
                        let npa = e164
                            .strip_prefix("+1")
                            .and_then(|n| n.get(..3))
                            .and_then(|s| s.parse::<u16>().ok());
                        if npa.is_some_and(|npa| settings.empty_area_codes.contains(&npa)) {
                            return Err(not_available(e164));
                        }
                        Target::Number(a)
                    }
                    None => Target::OwnedBySelf(e164.to_string()),
                }
            }
            (None, Some(a)) => Target::AnyOf(pick_by_area(sim, a)?),
            (None, None) => {
                return Err(ApiError::bad_request(
                    21450,
                    "A PhoneNumber or AreaCode is required",
                ));
            }
        };
        let mut st = inner.lock();
        let target = match target {
            Target::AnyOf(list) => match list
                .into_iter()
                .find(|c| !st.is_taken(&c.phone_number, now))
            {
                Some(c) => Target::Number(c),
                None => continue, // every candidate was bought meanwhile: search again
            },
            t => t,
        };
        if let Target::Number(a) = &target {
            if kind.is_some_and(|k| k != a.number_type) {
                return Err(not_available(&a.phone_number));
            }
            if settings
                .bundle_required_countries
                .iter()
                .any(|c| c.eq_ignore_ascii_case(a.iso_country))
                && form.get("BundleSid").is_none_or(str::is_empty)
            {
                return Err(ApiError::bad_request(
                    21649,
                    "Bundle required and not provided",
                ));
            }
        }
        let e164 = match &target {
            Target::Number(a) => a.phone_number.clone(),
            Target::OwnedBySelf(n) => n.clone(),
            Target::AnyOf(_) => continue,
        };
        // Validate the optional fields on a scratch copy before committing anything.
        let mut fresh = match &target {
            Target::Number(a) => from_available(acting, &e164, Some(a), a.iso_country, now),
            Target::OwnedBySelf(n) => new_owned_number(&inner.inventory, acting, n, now),
            Target::AnyOf(_) => continue,
        };
        if let Some(existing) = st.owned_by(acting, &e164).cloned() {
            return match settings.owned_number_rebuy {
                OwnedNumberRebuy::Error21422 => Err(not_available(&e164)),
                OwnedNumberRebuy::ActAsUpdate => {
                    let mut n = existing;
                    apply_fields(&mut n, form, Some(now))?;
                    let body = render_as(&n, kind);
                    st.numbers.insert(n.sid.clone(), n);
                    Ok(Reply::created(body))
                }
            };
        }
        if matches!(target, Target::OwnedBySelf(_)) || st.is_taken(&e164, now) {
            if area.is_some() {
                continue; // lost a race for an area-code pick: choose again
            }
            return Err(not_available(&e164));
        }
        apply_fields(&mut fresh, form, None)?;
        let trial = st
            .accounts
            .get(acting)
            .is_some_and(|a| a.account_type == "Trial");
        if trial
            && settings.trial_single_number
            && st.by_account.get(acting).is_some_and(|s| !s.is_empty())
        {
            return Err(ApiError::bad_request(
                21404,
                "Trial accounts are allowed only one Twilio number",
            ));
        }
        if settings.charge_on_purchase {
            let fee = settings
                .prices_for(&fresh.iso_country)
                .and_then(|c| c.monthly_fee(NumberType::price_type_of(&fresh.number_type)))
                .unwrap_or_default();
            let payer = st.payer_of(acting).map(|a| a.sid.clone());
            if let Some(payer) = payer
                && let Some(acct) = st.accounts.get_mut(&payer)
            {
                acct.balance -= fee;
            }
        }
        let body = render_as(&fresh, kind);
        st.insert_number(fresh, true);
        return Ok(Reply {
            status: 201,
            body: Some(body),
            purchased: true,
        });
    }
    Err(area.map_or_else(|| ApiError::bad_request(21450, "No number"), no_numbers_in))
}

/// Free numbers in a NANP area code (US, then CA): a few, so concurrent purchases in the same area
/// code do not all race for one.
fn pick_by_area(sim: &Simulator, area: &str) -> Result<Vec<Available>, ApiError> {
    let npa = parse_area_code(area)
        .ok_or_else(|| ApiError::bad_request(21451, format!("AreaCode {area} is not valid")))?;
    if sim.inner.settings.empty_area_codes.contains(&npa) {
        return Err(no_numbers_in(area));
    }
    for iso in ["US", "CA"] {
        if !sim.inner.inventory.has_area_code(iso, npa) {
            continue;
        }
        let f = Filter {
            area_code: Some(npa),
            ..Default::default()
        };
        let found = find_free(sim, iso, NumberType::Local, &f, AREA_CODE_CANDIDATES);
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Err(no_numbers_in(area))
}

/// Candidates taken per `AreaCode` purchase attempt.
const AREA_CODE_CANDIDATES: usize = 64;

fn phone_filter(raw: &str) -> Option<regex::Regex> {
    let mut pat = String::new();
    for c in raw.chars() {
        match c {
            '0'..='9' => pat.push(c),
            '*' => pat.push_str("[0-9]"),
            c if c.is_ascii_alphabetic() => pat.push_str(&regex::escape(&c.to_string())),
            _ => {}
        }
    }
    if pat.is_empty() {
        None
    } else {
        regex::Regex::new(&pat).ok()
    }
}

pub(crate) fn list(
    sim: &Simulator,
    acting: &str,
    kind: Option<NumberType>,
    q: &Params,
    path: &str,
) -> Result<Reply, ApiError> {
    let req = PageReq::parse(q)?;
    let phone = q
        .get("PhoneNumber")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let name = q.get("FriendlyName");
    let origin = q.get("Origin").filter(|s| !s.is_empty());
    let exact = phone.filter(|p| is_e164(p));
    let re = if exact.is_none() {
        phone.and_then(phone_filter)
    } else {
        None
    };
    let st = sim.inner.lock();
    let empty = std::collections::BTreeSet::new();
    let sids_all = st.by_account.get(acting).unwrap_or(&empty);
    let keep = |n: &OwnedNumber| {
        kind.is_none_or(|k| n.number_type == k.api_type())
            && name.is_none_or(|f| n.friendly_name == f)
            && origin.is_none_or(|o| n.origin == o)
            && re.as_ref().is_none_or(|r| r.is_match(&n.phone_number[1..]))
    };
    let selected: Vec<&OwnedNumber> = match exact {
        Some(e) => st
            .owned_by(acting, e)
            .into_iter()
            .filter(|n| keep(n))
            .collect(),
        None if phone.is_some() && re.is_none() => Vec::new(),
        None => sids_all
            .iter()
            .filter_map(|s| st.numbers.get(s))
            .filter(|n| keep(n))
            .collect(),
    };
    let sids: Vec<&str> = selected.iter().map(|n| n.sid.as_str()).collect();
    let (range, more, before) = paging::select(&sids, &req)?;
    let page = &selected[range];
    let mut filters = Vec::new();
    for key in ["PhoneNumber", "FriendlyName", "Origin", "Beta"] {
        if let Some(v) = q.get(key) {
            filters.push((key.to_string(), v.to_string()));
        }
    }
    let items = page.iter().map(|n| render_as(n, kind)).collect();
    Ok(Reply::ok(paging::body(
        "incoming_phone_numbers",
        items,
        path,
        &filters,
        &req,
        page.first().map(|n| n.sid.as_str()),
        page.last().map(|n| n.sid.as_str()),
        more,
        before,
    )))
}

pub(crate) fn fetch(
    sim: &Simulator,
    acting: &str,
    sid: &str,
    path: &str,
) -> Result<Reply, ApiError> {
    let st = sim.inner.lock();
    let n = st
        .numbers
        .get(sid)
        .filter(|n| n.account_sid == acting)
        .ok_or_else(|| ApiError::not_found(path))?;
    Ok(Reply::ok(render(n)))
}

pub(crate) fn update(
    sim: &Simulator,
    p: &Principal,
    acting: &str,
    sid: &str,
    form: &Params,
    path: &str,
) -> Result<Reply, ApiError> {
    let now = sim.inner.now();
    let mut st = sim.inner.lock();
    let mut n = st
        .numbers
        .get(sid)
        .filter(|n| n.account_sid == acting)
        .cloned()
        .ok_or_else(|| ApiError::not_found(path))?;
    apply_fields(&mut n, form, Some(now))?;
    let move_to = form
        .get("AccountSid")
        .filter(|s| !s.is_empty() && *s != acting)
        .map(str::to_string);
    if let Some(to) = &move_to {
        let ok = st.accounts.get(to).is_some_and(|t| {
            t.status == "active" && (t.sid == p.account_sid || t.owner_sid == p.account_sid)
        });
        if !ok {
            return Err(ApiError::bad_request(
                20001,
                format!("AccountSid {to} is not an account you may move this number to"),
            ));
        }
    }
    st.numbers.insert(n.sid.clone(), n);
    if let Some(to) = move_to {
        st.move_number(sid, &to);
    }
    let n = st
        .numbers
        .get(sid)
        .ok_or_else(|| ApiError::not_found(path))?;
    Ok(Reply::ok(render(n)))
}

pub(crate) fn delete(
    sim: &Simulator,
    acting: &str,
    sid: &str,
    path: &str,
) -> Result<Reply, ApiError> {
    let until = sim.inner.quarantine_until();
    let mut st = sim.inner.lock();
    if st.numbers.get(sid).is_none_or(|n| n.account_sid != acting) {
        return Err(ApiError::not_found(path));
    }
    st.release(sid, until);
    Ok(Reply::no_content())
}
