//! AvailablePhoneNumbers: country list, one country, and searches by type with Twilio's filters,
//! capped at `search_cap`, excluding owned and quarantined numbers.

use super::{Params, Reply};
use crate::config::SearchOrder;
use crate::error::ApiError;
use crate::inventory::{Available, Filter, NumberType, compile_contains};
use crate::sim::Simulator;
use serde_json::{Value, json};

/// How many stock numbers a search may examine (bounds the cost of rare `Contains` patterns).
const MAX_SCAN: usize = 250_000;

/// A NANP area code: 3 digits, first 2-9, not N11.
pub(crate) fn parse_area_code(s: &str) -> Option<u16> {
    let s = s.trim();
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u16 = s.parse().ok()?;
    (n >= 200 && n % 100 != 11).then_some(n)
}

/// Up to `limit` numbers matching the filter that nobody owns and that are not quarantined.
pub(crate) fn find_free(
    sim: &Simulator,
    iso: &str,
    kind: NumberType,
    f: &Filter,
    limit: usize,
) -> Vec<Available> {
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    let now = sim.inner.now();
    let start = match sim.inner.settings.search_order {
        SearchOrder::Fixed => 0,
        SearchOrder::Rotating => {
            let mut rng = sim.inner.rng.lock().unwrap_or_else(|p| p.into_inner());
            rand::Rng::random::<u64>(&mut *rng)
        }
    };
    sim.inner
        .inventory
        .walk(iso, kind, f, MAX_SCAN, start, |batch| {
            let empty = &sim.inner.settings.empty_area_codes;
            let st = sim.inner.lock();
            for a in batch {
                let npa = a
                    .phone_number
                    .strip_prefix("+1")
                    .and_then(|n| n.get(..3))
                    .and_then(|s| s.parse::<u16>().ok());
                if npa.is_some_and(|n| empty.contains(&n)) {
                    continue;
                }
                if !st.is_taken(&a.phone_number, now) {
                    out.push(a);
                    if out.len() >= limit {
                        return false;
                    }
                }
            }
            true
        });
    out
}

fn country_json(acting: &str, iso: &str, name: &str, types: &[NumberType]) -> Value {
    let base = format!("/2010-04-01/Accounts/{acting}/AvailablePhoneNumbers/{iso}");
    let mut subs = serde_json::Map::new();
    for t in types {
        let key = match t {
            NumberType::Local => "local",
            NumberType::TollFree => "toll_free",
            NumberType::Mobile => "mobile",
        };
        subs.insert(key.into(), json!(format!("{base}/{}.json", t.path_name())));
    }
    json!({"country_code": iso, "country": name, "uri": format!("{base}.json"), "beta": false, "subresource_uris": subs})
}

pub(crate) fn countries(sim: &Simulator, acting: &str) -> Result<Reply, ApiError> {
    let list: Vec<Value> = sim
        .inner
        .inventory
        .countries()
        .iter()
        .map(|(iso, name, types)| country_json(acting, iso, name, types))
        .collect();
    Ok(Reply::ok(
        json!({"countries": list, "uri": format!("/2010-04-01/Accounts/{acting}/AvailablePhoneNumbers.json")}),
    ))
}

pub(crate) fn country(
    sim: &Simulator,
    acting: &str,
    iso: &str,
    path: &str,
) -> Result<Reply, ApiError> {
    let iso = iso.to_ascii_uppercase();
    let found = sim
        .inner
        .inventory
        .countries()
        .into_iter()
        .find(|(i, _, _)| *i == iso);
    let (i, name, types) = found.ok_or_else(|| ApiError::not_found(path))?;
    Ok(Reply::ok(country_json(acting, i, name, &types)))
}

fn item(a: &Available) -> Value {
    let friendly = crate::util::friendly_number(&a.phone_number);
    json!({
        "friendly_name": friendly,
        "phone_number": a.phone_number,
        "lata": a.lata,
        "rate_center": a.rate_center,
        "latitude": a.latitude,
        "longitude": a.longitude,
        "locality": a.locality,
        "region": a.region,
        "postal_code": a.postal_code,
        "iso_country": a.iso_country,
        "address_requirements": a.address_requirements,
        "beta": false,
        "capabilities": {"voice": a.voice, "SMS": a.sms, "MMS": a.mms},
    })
}

/// Parses the search filters; `Ok(None)` when they can match nothing.
fn filter(sim: &Simulator, q: &Params, iso: &str) -> Result<Option<Filter>, ApiError> {
    let mut f = Filter::default();
    if let Some(ac) = q.get("AreaCode").filter(|s| !s.is_empty()) {
        let n = parse_area_code(ac)
            .ok_or_else(|| ApiError::bad_request(21451, format!("AreaCode {ac} is not valid")))?;
        if sim.inner.settings.empty_area_codes.contains(&n) {
            return Ok(None);
        }
        f.area_code = Some(n);
    }
    if let Some(c) = q.get("Contains").filter(|s| !s.is_empty()) {
        f.contains = Some(compile_contains(c).ok_or_else(|| {
            ApiError::bad_request(20001, format!("Invalid Contains pattern '{c}'"))
        })?);
    }
    f.voice = q.bool("VoiceEnabled")?.unwrap_or(false);
    f.sms = q.bool("SmsEnabled")?.unwrap_or(false);
    f.mms = q.bool("MmsEnabled")?.unwrap_or(false);
    if q.bool("FaxEnabled")?.unwrap_or(false) {
        return Ok(None);
    }
    f.exclude_address_required = q.bool("ExcludeAllAddressRequired")?.unwrap_or(false)
        || q.bool("ExcludeLocalAddressRequired")?.unwrap_or(false)
        || q.bool("ExcludeForeignAddressRequired")?.unwrap_or(false);
    // A phone number given instead of a value means "the same as this number's".
    let same_as = |v: &str| -> Option<Available> {
        if v.starts_with('+') {
            sim.inner.inventory.lookup(v)
        } else {
            None
        }
    };
    let text = |key: &str| {
        q.get(key)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    f.in_region = text("InRegion").map(|v| {
        same_as(&v)
            .and_then(|a| a.region.map(str::to_string))
            .unwrap_or(v)
    });
    f.in_locality = text("InLocality").map(|v| {
        same_as(&v)
            .and_then(|a| a.locality.map(str::to_string))
            .unwrap_or(v)
    });
    f.in_postal_code = text("InPostalCode").map(|v| {
        same_as(&v)
            .and_then(|a| a.postal_code.map(str::to_string))
            .unwrap_or(v)
    });
    if let Some(near) = text("NearNumber") {
        // Approximation of Twilio's distance search: the same area code (NANP only).
        let npa = near
            .strip_prefix("+1")
            .or_else(|| (near.len() == 10).then_some(near.as_str()))
            .and_then(|n| n.get(..3))
            .and_then(parse_area_code);
        match npa {
            Some(n) if iso == "US" || iso == "CA" => f.near_area_code = Some(n),
            _ => return Ok(None),
        }
    }
    Ok(Some(f))
}

pub(crate) fn search(
    sim: &Simulator,
    acting: &str,
    iso: &str,
    kind: NumberType,
    q: &Params,
    path: &str,
) -> Result<Reply, ApiError> {
    let iso_up = iso.to_ascii_uppercase();
    if !sim
        .inner
        .inventory
        .countries()
        .iter()
        .any(|(i, _, _)| *i == iso_up)
        || !sim.inner.inventory.offers(&iso_up, kind)
    {
        return Err(ApiError::not_found(path));
    }
    let cap = match q
        .get("PageSize")
        .and_then(|s| s.trim().parse::<usize>().ok())
    {
        Some(n) if n > 0 => n.min(sim.inner.settings.search_cap),
        _ => sim.inner.settings.search_cap,
    };
    let found = match filter(sim, q, &iso_up)? {
        Some(f) => find_free(sim, &iso_up, kind, &f, cap),
        None => Vec::new(),
    };
    let items: Vec<Value> = found.iter().map(item).collect();
    Ok(Reply::ok(json!({
        "available_phone_numbers": items,
        "uri": format!("/2010-04-01/Accounts/{acting}/AvailablePhoneNumbers/{iso_up}/{}.json", kind.path_name()),
    })))
}
