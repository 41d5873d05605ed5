//! `TwilioClient` (shared transport, limits, stats) and `AccountApi` (the typed calls for one
//! account). Each call builds a path, encodes parameters and hands it to the transport.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::config::{
    DEFAULT_API_HOST, DEFAULT_PRICING_HOST, Routing, TwilioClientConfig, routed_base,
};
use super::error::{ErrorClass, TwilioError};
use super::pricing::{NumberPrices, VoiceNumberPrice, VoicePrices};
use super::secret::Credentials;
use super::types::{
    Account, AvailableNumber, Balance, IncomingFilter, IncomingNumber, NumberConfig,
    PurchaseRequest, SearchQuery,
};

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
}

/// Twilio REST client: cheap to clone, shared by all accounts. Holds the HTTP client and the
/// per-account limiters (keyed by the account SID acted on).
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

fn not_yet(op: &'static str) -> TwilioError {
    TwilioError::new(ErrorClass::Permanent, op, "not implemented yet")
}

impl TwilioClient {
    /// Builds a client.
    pub fn new(config: TwilioClientConfig) -> Result<Self, TwilioError> {
        Ok(TwilioClient {
            inner: Arc::new(Inner { config }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TwilioClientConfig {
        &self.inner.config
    }

    /// API for the credentials' own account.
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

    /// Counters since the client was built.
    pub fn stats(&self) -> ClientStats {
        ClientStats::default()
    }
}

/// The typed calls for one account (the SID in v2010 paths).
#[derive(Clone)]
pub struct AccountApi {
    client: TwilioClient,
    creds: Credentials,
    account_sid: String,
    api_base: url::Url,
    pricing_base: url::Url,
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

impl AccountApi {
    /// The account acted on (the SID in v2010 paths).
    pub fn account_sid(&self) -> &str {
        let _ = &self.client;
        &self.account_sid
    }

    /// `GET /Accounts/{Sid}.json`.
    pub async fn fetch_account(&self) -> Result<Account, TwilioError> {
        Err(not_yet("fetch_account"))
    }

    /// `POST /Accounts.json`. Not idempotent: an unknown outcome → `OutcomeUnknown`.
    pub async fn create_subaccount(&self, _friendly_name: &str) -> Result<Account, TwilioError> {
        Err(not_yet("create_subaccount"))
    }

    /// `GET /Accounts.json` (all pages).
    pub async fn list_accounts(
        &self,
        _friendly_name: Option<&str>,
        _status: Option<&str>,
    ) -> Result<Vec<Account>, TwilioError> {
        Err(not_yet("list_accounts"))
    }

    /// `POST /Accounts/{sid}.json` with `Status=closed` (irreversible).
    pub async fn close_subaccount(&self, _sid: &str) -> Result<Account, TwilioError> {
        Err(not_yet("close_subaccount"))
    }

    /// `GET /Accounts/{Sid}/Balance.json`.
    pub async fn balance(&self) -> Result<Balance, TwilioError> {
        Err(not_yet("balance"))
    }

    /// `GET /Accounts/{Sid}/AvailablePhoneNumbers/{Country}/{Type}.json`.
    pub async fn search_available(
        &self,
        _q: &SearchQuery,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        Err(not_yet("search_available"))
    }

    /// `POST /Accounts/{Sid}/IncomingPhoneNumbers.json`. Retried only on 429; any failure after
    /// the request may have been sent → `OutcomeUnknown`.
    pub async fn buy(&self, _req: &PurchaseRequest) -> Result<IncomingNumber, TwilioError> {
        Err(not_yet("buy"))
    }

    /// `GET /Accounts/{Sid}/IncomingPhoneNumbers.json`, following `next_page_uri` to the end.
    pub async fn list_incoming(
        &self,
        _filter: &IncomingFilter,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        Err(not_yet("list_incoming"))
    }

    /// `GET /Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json`.
    pub async fn fetch_incoming(&self, _sid: &str) -> Result<IncomingNumber, TwilioError> {
        Err(not_yet("fetch_incoming"))
    }

    /// `POST /Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json` with the set fields of `config`.
    pub async fn update_incoming(
        &self,
        _sid: &str,
        _config: &NumberConfig,
    ) -> Result<IncomingNumber, TwilioError> {
        Err(not_yet("update_incoming"))
    }

    /// `DELETE /Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json`. Already gone → `is_not_found()`.
    pub async fn release(&self, _sid: &str) -> Result<(), TwilioError> {
        Err(not_yet("release"))
    }

    /// `GET {pricing}/v1/PhoneNumbers/Countries/{IsoCountry}`.
    pub async fn number_prices(&self, _country: &str) -> Result<NumberPrices, TwilioError> {
        Err(not_yet("number_prices"))
    }

    /// `GET {pricing}/v2/Voice/Countries/{IsoCountry}`.
    pub async fn voice_prices(&self, _country: &str) -> Result<VoicePrices, TwilioError> {
        Err(not_yet("voice_prices"))
    }

    /// `GET {pricing}/v2/Voice/Numbers/{DestinationNumber}?OriginationNumber=`.
    pub async fn voice_number_price(
        &self,
        _destination: &str,
        _origination: Option<&str>,
    ) -> Result<VoiceNumberPrice, TwilioError> {
        Err(not_yet("voice_number_price"))
    }
}
