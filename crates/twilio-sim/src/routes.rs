//! Routing of Twilio API paths (both hosts on one listener) to [`Route`] values, with the route
//! templates used as counter names.

use crate::inventory::NumberType;
use axum::http::Method;

/// Route templates, indexed by [`Route::index`]. Counter names.
pub const ROUTE_TEMPLATES: &[&str] = &[
    "GET /2010-04-01/Accounts.json",
    "POST /2010-04-01/Accounts.json",
    "GET /2010-04-01/Accounts/{Sid}.json",
    "POST /2010-04-01/Accounts/{Sid}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/Balance.json",
    "GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers.json",
    "GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}.json",
    "GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json",
    "GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/TollFree.json",
    "GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Mobile.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/Local.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/TollFree.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/Mobile.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/Local.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/TollFree.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/Mobile.json",
    "GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
    "POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
    "DELETE /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
    "GET /v1/PhoneNumbers/Countries",
    "GET /v1/PhoneNumbers/Countries/{IsoCountry}",
    "GET /v2/Voice/Countries",
    "GET /v2/Voice/Countries/{IsoCountry}",
    "GET /v2/Voice/Numbers/{DestinationNumber}",
];

/// A recognised Twilio API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    AccountsList,
    AccountsCreate,
    AccountFetch(String),
    AccountUpdate(String),
    Balance(String),
    AvailableCountries(String),
    AvailableCountry(String, String),
    AvailableSearch(String, String, NumberType),
    NumbersList(String, Option<NumberType>),
    NumbersCreate(String, Option<NumberType>),
    NumberFetch(String, String),
    NumberUpdate(String, String),
    NumberDelete(String, String),
    PricingNumberCountries,
    PricingNumberCountry(String),
    PricingVoiceCountries,
    PricingVoiceCountry(String),
    PricingVoiceNumber(String),
}

fn typed_index(t: Option<NumberType>) -> usize {
    match t {
        None => 0,
        Some(NumberType::Local) => 1,
        Some(NumberType::TollFree) => 2,
        Some(NumberType::Mobile) => 3,
    }
}

impl Route {
    /// Index into [`ROUTE_TEMPLATES`].
    pub fn index(&self) -> usize {
        match self {
            Route::AccountsList => 0,
            Route::AccountsCreate => 1,
            Route::AccountFetch(_) => 2,
            Route::AccountUpdate(_) => 3,
            Route::Balance(_) => 4,
            Route::AvailableCountries(_) => 5,
            Route::AvailableCountry(..) => 6,
            Route::AvailableSearch(_, _, t) => 6 + typed_index(Some(*t)),
            Route::NumbersList(_, t) => 10 + typed_index(*t),
            Route::NumbersCreate(_, t) => 14 + typed_index(*t),
            Route::NumberFetch(..) => 18,
            Route::NumberUpdate(..) => 19,
            Route::NumberDelete(..) => 20,
            Route::PricingNumberCountries => 21,
            Route::PricingNumberCountry(_) => 22,
            Route::PricingVoiceCountries => 23,
            Route::PricingVoiceCountry(_) => 24,
            Route::PricingVoiceNumber(_) => 25,
        }
    }

    /// The account SID in the path, if the route has one.
    pub fn path_account(&self) -> Option<&str> {
        match self {
            Route::AccountFetch(s)
            | Route::AccountUpdate(s)
            | Route::Balance(s)
            | Route::AvailableCountries(s)
            | Route::AvailableCountry(s, _)
            | Route::AvailableSearch(s, _, _)
            | Route::NumbersList(s, _)
            | Route::NumbersCreate(s, _)
            | Route::NumberFetch(s, _)
            | Route::NumberUpdate(s, _)
            | Route::NumberDelete(s, _) => Some(s),
            _ => None,
        }
    }

    /// Whether the route is a v2010 `/Accounts` resource (not allowed for Standard keys).
    pub fn is_accounts_resource(&self) -> bool {
        matches!(
            self,
            Route::AccountsList
                | Route::AccountsCreate
                | Route::AccountFetch(_)
                | Route::AccountUpdate(_)
        )
    }
}

fn typed(name: &str) -> Option<Option<NumberType>> {
    match name {
        "Local.json" => Some(Some(NumberType::Local)),
        "TollFree.json" => Some(Some(NumberType::TollFree)),
        "Mobile.json" => Some(Some(NumberType::Mobile)),
        _ => None,
    }
}

fn json_stem(seg: &str) -> Option<&str> {
    seg.strip_suffix(".json").filter(|s| !s.is_empty())
}

/// Parses a method and path into a route; `None` for anything the simulator does not serve.
pub fn parse(method: &Method, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let get = method == Method::GET;
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    match segs.as_slice() {
        ["2010-04-01", "Accounts.json"] if get => Some(Route::AccountsList),
        ["2010-04-01", "Accounts.json"] if post => Some(Route::AccountsCreate),
        ["2010-04-01", "Accounts", acct] => {
            let sid = json_stem(acct)?.to_string();
            if get {
                Some(Route::AccountFetch(sid))
            } else if post {
                Some(Route::AccountUpdate(sid))
            } else {
                None
            }
        }
        ["2010-04-01", "Accounts", acct, "Balance.json"] if get => {
            Some(Route::Balance(acct.to_string()))
        }
        ["2010-04-01", "Accounts", acct, "AvailablePhoneNumbers.json"] if get => {
            Some(Route::AvailableCountries(acct.to_string()))
        }
        [
            "2010-04-01",
            "Accounts",
            acct,
            "AvailablePhoneNumbers",
            country,
        ] if get => Some(Route::AvailableCountry(
            acct.to_string(),
            json_stem(country)?.to_string(),
        )),
        [
            "2010-04-01",
            "Accounts",
            acct,
            "AvailablePhoneNumbers",
            country,
            kind,
        ] if get => {
            let t = typed(kind)??;
            Some(Route::AvailableSearch(
                acct.to_string(),
                country.to_string(),
                t,
            ))
        }
        ["2010-04-01", "Accounts", acct, "IncomingPhoneNumbers.json"] => {
            if get {
                Some(Route::NumbersList(acct.to_string(), None))
            } else if post {
                Some(Route::NumbersCreate(acct.to_string(), None))
            } else {
                None
            }
        }
        ["2010-04-01", "Accounts", acct, "IncomingPhoneNumbers", last] => {
            if let Some(t) = typed(last) {
                return if get {
                    Some(Route::NumbersList(acct.to_string(), t))
                } else if post {
                    Some(Route::NumbersCreate(acct.to_string(), t))
                } else {
                    None
                };
            }
            let sid = json_stem(last)?.to_string();
            let acct = acct.to_string();
            if get {
                Some(Route::NumberFetch(acct, sid))
            } else if post {
                Some(Route::NumberUpdate(acct, sid))
            } else if delete {
                Some(Route::NumberDelete(acct, sid))
            } else {
                None
            }
        }
        ["v1", "PhoneNumbers", "Countries"] if get => Some(Route::PricingNumberCountries),
        ["v1", "PhoneNumbers", "Countries", iso] if get => {
            Some(Route::PricingNumberCountry(iso.to_string()))
        }
        ["v2", "Voice", "Countries"] if get => Some(Route::PricingVoiceCountries),
        ["v2", "Voice", "Countries", iso] if get => {
            Some(Route::PricingVoiceCountry(iso.to_string()))
        }
        ["v2", "Voice", "Numbers", dest] if get => {
            Some(Route::PricingVoiceNumber(dest.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_indexes() {
        let acct = "ACx";
        let cases = [
            (Method::GET, "/2010-04-01/Accounts.json".to_string()),
            (Method::POST, "/2010-04-01/Accounts.json".to_string()),
            (Method::GET, format!("/2010-04-01/Accounts/{acct}.json")),
            (Method::POST, format!("/2010-04-01/Accounts/{acct}.json")),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/Balance.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/AvailablePhoneNumbers.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/AvailablePhoneNumbers/US.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/AvailablePhoneNumbers/US/Local.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/AvailablePhoneNumbers/US/TollFree.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/AvailablePhoneNumbers/US/Mobile.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/Local.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/TollFree.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/Mobile.json"),
            ),
            (
                Method::POST,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers.json"),
            ),
            (
                Method::POST,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/Local.json"),
            ),
            (
                Method::POST,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/TollFree.json"),
            ),
            (
                Method::POST,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/Mobile.json"),
            ),
            (
                Method::GET,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/PNx.json"),
            ),
            (
                Method::POST,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/PNx.json"),
            ),
            (
                Method::DELETE,
                format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/PNx.json"),
            ),
            (Method::GET, "/v1/PhoneNumbers/Countries".to_string()),
            (Method::GET, "/v1/PhoneNumbers/Countries/US".to_string()),
            (Method::GET, "/v2/Voice/Countries".to_string()),
            (Method::GET, "/v2/Voice/Countries/US".to_string()),
            (Method::GET, "/v2/Voice/Numbers/+14155550100".to_string()),
        ];
        assert_eq!(cases.len(), ROUTE_TEMPLATES.len());
        for (i, (m, p)) in cases.iter().enumerate() {
            let r = parse(m, p).unwrap_or_else(|| panic!("{m} {p}"));
            assert_eq!(r.index(), i, "{m} {p}");
            assert!(ROUTE_TEMPLATES[i].starts_with(m.as_str()));
        }
        assert_eq!(parse(&Method::GET, "/2010-04-01/Accounts/ACx"), None);
        assert_eq!(parse(&Method::DELETE, "/2010-04-01/Accounts.json"), None);
    }
}
