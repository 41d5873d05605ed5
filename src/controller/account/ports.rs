//! The two ports of the TelephonyAccount controller, so its steps (observe → decide → one status
//! write → events, and deletion) run unchanged against Kubernetes and Twilio or against
//! in-memory fakes in tests:
//! - `AccountStore`: what the controller reads and writes in Kubernetes (credentials Secrets, the
//!   account's CreditGrant, its PhoneNumbers (listed, and deleted with the account), the numbers
//!   it holds after their PhoneNumber was deleted (claims: `controller::claims`), the account
//!   itself and its status, events);
//! - a `TwilioConnector` (`crate::twilio`): credentials → an `AccountPort` on one account.
//!
//! `KubeAccountStore` + `TwilioClient` are the real pair, bundled with the `Context` in `Ports`.

use crate::api::{CredentialsSecretRef, CreditGrant, PhoneNumber, TelephonyAccount};
use crate::controller::Context;
use crate::controller::account_access::{self, AccessError};
use crate::controller::claims::HeldClaim;
use crate::reconcile::account::{AccountNumbers, Event};
use crate::reconcile::phone_number::PhoneNumberSummary;
use crate::twilio::{Credentials, TwilioClient, TwilioConnector};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};
use std::future::Future;
use std::sync::Arc;

/// Why a status write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StatusWriteError {
    /// The account changed since it was read (409): re-read and recompute.
    #[error("the TelephonyAccount changed since it was read (conflict)")]
    Conflict,
    /// The account is gone (deleted meanwhile).
    #[error("the TelephonyAccount is gone")]
    Gone,
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
}

/// PhoneNumbers per list request when an account lists its namespace's.
const PHONE_NUMBER_PAGE: u32 = 500;

/// Kubernetes, as the TelephonyAccount controller uses it.
pub trait AccountStore: Send + Sync {
    /// BringYourOwn credentials from the Secret `secret_ref` in `namespace`.
    fn credentials(
        &self,
        namespace: &str,
        secret_ref: &CredentialsSecretRef,
    ) -> impl Future<Output = Result<Credentials, AccessError>> + Send;
    /// The platform's master credentials (the operator's namespace).
    fn master_credentials(&self) -> impl Future<Output = Result<Credentials, AccessError>> + Send;
    /// The account's CreditGrant (cluster-scoped, named `<namespace>.<name>`), if any.
    fn credit_grant(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<CreditGrant>, kube::Error>> + Send;
    /// The PhoneNumbers of `namespace` whose `spec.accountRef` names `account`.
    fn phone_numbers(
        &self,
        namespace: &str,
        account: &str,
    ) -> impl Future<Output = Result<Vec<PhoneNumber>, kube::Error>> + Send;
    /// The claims of the PhoneNumbers of `namespace` that reference `account`, and how many of
    /// them are still being worked on (for the inventory summary, which may lag a moment behind
    /// the server).
    fn numbers(
        &self,
        namespace: &str,
        account: &str,
    ) -> impl Future<Output = Result<AccountNumbers, kube::Error>> + Send {
        async move {
            let numbers = self.phone_numbers(namespace, account).await?;
            let summaries: Vec<_> = numbers.iter().map(PhoneNumberSummary::of).collect();
            Ok(AccountNumbers::of(account, &summaries))
        }
    }
    /// Deletes a PhoneNumber of `namespace` (its finalizer then releases or keeps the number).
    fn delete_phone_number(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), kube::Error>> + Send;
    /// The numbers the account (`account_uid`) holds after their PhoneNumber was deleted.
    fn held_numbers(
        &self,
        account_uid: &str,
    ) -> impl Future<Output = Result<Vec<HeldClaim>, kube::Error>> + Send;
    /// Marks a hold as being released (no adoption after this); `None` when it changed
    /// meanwhile (adopted, or marked already): look again.
    fn mark_releasing(
        &self,
        held: &HeldClaim,
    ) -> impl Future<Output = Result<Option<HeldClaim>, kube::Error>> + Send;
    /// Drops a hold once its number is released.
    fn drop_hold(&self, held: &HeldClaim) -> impl Future<Output = Result<(), kube::Error>> + Send;
    /// The account as stored now.
    fn get(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<TelephonyAccount, kube::Error>> + Send;
    /// Replaces the account's status, carrying its resourceVersion (optimistic concurrency).
    fn replace_status(
        &self,
        account: &TelephonyAccount,
    ) -> impl Future<Output = Result<TelephonyAccount, StatusWriteError>> + Send;
    /// Records events on the account (best effort: failures are logged, never fatal).
    fn publish(
        &self,
        account: &TelephonyAccount,
        events: &[Event],
    ) -> impl Future<Output = ()> + Send;
}

/// The account controller's context and ports.
pub struct Ports<S: AccountStore = KubeAccountStore, T: TwilioConnector = TwilioClient> {
    pub ctx: Arc<Context>,
    pub store: S,
    pub twilio: T,
}

impl Ports {
    /// The real ports: Kubernetes and Twilio through the context's clients.
    pub fn real(ctx: Arc<Context>) -> Self {
        Ports {
            store: KubeAccountStore { ctx: ctx.clone() },
            twilio: ctx.twilio.clone(),
            ctx,
        }
    }
}

/// `AccountStore` against the Kubernetes API.
pub struct KubeAccountStore {
    pub ctx: Arc<Context>,
}

impl KubeAccountStore {
    /// The PhoneNumbers of `namespace` that reference `account`, each mapped by `keep` as its
    /// page arrives. In pages: one response of 10,000 objects held its text, its parsed form and
    /// the managedFields of every object at once (~50 MB), and every account of a namespace held
    /// all of its PhoneNumbers, its siblings' too (O(accounts × numbers) at once). `keep` decides
    /// what is held of each beyond its page (the whole trimmed object, or only its summary: a
    /// list of 10,000 whole objects is ~20 MB).
    async fn list_numbers<T>(
        &self,
        namespace: &str,
        account: &str,
        mut keep: impl FnMut(PhoneNumber) -> T,
    ) -> Result<Vec<T>, kube::Error> {
        let api: Api<PhoneNumber> = Api::namespaced(self.ctx.kube.clone(), namespace);
        let mut kept = Vec::new();
        let mut params = ListParams::default().limit(PHONE_NUMBER_PAGE);
        loop {
            let page = api.list(&params).await?;
            kept.extend(
                page.items
                    .into_iter()
                    .filter(|pn| pn.spec.account_ref.name == account)
                    .map(&mut keep),
            );
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(kept),
            }
        }
    }
}

impl AccountStore for KubeAccountStore {
    async fn credentials(
        &self,
        namespace: &str,
        secret_ref: &CredentialsSecretRef,
    ) -> Result<Credentials, AccessError> {
        account_access::byo_credentials(&self.ctx, namespace, secret_ref).await
    }

    async fn master_credentials(&self) -> Result<Credentials, AccessError> {
        account_access::master_credentials(&self.ctx).await
    }

    async fn credit_grant(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<CreditGrant>, kube::Error> {
        crate::controller::credits::credit_grant(&self.ctx, namespace, name).await
    }

    async fn phone_numbers(
        &self,
        namespace: &str,
        account: &str,
    ) -> Result<Vec<PhoneNumber>, kube::Error> {
        self.list_numbers(namespace, account, |mut pn| {
            crate::controller::cache_trim::trim(&mut pn);
            pn
        })
        .await
    }

    async fn numbers(&self, namespace: &str, account: &str) -> Result<AccountNumbers, kube::Error> {
        // From the PhoneNumber controller's cache when it has synced (no second copy of every
        // PhoneNumber of the namespace, and no copy of their summaries); listed otherwise,
        // keeping only each one's summary.
        match self.ctx.phone_numbers.covering(namespace) {
            Some(cache) => {
                let mine = cache.state_filter(|pn| {
                    pn.meta().namespace.as_deref() == Some(namespace)
                        && pn.summary().account == account
                });
                Ok(AccountNumbers::of(
                    account,
                    mine.iter().map(|pn| pn.summary()),
                ))
            }
            None => {
                let summaries = self
                    .list_numbers(namespace, account, |pn| PhoneNumberSummary::of(&pn))
                    .await?;
                Ok(AccountNumbers::of(account, &summaries))
            }
        }
    }

    async fn delete_phone_number(&self, namespace: &str, name: &str) -> Result<(), kube::Error> {
        let api: Api<PhoneNumber> = Api::namespaced(self.ctx.kube.clone(), namespace);
        api.delete(name, &DeleteParams::default()).await.map(|_| ())
    }

    async fn held_numbers(&self, account_uid: &str) -> Result<Vec<HeldClaim>, kube::Error> {
        self.ctx.claims.holds_of(account_uid).await
    }

    async fn mark_releasing(&self, held: &HeldClaim) -> Result<Option<HeldClaim>, kube::Error> {
        self.ctx.claims.mark_releasing(held).await
    }

    async fn drop_hold(&self, held: &HeldClaim) -> Result<(), kube::Error> {
        self.ctx.claims.drop_hold(held).await
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<TelephonyAccount, kube::Error> {
        let api: Api<TelephonyAccount> = Api::namespaced(self.ctx.kube.clone(), namespace);
        api.get(name).await
    }

    async fn replace_status(
        &self,
        account: &TelephonyAccount,
    ) -> Result<TelephonyAccount, StatusWriteError> {
        let namespace = account.namespace().unwrap_or_default();
        let api: Api<TelephonyAccount> = Api::namespaced(self.ctx.kube.clone(), &namespace);
        match api
            .replace_status(&account.name_any(), &PostParams::default(), account)
            .await
        {
            Ok(written) => Ok(written),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(StatusWriteError::Conflict),
            Err(kube::Error::Api(s)) if s.code == 404 => Err(StatusWriteError::Gone),
            Err(e) => Err(e.into()),
        }
    }

    async fn publish(&self, account: &TelephonyAccount, events: &[Event]) {
        let reference = account.object_ref(&());
        for e in events {
            let ev = kube::runtime::events::Event {
                type_: if e.warning {
                    EventType::Warning
                } else {
                    EventType::Normal
                },
                reason: e.reason.to_string(),
                note: Some(crate::controller::context::event_note(&e.note)),
                action: e.reason.to_string(),
                secondary: None,
            };
            if let Err(err) = self.ctx.events.publish(&ev, &reference).await {
                tracing::debug!(error = %err, reason = %e.reason, "recording event");
            }
        }
    }
}
