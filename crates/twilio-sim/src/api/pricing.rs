//! Pricing v1 (phone-number monthly fees by country) and v2 (voice per-minute by country and by
//! number), from the price table in the settings. URLs are absolute on `pricing.twilio.com`.

use super::{Params, Reply};
use crate::config::CountryPrices;
use crate::error::ApiError;
use crate::sim::Simulator;
use serde_json::{Value, json};

const HOST: &str = "https://pricing.twilio.com";

fn country<'a>(sim: &'a Simulator, iso: &str, path: &str) -> Result<&'a CountryPrices, ApiError> {
    sim.inner
        .settings
        .prices_for(iso)
        .ok_or_else(|| ApiError::not_found(path))
}

/// `meta`-paged list (offset paging by `Page`; tokens accepted and ignored).
fn meta_list(path: &str, items: Vec<Value>, q: &Params) -> Result<Reply, ApiError> {
    let size = match q.get("PageSize") {
        None => 50,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    20007,
                    "PageSize must be between 1 and 1000",
                ));
            }
        },
    };
    let page: usize = q
        .get("Page")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0);
    let start = (page * size).min(items.len());
    let end = (start + size).min(items.len());
    let url = |p: usize| format!("{HOST}{path}?PageSize={size}&Page={p}");
    let next = if end < items.len() {
        json!(url(page + 1))
    } else {
        Value::Null
    };
    let prev = if page > 0 {
        json!(url(page - 1))
    } else {
        Value::Null
    };
    let slice: Vec<Value> = items[start..end].to_vec();
    Ok(Reply::ok(json!({
        "countries": slice,
        "meta": {"first_page_url": url(0), "key": "countries", "next_page_url": next, "page": page,
                 "page_size": size, "previous_page_url": prev, "url": url(page)},
    })))
}

pub(crate) fn number_countries(sim: &Simulator, q: &Params) -> Result<Reply, ApiError> {
    let items = sim
        .inner
        .settings
        .prices
        .iter()
        .map(|c| json!({"country": c.country, "iso_country": c.iso_country, "url": format!("{HOST}/v1/PhoneNumbers/Countries/{}", c.iso_country)}))
        .collect();
    meta_list("/v1/PhoneNumbers/Countries", items, q)
}

pub(crate) fn number_country(sim: &Simulator, iso: &str, path: &str) -> Result<Reply, ApiError> {
    let c = country(sim, iso, path)?;
    let prices: Vec<Value> = c
        .monthly
        .iter()
        .map(|(t, p)| json!({"number_type": t, "base_price": p.to_string(), "current_price": p.to_string()}))
        .collect();
    Ok(Reply::ok(json!({
        "country": c.country, "iso_country": c.iso_country, "phone_number_prices": prices,
        "price_unit": c.price_unit, "url": format!("{HOST}/v1/PhoneNumbers/Countries/{}", c.iso_country),
    })))
}

pub(crate) fn voice_countries(sim: &Simulator, q: &Params) -> Result<Reply, ApiError> {
    let items = sim
        .inner
        .settings
        .prices
        .iter()
        .map(|c| json!({"country": c.country, "iso_country": c.iso_country, "url": format!("{HOST}/v2/Voice/Countries/{}", c.iso_country)}))
        .collect();
    meta_list("/v2/Voice/Countries", items, q)
}

pub(crate) fn voice_country(sim: &Simulator, iso: &str, path: &str) -> Result<Reply, ApiError> {
    let c = country(sim, iso, path)?;
    let inbound: Vec<Value> = c
        .inbound_per_minute
        .iter()
        .map(|(t, p)| json!({"number_type": t, "base_price": p.to_string(), "current_price": p.to_string()}))
        .collect();
    let outbound: Vec<Value> = c
        .outbound
        .iter()
        .map(|(pre, name, p)| {
            json!({"origination_prefixes": ["ALL"], "destination_prefixes": pre, "friendly_name": name,
                   "base_price": p.to_string(), "current_price": p.to_string()})
        })
        .collect();
    Ok(Reply::ok(json!({
        "country": c.country, "iso_country": c.iso_country, "inbound_call_prices": inbound,
        "outbound_prefix_prices": outbound, "price_unit": c.price_unit,
        "url": format!("{HOST}/v2/Voice/Countries/{}", c.iso_country),
    })))
}

pub(crate) fn voice_number(
    sim: &Simulator,
    acting: &str,
    dest: &str,
    q: &Params,
    path: &str,
) -> Result<Reply, ApiError> {
    let dest = dest.replace("%2B", "+").replace("%2b", "+");
    if !crate::util::is_e164(&dest) {
        return Err(ApiError::bad_request(
            21421,
            format!("DestinationNumber {dest} is invalid"),
        ));
    }
    let origination = q.get("OriginationNumber").filter(|s| !s.is_empty());
    if let Some(o) = origination
        && !crate::util::is_e164(o)
    {
        return Err(ApiError::bad_request(
            21421,
            format!("OriginationNumber {o} is invalid"),
        ));
    }
    let iso = sim
        .inner
        .inventory
        .country_of(&dest)
        .ok_or_else(|| ApiError::not_found(path))?;
    let c = country(sim, iso, path)?;
    let digits = &dest[1..];
    let best = c
        .outbound
        .iter()
        .flat_map(|(pre, _, p)| pre.iter().map(move |x| (x, p)))
        .filter(|(x, _)| digits.starts_with(x.as_str()))
        .max_by_key(|(x, _)| x.len())
        .map(|(_, p)| *p);
    let outbound: Vec<Value> = best
        .map(|p| vec![json!({"origination_prefixes": ["ALL"], "base_price": p.to_string(), "current_price": p.to_string()})])
        .unwrap_or_default();
    // Inbound price only when the destination is one of the caller's numbers.
    let owned_type = {
        let st = sim.inner.lock();
        st.owned_by(acting, &dest).map(|n| n.number_type.clone())
    };
    let inbound = match owned_type {
        Some(t) => {
            let key = crate::inventory::NumberType::price_type_of(&t);
            let price = c
                .inbound_per_minute
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, p)| p.to_string());
            json!({"number_type": key, "base_price": price, "current_price": price})
        }
        None => json!({"number_type": null, "base_price": null, "current_price": null}),
    };
    Ok(Reply::ok(json!({
        "country": c.country, "destination_number": dest, "inbound_call_price": inbound, "iso_country": c.iso_country,
        "origination_number": origination, "outbound_call_prices": outbound, "price_unit": c.price_unit,
        "url": format!("{HOST}/v2/Voice/Numbers/{dest}"),
    })))
}
