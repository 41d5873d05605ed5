//! One number, one owner: before a PhoneNumber buys or adopts a number, it claims the pair
//! (Twilio account SID, number) with an API write that only one claimant can win — the create of
//! a Lease named after the pair, in the operator's namespace (tenants cannot write there). Two
//! PhoneNumbers in different namespaces, two TelephonyAccounts over one Twilio account, or two
//! replicas without a leader all race on the same name, and the API server lets exactly one
//! create succeed.
//!
//! A claim names its holder (`namespace/name/uid` in `spec.holderIdentity`, the uid also as a
//! label so a holder's claims are found with one list). A claim whose holder no longer exists
//! (the PhoneNumber was force-deleted, or recreated with a new uid) is stale: it is deleted with
//! its uid and resourceVersion as preconditions, so two takers cannot both remove it, and the
//! create is tried again. A holder that cannot be checked (no right to read it) counts as alive.
//!
//! Claims are dropped when their PhoneNumber is done with the number (released, kept by Retain,
//! lost, or deleted without a purchase).

use crate::api::PhoneNumber;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, Preconditions};
use kube::{Api, Client, ResourceExt};
use std::collections::BTreeMap;

/// Label on every claim (selects them all).
pub const CLAIM_LABEL: &str = "telephony.agni.ai/number-claim";
/// Label with the holder's uid (selects one PhoneNumber's claims).
pub const HOLDER_UID_LABEL: &str = "telephony.agni.ai/holder-uid";
/// Annotations recording what is claimed (for people reading the Lease).
pub const ACCOUNT_SID_ANNOTATION: &str = "telephony.agni.ai/account-sid";
pub const NUMBER_ANNOTATION: &str = "telephony.agni.ai/phone-number";

/// How many times a claim is retried after removing a stale one.
const ATTEMPTS: usize = 3;

/// Who holds a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl Claimant {
    /// The PhoneNumber as a claimant.
    pub fn of(pn: &PhoneNumber) -> Self {
        Claimant {
            namespace: pn.namespace().unwrap_or_default(),
            name: pn.name_any(),
            uid: pn.uid().unwrap_or_default(),
        }
    }

    fn identity(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.uid)
    }

    fn parse(identity: &str) -> Option<Self> {
        let mut parts = identity.splitn(3, '/');
        let (namespace, name, uid) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Claimant {
            namespace: namespace.into(),
            name: name.into(),
            uid: uid.into(),
        })
    }
}

/// The outcome of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The number is ours (just claimed, or already).
    Ours,
    /// Another live PhoneNumber holds it.
    Taken(Claimant),
}

/// The claim's name for `number` in `account_sid`: a DNS-1123 subdomain, one per pair.
pub fn claim_name(account_sid: &str, number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    format!("number-{}-{digits}", account_sid.to_ascii_lowercase())
}

/// Where claims live and how to reach them.
#[derive(Clone)]
pub struct Claims {
    client: Client,
    namespace: String,
}

impl Claims {
    /// Claims in `namespace` (the operator's).
    pub fn new(client: Client, namespace: &str) -> Self {
        Claims {
            client,
            namespace: namespace.to_string(),
        }
    }

    fn leases(&self) -> Api<Lease> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Claims `number` of `account_sid` for `me`, unless another live PhoneNumber holds it.
    pub async fn claim(
        &self,
        account_sid: &str,
        number: &str,
        me: &Claimant,
    ) -> Result<ClaimOutcome, kube::Error> {
        let name = claim_name(account_sid, number);
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.namespace.clone()),
                labels: Some(BTreeMap::from([
                    (CLAIM_LABEL.to_string(), "true".to_string()),
                    (HOLDER_UID_LABEL.to_string(), me.uid.clone()),
                ])),
                annotations: Some(BTreeMap::from([
                    (ACCOUNT_SID_ANNOTATION.to_string(), account_sid.to_string()),
                    (NUMBER_ANNOTATION.to_string(), number.to_string()),
                ])),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(me.identity()),
                ..Default::default()
            }),
        };
        for _ in 0..ATTEMPTS {
            match self.leases().create(&PostParams::default(), &lease).await {
                Ok(_) => return Ok(ClaimOutcome::Ours),
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(e),
            }
            let Some(existing) = self.leases().get_opt(&name).await? else {
                continue; // removed meanwhile: try again
            };
            let holder = existing
                .spec
                .as_ref()
                .and_then(|s| s.holder_identity.as_deref())
                .and_then(Claimant::parse);
            match holder {
                Some(h) if h.uid == me.uid => return Ok(ClaimOutcome::Ours),
                Some(h) if self.alive(&h).await => return Ok(ClaimOutcome::Taken(h)),
                _ => self.remove_stale(&existing).await?,
            }
        }
        // Still contested after removing stale claims: someone else keeps winning.
        Ok(match self.holder(account_sid, number).await? {
            Some(h) if h.uid != me.uid => ClaimOutcome::Taken(h),
            _ => ClaimOutcome::Ours,
        })
    }

    /// The live holder of `number` in `account_sid`, if any.
    pub async fn holder(
        &self,
        account_sid: &str,
        number: &str,
    ) -> Result<Option<Claimant>, kube::Error> {
        let Some(existing) = self
            .leases()
            .get_opt(&claim_name(account_sid, number))
            .await?
        else {
            return Ok(None);
        };
        let holder = existing
            .spec
            .and_then(|s| s.holder_identity)
            .as_deref()
            .and_then(Claimant::parse);
        Ok(match holder {
            Some(h) if self.alive(&h).await => Some(h),
            _ => None,
        })
    }

    /// Drops every claim `uid` holds except the one on `keep` (`(account SID, number)`).
    pub async fn release_all_but(
        &self,
        uid: &str,
        keep: Option<(&str, &str)>,
    ) -> Result<(), kube::Error> {
        let keep = keep.map(|(sid, n)| claim_name(sid, n));
        let params = ListParams::default().labels(&format!("{HOLDER_UID_LABEL}={uid}"));
        for lease in self.leases().list(&params).await?.items {
            if Some(lease.name_any()) == keep {
                continue;
            }
            self.delete_exact(&lease).await?;
        }
        Ok(())
    }

    /// Drops every claim `uid` holds.
    pub async fn release_all(&self, uid: &str) -> Result<(), kube::Error> {
        self.release_all_but(uid, None).await
    }

    async fn alive(&self, holder: &Claimant) -> bool {
        let api: Api<PhoneNumber> = Api::namespaced(self.client.clone(), &holder.namespace);
        match api.get_opt(&holder.name).await {
            Ok(Some(pn)) => pn.uid().as_deref() == Some(holder.uid.as_str()),
            Ok(None) => false,
            // Cannot tell (no right to read it, API error): treat as alive, never steal.
            Err(_) => true,
        }
    }

    async fn remove_stale(&self, lease: &Lease) -> Result<(), kube::Error> {
        tracing::info!(claim = %lease.name_any(), "removing a claim whose PhoneNumber is gone");
        self.delete_exact(lease).await
    }

    /// Deletes exactly this version of the claim (404 and 409 mean someone else already did
    /// something with it: fine).
    async fn delete_exact(&self, lease: &Lease) -> Result<(), kube::Error> {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: lease.uid(),
                resource_version: lease.resource_version(),
            }),
            ..Default::default()
        };
        match self.leases().delete(&lease.name_any(), &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_named_by_account_and_number() {
        let a = claim_name("AC0123456789ABCDEF0123456789abcdef", "+1 (415) 555-0100");
        assert_eq!(a, "number-ac0123456789abcdef0123456789abcdef-14155550100");
        assert_ne!(
            a,
            claim_name("AC0000000000000000000000000000000b", "+14155550100")
        );
        assert!(a.len() <= 253);
    }

    #[test]
    fn a_holder_identity_round_trips() {
        let c = Claimant {
            namespace: "team-a".into(),
            name: "sales".into(),
            uid: "0f1e-2d3c".into(),
        };
        assert_eq!(Claimant::parse(&c.identity()), Some(c));
        assert_eq!(Claimant::parse("no-slashes"), None);
    }
}
