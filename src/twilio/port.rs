//! The Twilio ports, as traits, so the controllers' step order is testable without a server:
//! - `TwilioPort`: the calls the PhoneNumber engine makes on one account (search, buy, look up /
//!   list, update, release);
//! - `AccountPort`: those plus the account-level calls of the TelephonyAccount controller (fetch
//!   the account, its balance, find / create / close a subaccount);
//! - `TwilioConnector`: from credentials to a port (`TwilioClient` builds `AccountApi`s).
//!
//! `AccountApi` (HTTP) is the real implementation; tests use in-memory fakes. The futures are
//! `Send` because the controllers run inside kube-rs's controller tasks.

use super::{
    Account, AccountApi, AvailableNumber, Balance, Credentials, IncomingFilter, IncomingNumber,
    NumberConfig, PurchaseRequest, Routing, SearchQuery, TwilioClient, TwilioError,
};
use std::future::Future;

/// One Twilio account, as the PhoneNumber engine uses it.
pub trait TwilioPort: Send + Sync {
    /// The account's SID (keys the inventory cache and reservations).
    fn account_sid(&self) -> &str;
    /// Searches available numbers.
    fn search_available(
        &self,
        q: &SearchQuery,
    ) -> impl Future<Output = Result<Vec<AvailableNumber>, TwilioError>> + Send;
    /// Buys a number.
    fn buy(
        &self,
        req: &PurchaseRequest,
    ) -> impl Future<Output = Result<IncomingNumber, TwilioError>> + Send;
    /// Lists the account's numbers matching `filter`.
    fn list_incoming(
        &self,
        filter: &IncomingFilter,
    ) -> impl Future<Output = Result<Vec<IncomingNumber>, TwilioError>> + Send;
    /// Lists the account's numbers matching `filter`, handing them to `page` one page at a time
    /// as the pages arrive, so a sweep of a large account never holds all its numbers decoded
    /// at once. After an error, the pages already handed over are not the whole list. (This
    /// default lists everything first, as one page.)
    fn list_incoming_pages<F: FnMut(Vec<IncomingNumber>) + Send>(
        &self,
        filter: &IncomingFilter,
        mut page: F,
    ) -> impl Future<Output = Result<(), TwilioError>> + Send {
        async move {
            page(self.list_incoming(filter).await?);
            Ok(())
        }
    }
    /// Updates the set fields of a number's configuration (an empty config only fetches).
    fn update_incoming(
        &self,
        sid: &str,
        config: &NumberConfig,
    ) -> impl Future<Output = Result<IncomingNumber, TwilioError>> + Send;
    /// Releases a number.
    fn release(&self, sid: &str) -> impl Future<Output = Result<(), TwilioError>> + Send;
}

impl TwilioPort for AccountApi {
    fn account_sid(&self) -> &str {
        AccountApi::account_sid(self)
    }
    async fn search_available(&self, q: &SearchQuery) -> Result<Vec<AvailableNumber>, TwilioError> {
        AccountApi::search_available(self, q).await
    }
    async fn buy(&self, req: &PurchaseRequest) -> Result<IncomingNumber, TwilioError> {
        AccountApi::buy(self, req).await
    }
    async fn list_incoming(
        &self,
        filter: &IncomingFilter,
    ) -> Result<Vec<IncomingNumber>, TwilioError> {
        AccountApi::list_incoming(self, filter).await
    }
    async fn list_incoming_pages<F: FnMut(Vec<IncomingNumber>) + Send>(
        &self,
        filter: &IncomingFilter,
        page: F,
    ) -> Result<(), TwilioError> {
        AccountApi::list_incoming_pages(self, filter, page).await
    }
    async fn update_incoming(
        &self,
        sid: &str,
        config: &NumberConfig,
    ) -> Result<IncomingNumber, TwilioError> {
        AccountApi::update_incoming(self, sid, config).await
    }
    async fn release(&self, sid: &str) -> Result<(), TwilioError> {
        AccountApi::release(self, sid).await
    }
}

/// One Twilio account, as the TelephonyAccount controller uses it.
pub trait AccountPort: TwilioPort {
    /// Fetches the account (verifies the credentials).
    fn fetch_account(&self) -> impl Future<Output = Result<Account, TwilioError>> + Send;
    /// The account's balance.
    fn balance(&self) -> impl Future<Output = Result<Balance, TwilioError>> + Send;
    /// Lists the accounts the credentials see (the main account and its subaccounts).
    fn list_accounts(
        &self,
        friendly_name: Option<&str>,
        status: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Account>, TwilioError>> + Send;
    /// Creates a subaccount (not idempotent: an unknown outcome is looked up, never repeated).
    fn create_subaccount(
        &self,
        friendly_name: &str,
    ) -> impl Future<Output = Result<Account, TwilioError>> + Send;
    /// Closes a subaccount (irreversible).
    fn close_subaccount(
        &self,
        sid: &str,
    ) -> impl Future<Output = Result<Account, TwilioError>> + Send;
}

impl AccountPort for AccountApi {
    async fn fetch_account(&self) -> Result<Account, TwilioError> {
        AccountApi::fetch_account(self).await
    }
    async fn balance(&self) -> Result<Balance, TwilioError> {
        AccountApi::balance(self).await
    }
    async fn list_accounts(
        &self,
        friendly_name: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<Account>, TwilioError> {
        AccountApi::list_accounts(self, friendly_name, status).await
    }
    async fn create_subaccount(&self, friendly_name: &str) -> Result<Account, TwilioError> {
        AccountApi::create_subaccount(self, friendly_name).await
    }
    async fn close_subaccount(&self, sid: &str) -> Result<Account, TwilioError> {
        AccountApi::close_subaccount(self, sid).await
    }
}

/// From credentials to an account port.
pub trait TwilioConnector: Send + Sync {
    /// The port type.
    type Port: AccountPort;
    /// The credentials' own account.
    fn account(&self, creds: &Credentials, routing: &Routing) -> Self::Port;
    /// A subaccount, acted on with its parent's credentials.
    fn subaccount(&self, parent: &Credentials, sid: &str, routing: &Routing) -> Self::Port;
}

impl TwilioConnector for TwilioClient {
    type Port = AccountApi;
    fn account(&self, creds: &Credentials, routing: &Routing) -> AccountApi {
        TwilioClient::account(self, creds, routing)
    }
    fn subaccount(&self, parent: &Credentials, sid: &str, routing: &Routing) -> AccountApi {
        TwilioClient::subaccount(self, parent, sid, routing)
    }
}
