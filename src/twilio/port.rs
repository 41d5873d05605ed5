//! The Twilio port: the calls the PhoneNumber engine makes (search, buy, look up / list, update,
//! release), as a trait. `AccountApi` (HTTP) is the real implementation; an engine test can run
//! against an in-memory fake, so the engine's step order is testable without a server. The
//! futures are `Send` because the engine runs inside kube-rs's controller tasks.

use super::{
    AccountApi, AvailableNumber, IncomingFilter, IncomingNumber, NumberConfig, PurchaseRequest,
    SearchQuery, TwilioError,
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
