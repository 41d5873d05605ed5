//! The side effects of a PhoneNumber reconcile other than Twilio calls: status writes (optimistic
//! concurrency), credits (Managed hold/settle/release), number claims (one number, one owner:
//! `controller::claims`) and events. A trait, so the purchase steps run unchanged against
//! Kubernetes (`KubeEffects`) or an in-memory store in tests.

use crate::api::HeldNumber;
use crate::api::{ChargeKind, PhoneNumber, PhoneNumberStatus};
use crate::controller::Context;
use crate::controller::claims::{AccountHolder, ClaimOutcome, Claimant, HoldOutcome as NumberHold};
use crate::controller::credits::{self, CreditsError, HoldOutcome};
use crate::reconcile::phone_number::{Event, EventType};
use kube::api::PostParams;
use kube::{Api, Resource, ResourceExt};
use rust_decimal::Decimal;
use std::future::Future;
use std::sync::Arc;

/// Why a status write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The object changed since it was read (409): re-read and decide again; never act on it.
    #[error("the PhoneNumber changed since it was read (conflict)")]
    Conflict,
    #[error("kubernetes: {0}")]
    Kube(#[from] kube::Error),
}

/// Status store, credits and events of PhoneNumbers.
pub trait Effects: Send + Sync {
    /// Replaces `pn`'s status with `status`, carrying `pn`'s resourceVersion. Returns the object
    /// as written (new resourceVersion).
    fn write_status(
        &self,
        pn: &PhoneNumber,
        status: &PhoneNumberStatus,
    ) -> impl Future<Output = Result<PhoneNumber, WriteError>> + Send;
    /// `credits::hold` on the PhoneNumber's account.
    fn hold(
        &self,
        pn: &PhoneNumber,
        key: &str,
        amount: Decimal,
        kind: ChargeKind,
    ) -> impl Future<Output = Result<HoldOutcome, CreditsError>> + Send;
    /// `credits::settle`.
    fn settle(
        &self,
        pn: &PhoneNumber,
        key: &str,
        number: &str,
    ) -> impl Future<Output = Result<(), CreditsError>> + Send;
    /// `credits::release_hold`.
    fn release_hold(
        &self,
        pn: &PhoneNumber,
        key: &str,
    ) -> impl Future<Output = Result<(), CreditsError>> + Send;
    /// Claims `number` of the Twilio account `account_sid` for `pn`, unless another live
    /// PhoneNumber (of any namespace) or another account holds it; a hold of `pn`'s own
    /// account is taken over (`ClaimOutcome::Adopted`).
    fn claim(
        &self,
        pn: &PhoneNumber,
        account_sid: &str,
        number: &str,
    ) -> impl Future<Output = Result<ClaimOutcome, kube::Error>> + Send;
    /// Hands `pn`'s number to its account (`account`), which holds it as `hold`
    /// (`crate::reconcile::quarantine`).
    fn hold_number(
        &self,
        pn: &PhoneNumber,
        account: &AccountHolder,
        hold: &HeldNumber,
    ) -> impl Future<Output = Result<NumberHold, kube::Error>> + Send;
    /// Drops `pn`'s claims, except the one on `keep` (`(account SID, number)`).
    fn release_claims(
        &self,
        pn: &PhoneNumber,
        keep: Option<(&str, &str)>,
    ) -> impl Future<Output = Result<(), kube::Error>> + Send;
    /// Records an event on `pn` (best effort).
    fn event(&self, pn: &PhoneNumber, event: &Event) -> impl Future<Output = ()> + Send;
}

/// Effects against the Kubernetes API.
pub struct KubeEffects {
    pub ctx: Arc<Context>,
}

impl Effects for KubeEffects {
    async fn write_status(
        &self,
        pn: &PhoneNumber,
        status: &PhoneNumberStatus,
    ) -> Result<PhoneNumber, WriteError> {
        let api: Api<PhoneNumber> =
            Api::namespaced(self.ctx.kube.clone(), &pn.namespace().unwrap_or_default());
        let mut obj = pn.clone();
        obj.status = Some(status.clone());
        obj.metadata.managed_fields = None;
        match api
            .replace_status(&pn.name_any(), &PostParams::default(), &obj)
            .await
        {
            Ok(o) => Ok(o),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(WriteError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    async fn hold(
        &self,
        pn: &PhoneNumber,
        key: &str,
        amount: Decimal,
        kind: ChargeKind,
    ) -> Result<HoldOutcome, CreditsError> {
        let ns = pn.namespace().unwrap_or_default();
        credits::hold(
            &self.ctx,
            &ns,
            &pn.spec.account_ref.name,
            key,
            &pn.name_any(),
            amount,
            kind,
        )
        .await
    }

    async fn settle(&self, pn: &PhoneNumber, key: &str, number: &str) -> Result<(), CreditsError> {
        let ns = pn.namespace().unwrap_or_default();
        credits::settle(&self.ctx, &ns, &pn.spec.account_ref.name, key, number).await
    }

    async fn release_hold(&self, pn: &PhoneNumber, key: &str) -> Result<(), CreditsError> {
        let ns = pn.namespace().unwrap_or_default();
        credits::release_hold(&self.ctx, &ns, &pn.spec.account_ref.name, key).await
    }

    async fn claim(
        &self,
        pn: &PhoneNumber,
        account_sid: &str,
        number: &str,
    ) -> Result<ClaimOutcome, kube::Error> {
        let account = Some(pn.spec.account_ref.name.clone());
        self.ctx
            .claims
            .claim(account_sid, number, &Claimant::of(pn), account)
            .await
    }

    async fn hold_number(
        &self,
        pn: &PhoneNumber,
        account: &AccountHolder,
        hold: &HeldNumber,
    ) -> Result<NumberHold, kube::Error> {
        self.ctx.claims.hold(&Claimant::of(pn), account, hold).await
    }

    async fn release_claims(
        &self,
        pn: &PhoneNumber,
        keep: Option<(&str, &str)>,
    ) -> Result<(), kube::Error> {
        let uid = pn.uid().unwrap_or_default();
        self.ctx.claims.release_all_but(&uid, keep).await
    }

    async fn event(&self, pn: &PhoneNumber, event: &Event) {
        let ev = kube::runtime::events::Event {
            type_: match event.type_() {
                EventType::Normal => kube::runtime::events::EventType::Normal,
                EventType::Warning => kube::runtime::events::EventType::Warning,
            },
            reason: event.reason.to_string(),
            note: Some(crate::controller::context::event_note(&event.note)),
            action: event.reason.to_string(),
            secondary: None,
        };
        if let Err(e) = self.ctx.events.publish(&ev, &pn.object_ref(&())).await {
            tracing::debug!(error = %e, "publishing event");
        }
    }
}
