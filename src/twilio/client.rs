//! `TwilioClient` (shared transport, limits, stats) and `AccountApi` (the typed calls for one
//! account). Each call builds a path, encodes parameters and hands it to the transport.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::config::{
    DEFAULT_API_HOST, DEFAULT_PRICING_HOST, Routing, TwilioClientConfig, routed_base,
};
use super::limits::Limiters;
use super::paths::{build_url, page_url, seg};
use super::pricing::{
    NumberPrices, VoiceNumberPrice, VoiceNumberPriceWire, VoicePrices, VoicePricesWire,
};
use super::secret::Credentials;
use super::transport::{Kind, Policy, Request, Stats, Transport};
use super::{
    Account, AvailableNumber, Balance, IncomingFilter, IncomingNumber, NumberConfig,
    PurchaseRequest, SearchQuery,
};
use super::{ErrorClass, TwilioError};

/// Request counters, for benchmarks and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (attempts, retries included), by operation.
    pub requests: BTreeMap<&'static str, u64>,
    /// Total HTTP requests sent.
    pub total_requests: u64,
    /// Retries (attempts after the first).
    pub retries: u64,
    /// 429 responses received.
    pub throttled: u64,
    /// Failures returned as outcome-unknown.
    pub outcome_unknown: u64,
}

impl ClientStats {
    /// Requests sent for one operation.
    pub fn requests_for(&self, operation: &str) -> u64 {
        self.requests.get(operation).copied().unwrap_or(0)
    }
}

struct Inner {
    config: TwilioClientConfig,
    transport: Transport,
}

/// Twilio REST client: cheap to clone, shared by all accounts. Holds the HTTP client and the
/// per-account limiters (keyed by the account SID acted on: the SID in v2010 paths, the
/// credentials' account for Pricing and `/Accounts.json`).
#[derive(Clone)]
pub struct TwilioClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioClient")
            .field("api_base", &self.inner.config.api_base.as_str())
            .field("pricing_base", &self.inner.config.pricing_base.as_str())
            .finish_non_exhaustive()
    }
}

impl TwilioClient {
    /// Builds a client.
    pub fn new(config: TwilioClientConfig) -> Result<Self, TwilioError> {
        // reqwest is built without a crypto provider of its own: make sure the process has one.
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)))
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                TwilioError::new(
                    ErrorClass::Permanent,
                    "new_client",
                    format!("building the HTTP client: {e}"),
                )
            })?;
        let transport = Transport {
            http,
            limiters: Limiters::new(
                config.per_account_concurrency,
                config.per_account_rate_per_sec,
            ),
            stats: Stats::default(),
            observer: std::sync::RwLock::new(None),
            policy: Policy {
                max_retries: config.max_retries,
                backoff_base: config.backoff_base,
                backoff_cap: config.backoff_cap,
            },
        };
        Ok(TwilioClient {
            inner: Arc::new(Inner { config, transport }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TwilioClientConfig {
        &self.inner.config
    }

    /// API for the credentials' own account. Region/edge select the host when the base URL is
    /// Twilio's default (notes §1); a custom base URL is kept as is.
    pub fn account(&self, creds: &Credentials, routing: &Routing) -> AccountApi {
        self.subaccount(creds, creds.account_sid(), routing)
    }

    /// v2010 calls on a subaccount with the parent's credentials (subaccount SID in the path).
    /// Pricing calls act for the credentials' owner.
    pub fn subaccount(
        &self,
        parent: &Credentials,
        sub_account_sid: &str,
        routing: &Routing,
    ) -> AccountApi {
        let cfg = &self.inner.config;
        AccountApi {
            client: self.clone(),
            creds: parent.clone(),
            account_sid: sub_account_sid.to_owned(),
            api_base: routed_base(&cfg.api_base, DEFAULT_API_HOST, routing),
            pricing_base: routed_base(&cfg.pricing_base, DEFAULT_PRICING_HOST, routing),
        }
    }

    /// Reports every completed HTTP attempt to `observer` (operation, status code or None when no
    /// answer arrived, latency), replacing any observer set before. For metrics.
    pub fn observe_requests(
        &self,
        observer: impl Fn(&'static str, Option<u16>, std::time::Duration) + Send + Sync + 'static,
    ) {
        let observer: super::transport::Observer = Arc::new(observer);
        match self.inner.transport.observer.write() {
            Ok(mut o) => *o = Some(observer),
            Err(p) => *p.into_inner() = Some(observer),
        }
    }

    /// Counters since the client was built.
    pub fn stats(&self) -> ClientStats {
        self.inner.transport.stats.snapshot()
    }
}

/// The typed calls for one account (the SID in v2010 paths).
#[derive(Clone)]
pub struct AccountApi {
    client: TwilioClient,
    creds: Credentials,
    account_sid: String,
    api_base: Url,
    pricing_base: Url,
}

impl fmt::Debug for AccountApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountApi")
            .field("account_sid", &self.account_sid)
            .field("credentials_account", &self.creds.account_sid())
            .field("api_base", &self.api_base.as_str())
            .field("pricing_base", &self.pricing_base.as_str())
            .finish_non_exhaustive()
    }
}

/// Pages followed at most by one list call (1000 × 1000 items).
const MAX_PAGES: usize = 1000;
/// Default page size of inventory sweeps (Twilio's maximum).
const DEFAULT_PAGE_SIZE: u32 = 1000;

fn bool_str(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

fn decode<T: DeserializeOwned>(
    op: &'static str,
    kind: Kind,
    body: &[u8],
) -> Result<T, TwilioError> {
    serde_json::from_slice(body).map_err(|e| {
        // A create answered 2xx but unreadable did happen: the caller must look it up.
        let class = match kind {
            Kind::Create => ErrorClass::OutcomeUnknown,
            Kind::Idempotent => ErrorClass::Permanent,
        };
        TwilioError::new(class, op, format!("unreadable response: {e}"))
    })
}

/// One page of a list: the items under the list's key and `next_page_uri` (a string; anything
/// else ends the list).
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// Reads a page straight from the body into `T`s, skipping every other field: a page of 1000
/// numbers is never held as a JSON tree (a `serde_json::Value` per field) on the way. A missing
/// or `null` array is an empty page. Errors as before: a body that is not JSON or no object is
/// an unreadable response, an array of the wrong shape names its key.
fn decode_page<T: DeserializeOwned>(
    op: &'static str,
    key: &str,
    body: &[u8],
) -> Result<Page<T>, TwilioError> {
    let items_error = std::cell::RefCell::new(None);
    let seed = PageSeed::<T> {
        key,
        items_error: &items_error,
        item: std::marker::PhantomData,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let page = serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|p| {
        de.end()?;
        Ok(p)
    });
    // A body cut short or not JSON is unreadable as a whole, even inside the array.
    page.map_err(|e| match items_error.into_inner().filter(|_| e.is_data()) {
        Some(items) => TwilioError::new(
            ErrorClass::Permanent,
            op,
            format!("unreadable `{key}` in response: {items}"),
        ),
        None => TwilioError::new(
            ErrorClass::Permanent,
            op,
            format!("unreadable response: {e}"),
        ),
    })
}

struct PageSeed<'a, T> {
    key: &'a str,
    /// Set when the array itself could not be read (its message, for the error).
    items_error: &'a std::cell::RefCell<Option<String>>,
    item: std::marker::PhantomData<T>,
}

impl<'de, T: DeserializeOwned> serde::de::DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Page<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> serde::de::Visitor<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a page of a list (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        let mut page = Page {
            items: Vec::new(),
            next: None,
        };
        while let Some(field) = map.next_key::<String>()? {
            if field == self.key {
                match map.next_value::<Option<Vec<T>>>() {
                    Ok(items) => page.items = items.unwrap_or_default(),
                    Err(e) => {
                        *self.items_error.borrow_mut() = Some(e.to_string());
                        return Err(e);
                    }
                }
            } else if field == "next_page_uri" {
                page.next = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) => Some(s),
                    _ => None,
                };
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(page)
    }
}

impl AccountApi {
    /// The account acted on (the SID in v2010 paths).
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    fn v2010(&self, path: &str, query: &[(&str, String)]) -> Url {
        build_url(&self.api_base, &format!("/2010-04-01{path}"), query)
    }

    fn acct_path(&self) -> String {
        format!("/Accounts/{}", seg(&self.account_sid))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        form: Vec<(&'static str, String)>,
        kind: Kind,
        limit_key: &str,
    ) -> Result<T, TwilioError> {
        let req = Request {
            operation,
            method,
            url,
            form,
            kind,
            limit_key,
        };
        let (_, body) = self.client.inner.transport.send(&self.creds, &req).await?;
        decode(operation, kind, &body)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        limit_key: &str,
    ) -> Result<T, TwilioError> {
        self.call(
            operation,
            Method::GET,
            url,
            Vec::new(),
            Kind::Idempotent,
            limit_key,
        )
        .await
    }

    /// GETs `first` and every `next_page_uri` after it, collecting the array under `key`.
    async fn list_all<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        first: Url,
        key: &str,
        limit_key: &str,
    ) -> Result<Vec<T>, TwilioError> {
        let mut out = Vec::new();
        self.list_pages(operation, first, key, limit_key, |items| out.extend(items))
            .await?;
        Ok(out)
    }

    /// GETs `first` and every `next_page_uri` after it, handing the array under `key` of each
    /// page to `each` as it arrives.
    async fn list_pages<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        first: Url,
        key: &str,
        limit_key: &str,
        mut each: impl FnMut(Vec<T>),
    ) -> Result<(), TwilioError> {
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let req = Request {
                operation,
                method: Method::GET,
                url: url.clone(),
                form: Vec::new(),
                kind: Kind::Idempotent,
                limit_key,
            };
            let (_, body) = self.client.inner.transport.send(&self.creds, &req).await?;
            let page = decode_page::<T>(operation, key, &body)?;
            drop(body);
            each(page.items);
            let next = match page.next {
                Some(s) if !s.is_empty() => s,
                _ => return Ok(()),
            };
            let next_url = page_url(&self.api_base, &next).ok_or_else(|| {
                TwilioError::new(
                    ErrorClass::Permanent,
                    operation,
                    format!("unusable next_page_uri `{next}`"),
                )
            })?;
            if next_url == url {
                return Err(TwilioError::new(
                    ErrorClass::Permanent,
                    operation,
                    "next_page_uri repeats the current page",
                ));
            }
            url = next_url;
        }
        Err(TwilioError::new(
            ErrorClass::Permanent,
            operation,
            format!("more than {MAX_PAGES} pages"),
        ))
    }

    /// `GET /Accounts/{Sid}.json`.
    pub async fn fetch_account(&self) -> Result<Account, TwilioError> {
        let url = self.v2010(&format!("{}.json", self.acct_path()), &[]);
        self.get("fetch_account", url, &self.account_sid).await
    }

    /// `POST /Accounts.json` (acts for the credentials' account). Not idempotent: a failure after
    /// the request may have been sent → `OutcomeUnknown` (look it up with [`Self::list_accounts`]).
    pub async fn create_subaccount(&self, friendly_name: &str) -> Result<Account, TwilioError> {
        let url = self.v2010("/Accounts.json", &[]);
        let form = vec![("FriendlyName", friendly_name.to_owned())];
        let owner = self.creds.account_sid().to_owned();
        self.call(
            "create_subaccount",
            Method::POST,
            url,
            form,
            Kind::Create,
            &owner,
        )
        .await
    }

    /// `GET /Accounts.json` (all pages; `FriendlyName` matches exactly).
    pub async fn list_accounts(
        &self,
        friendly_name: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<Account>, TwilioError> {
        let mut q = Vec::new();
        if let Some(f) = friendly_name {
            q.push(("FriendlyName", f.to_owned()));
        }
        if let Some(s) = status {
            q.push(("Status", s.to_owned()));
        }
        q.push(("PageSize", DEFAULT_PAGE_SIZE.to_string()));
        let url = self.v2010("/Accounts.json", &q);
        let owner = self.creds.account_sid().to_owned();
        self.list_all("list_accounts", url, "accounts", &owner)
            .await
    }

    /// `POST /Accounts/{sid}.json` with `Status=closed` (irreversible; Twilio releases its numbers).
    pub async fn close_subaccount(&self, sid: &str) -> Result<Account, TwilioError> {
        let url = self.v2010(&format!("/Accounts/{}.json", seg(sid)), &[]);
        let form = vec![("Status", "closed".to_owned())];
        let owner = self.creds.account_sid().to_owned();
        self.call(
            "close_subaccount",
            Method::POST,
            url,
            form,
            Kind::Idempotent,
            &owner,
        )
        .await
    }

    /// `GET /Accounts/{Sid}/Balance.json`.
    pub async fn balance(&self) -> Result<Balance, TwilioError> {
        let url = self.v2010(&format!("{}/Balance.json", self.acct_path()), &[]);
        self.get("balance", url, &self.account_sid).await
    }

    /// `GET /Accounts/{Sid}/AvailablePhoneNumbers/{Country}/{Type}.json`.
    pub async fn search_available(
        &self,
        q: &SearchQuery,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(a) = q.area_code {
            query.push(("AreaCode", a.to_string()));
        }
        let strings = [
            ("Contains", &q.contains),
            ("InRegion", &q.in_region),
            ("InLocality", &q.in_locality),
            ("InPostalCode", &q.in_postal_code),
            ("NearNumber", &q.near_number),
        ];
        for (k, v) in strings {
            if let Some(v) = v {
                query.push((k, v.clone()));
            }
        }
        let bools = [
            ("VoiceEnabled", q.voice),
            ("SmsEnabled", q.sms),
            ("MmsEnabled", q.mms),
        ];
        for (k, v) in bools {
            if let Some(v) = v {
                query.push((k, bool_str(v)));
            }
        }
        if let Some(p) = q.page_size {
            query.push(("PageSize", p.to_string()));
        }
        let path = format!(
            "{}/AvailablePhoneNumbers/{}/{}.json",
            self.acct_path(),
            seg(&q.country.to_ascii_uppercase()),
            q.number_type.path_segment()
        );
        let url = self.v2010(&path, &query);
        #[derive(serde::Deserialize)]
        struct Resp {
            #[serde(default, deserialize_with = "super::wire::vec_or_empty")]
            available_phone_numbers: Vec<AvailableNumber>,
        }
        let r: Resp = self.get("search_available", url, &self.account_sid).await?;
        Ok(r.available_phone_numbers)
    }

    /// `POST /Accounts/{Sid}/IncomingPhoneNumbers.json`. Retried only on 429 and connect
    /// failures (not executed); any failure after the request may have been sent →
    /// `OutcomeUnknown`: list with `PhoneNumber` before buying again.
    pub async fn buy(&self, req: &PurchaseRequest) -> Result<IncomingNumber, TwilioError> {
        let mut form: Vec<(&'static str, String)> = Vec::new();
        match (&req.phone_number, req.area_code) {
            (Some(n), _) if !n.is_empty() => form.push(("PhoneNumber", n.clone())),
            (_, Some(a)) => form.push(("AreaCode", a.to_string())),
            _ => {
                return Err(TwilioError::new(
                    ErrorClass::Permanent,
                    "buy",
                    "a purchase needs a phone number or an area code",
                ));
            }
        }
        form.extend(
            req.config
                .form_fields()
                .into_iter()
                .map(|(k, v)| (k, v.to_owned())),
        );
        let url = self.v2010(
            &format!("{}/IncomingPhoneNumbers.json", self.acct_path()),
            &[],
        );
        self.call(
            "buy",
            Method::POST,
            url,
            form,
            Kind::Create,
            &self.account_sid,
        )
        .await
    }

    /// `GET /Accounts/{Sid}/IncomingPhoneNumbers.json`, following `next_page_uri` to the end.
    pub async fn list_incoming(
        &self,
        filter: &IncomingFilter,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        let mut out = Vec::new();
        self.list_incoming_pages(filter, |page| out.extend(page))
            .await?;
        Ok(out)
    }

    /// [`Self::list_incoming`], handing each page to `page` as it arrives.
    pub async fn list_incoming_pages(
        &self,
        filter: &IncomingFilter,
        page: impl FnMut(Vec<IncomingNumber>),
    ) -> Result<(), TwilioError> {
        let mut q = Vec::new();
        if let Some(p) = &filter.phone_number {
            q.push(("PhoneNumber", p.clone()));
        }
        if let Some(f) = &filter.friendly_name {
            q.push(("FriendlyName", f.clone()));
        }
        let size = filter.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, 1000);
        q.push(("PageSize", size.to_string()));
        let url = self.v2010(
            &format!("{}/IncomingPhoneNumbers.json", self.acct_path()),
            &q,
        );
        self.list_pages(
            "list_incoming",
            url,
            "incoming_phone_numbers",
            &self.account_sid,
            page,
        )
        .await
    }

    fn incoming_url(&self, sid: &str) -> Url {
        self.v2010(
            &format!(
                "{}/IncomingPhoneNumbers/{}.json",
                self.acct_path(),
                seg(sid)
            ),
            &[],
        )
    }

    /// `GET /Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json`.
    pub async fn fetch_incoming(&self, sid: &str) -> Result<IncomingNumber, TwilioError> {
        self.get("fetch_incoming", self.incoming_url(sid), &self.account_sid)
            .await
    }

    /// `POST /Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json` with the set fields of `config`
    /// (an empty config only fetches).
    pub async fn update_incoming(
        &self,
        sid: &str,
        config: &NumberConfig,
    ) -> Result<IncomingNumber, TwilioError> {
        if config.is_empty() {
            return self.fetch_incoming(sid).await;
        }
        let form = config
            .form_fields()
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect();
        self.call(
            "update_incoming",
            Method::POST,
            self.incoming_url(sid),
            form,
            Kind::Idempotent,
            &self.account_sid,
        )
        .await
    }

    /// `DELETE /Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json`. Already gone → `is_not_found()`.
    pub async fn release(&self, sid: &str) -> Result<(), TwilioError> {
        let req = Request {
            operation: "release",
            method: Method::DELETE,
            url: self.incoming_url(sid),
            form: Vec::new(),
            kind: Kind::Idempotent,
            limit_key: &self.account_sid,
        };
        self.client.inner.transport.send(&self.creds, &req).await?;
        Ok(())
    }

    fn pricing(&self, path: &str, query: &[(&str, String)]) -> Url {
        build_url(&self.pricing_base, path, query)
    }

    /// `GET {pricing}/v1/PhoneNumbers/Countries/{IsoCountry}` (acts for the credentials' owner).
    pub async fn number_prices(&self, country: &str) -> Result<NumberPrices, TwilioError> {
        let url = self.pricing(
            &format!(
                "/v1/PhoneNumbers/Countries/{}",
                seg(&country.to_ascii_uppercase())
            ),
            &[],
        );
        let owner = self.creds.account_sid().to_owned();
        self.get("number_prices", url, &owner).await
    }

    /// `GET {pricing}/v2/Voice/Countries/{IsoCountry}`.
    pub async fn voice_prices(&self, country: &str) -> Result<VoicePrices, TwilioError> {
        let url = self.pricing(
            &format!("/v2/Voice/Countries/{}", seg(&country.to_ascii_uppercase())),
            &[],
        );
        let owner = self.creds.account_sid().to_owned();
        let w: VoicePricesWire = self.get("voice_prices", url, &owner).await?;
        Ok(w.into())
    }

    /// `GET {pricing}/v2/Voice/Numbers/{DestinationNumber}?OriginationNumber=`.
    pub async fn voice_number_price(
        &self,
        destination: &str,
        origination: Option<&str>,
    ) -> Result<VoiceNumberPrice, TwilioError> {
        let q: Vec<(&str, String)> = origination
            .map(|o| vec![("OriginationNumber", o.to_owned())])
            .unwrap_or_default();
        let url = self.pricing(&format!("/v2/Voice/Numbers/{}", seg(destination)), &q);
        let owner = self.creds.account_sid().to_owned();
        let w: VoiceNumberPriceWire = self.get("voice_number_price", url, &owner).await?;
        Ok(w.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> Result<Page<IncomingNumber>, TwilioError> {
        decode_page("list_incoming", "incoming_phone_numbers", body.as_bytes())
    }

    #[test]
    fn a_page_reads_its_items_and_next_page_and_skips_the_rest() {
        let p = page(
            r#"{"first_page_uri": "/x", "incoming_phone_numbers": [
                {"sid": "PN1", "phone_number": "+15550000001", "friendly_name": "a",
                 "capabilities": {"voice": true}, "subresource_uris": {"a": [1, {"b": null}]}},
                {"sid": "PN2", "phone_number": "+15550000002"}],
               "next_page_uri": "/2010-04-01/next?Page=1", "page": 0}"#,
        )
        .unwrap();
        let numbers: Vec<&str> = p.items.iter().map(|n| n.phone_number.as_str()).collect();
        assert_eq!(numbers, ["+15550000001", "+15550000002"]);
        assert_eq!(p.items[0].friendly_name(), "a");
        assert!(p.items[0].capabilities.voice);
        assert_eq!(p.next.as_deref(), Some("/2010-04-01/next?Page=1"));
    }

    #[test]
    fn a_missing_or_null_array_is_an_empty_last_page() {
        for body in [
            r#"{"next_page_uri": null}"#,
            r#"{"incoming_phone_numbers": null, "next_page_uri": 3}"#,
            "{}",
        ] {
            let p = page(body).unwrap();
            assert!(p.items.is_empty() && p.next.is_none(), "{body}");
        }
    }

    #[test]
    fn an_unreadable_page_or_array_is_a_permanent_error_naming_it() {
        for (body, says) in [
            ("[1, 2]", "unreadable response"),
            (
                "{\"incoming_phone_numbers\": []} trailing",
                "unreadable response",
            ),
            ("{\"incoming_phone_numbers\": [", "unreadable response"),
            (
                "{\"incoming_phone_numbers\": [{\"phone_number\": \"+1\"}]}",
                "unreadable `incoming_phone_numbers` in response",
            ),
            (
                "{\"incoming_phone_numbers\": {\"sid\": \"PN1\"}}",
                "unreadable `incoming_phone_numbers` in response",
            ),
        ] {
            let e = page(body)
                .err()
                .unwrap_or_else(|| panic!("{body} is refused"));
            assert_eq!(e.class, ErrorClass::Permanent, "{body}");
            assert!(e.message.starts_with(says), "{body}: {}", e.message);
        }
    }
}
