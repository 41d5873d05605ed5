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
//!
//! A deleted PhoneNumber's number that would be released is held by its TelephonyAccount for
//! the quarantine window instead (`crate::reconcile::quarantine`): the claim passes to the
//! account (holder `TelephonyAccount/namespace/name/uid`, the hold as JSON in an annotation) in
//! one conditional write. A PhoneNumber of that account naming the number takes the claim back
//! (adopts) with one conditional write; the account marks the hold `releasing` with one before
//! it releases the number. Both are preconditioned on the claim's resourceVersion, so an
//! adoption and a release can never both succeed.

use crate::api::{HeldNumber, PhoneNumber, TelephonyAccount};
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
/// Annotation of a claim held by an account: the hold (`HeldNumber`, JSON).
pub const HOLD_ANNOTATION: &str = "telephony.agni.ai/hold";
/// Prefix of the holder identity of a claim held by an account.
const ACCOUNT_HOLDER_PREFIX: &str = "TelephonyAccount/";

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
        let (namespace, name, uid) = object_id(pn);
        Claimant {
            namespace,
            name,
            uid,
        }
    }

    fn identity(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.uid)
    }

    fn parse(identity: &str) -> Option<Self> {
        if identity.starts_with(ACCOUNT_HOLDER_PREFIX) {
            return None;
        }
        let (namespace, name, uid) = split_id(identity)?;
        Some(Claimant {
            namespace,
            name,
            uid,
        })
    }
}

/// `(namespace, name, uid)` of an object.
fn object_id<K: ResourceExt>(obj: &K) -> (String, String, String) {
    (
        obj.namespace().unwrap_or_default(),
        obj.name_any(),
        obj.uid().unwrap_or_default(),
    )
}

/// `namespace/name/uid` split (the uid may not contain `/`, the others cannot).
fn split_id(identity: &str) -> Option<(String, String, String)> {
    let mut parts = identity.splitn(3, '/');
    let (namespace, name, uid) = (parts.next()?, parts.next()?, parts.next()?);
    Some((namespace.into(), name.into(), uid.into()))
}

/// A TelephonyAccount holding a number (after its PhoneNumber was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountHolder {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl AccountHolder {
    /// The account as a holder.
    pub fn of(account: &TelephonyAccount) -> Self {
        let (namespace, name, uid) = object_id(account);
        AccountHolder {
            namespace,
            name,
            uid,
        }
    }

    fn identity(&self) -> String {
        format!(
            "{ACCOUNT_HOLDER_PREFIX}{}/{}/{}",
            self.namespace, self.name, self.uid
        )
    }

    fn parse(identity: &str) -> Option<Self> {
        let (namespace, name, uid) = split_id(identity.strip_prefix(ACCOUNT_HOLDER_PREFIX)?)?;
        Some(AccountHolder {
            namespace,
            name,
            uid,
        })
    }
}

/// Who holds a claim, as read from its Lease.
enum Holder {
    Number(Claimant),
    Account(AccountHolder, Option<HeldNumber>),
    Unknown,
}

fn holder_of(lease: &Lease) -> Holder {
    let identity = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        .unwrap_or_default();
    if let Some(account) = AccountHolder::parse(identity) {
        let hold = lease
            .annotations()
            .get(HOLD_ANNOTATION)
            .and_then(|j| serde_json::from_str(j).ok());
        return Holder::Account(account, hold);
    }
    Claimant::parse(identity).map_or(Holder::Unknown, Holder::Number)
}

/// The outcome of a claim.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// The number is ours (just claimed, or already).
    Ours,
    /// Ours now, taken over from the hold of the claimant's own account: the number was held
    /// after another PhoneNumber was deleted, and its release is cancelled.
    Adopted(HeldNumber),
    /// Another live PhoneNumber holds it.
    Taken(Claimant),
    /// A TelephonyAccount (not the claimant's) holds it after its PhoneNumber was deleted.
    HeldByAccount(AccountHolder),
    /// The claimant's account is releasing it (its hold ended): not adoptable any more.
    Releasing,
}

/// The outcome of handing a number to its account.
#[derive(Debug, Clone, PartialEq)]
pub enum HoldOutcome {
    /// The account holds it (now, or already: a repeated hold after a crash).
    Held(HeldNumber),
    /// Another live PhoneNumber claims the number: neither held nor to be released.
    ClaimedElsewhere,
}

/// A claim an account holds, with its hold.
#[derive(Debug, Clone)]
pub struct HeldClaim {
    pub lease: Lease,
    pub hold: HeldNumber,
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

    /// Claims `number` of `account_sid` for `me`, unless another live PhoneNumber holds it, or
    /// an account other than `me`'s (`account_of`: the TelephonyAccount `me` references, in
    /// its namespace) holds it; a hold of `me`'s own account is taken over (adopted).
    pub async fn claim(
        &self,
        account_sid: &str,
        number: &str,
        me: &Claimant,
        account_of: Option<String>,
    ) -> Result<ClaimOutcome, kube::Error> {
        let name = claim_name(account_sid, number);
        let lease = self.lease(account_sid, number, &me.identity(), &me.uid, None);
        for _ in 0..ATTEMPTS {
            match self.leases().create(&PostParams::default(), &lease).await {
                Ok(_) => return Ok(ClaimOutcome::Ours),
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(e),
            }
            let Some(existing) = self.leases().get_opt(&name).await? else {
                continue; // removed meanwhile: try again
            };
            match holder_of(&existing) {
                Holder::Number(h) if h.uid == me.uid => return Ok(ClaimOutcome::Ours),
                Holder::Number(h) if self.alive(&h).await => {
                    return Ok(ClaimOutcome::Taken(h));
                }
                Holder::Account(a, hold) if self.account_alive(&a).await => {
                    let ours = a.namespace == me.namespace && Some(&a.name) == account_of.as_ref();
                    match hold {
                        Some(h) if ours && !h.releasing => {
                            if self.replace_holder(&existing, &lease).await? {
                                return Ok(ClaimOutcome::Adopted(h));
                            }
                            continue; // changed meanwhile: look again
                        }
                        _ if ours => return Ok(ClaimOutcome::Releasing),
                        _ => return Ok(ClaimOutcome::HeldByAccount(a)),
                    }
                }
                _ => self.remove_stale(&existing).await?,
            }
        }
        // Still contested after removing stale claims: someone else keeps winning.
        let Some(existing) = self.leases().get_opt(&name).await? else {
            return Ok(ClaimOutcome::Releasing); // gone again: look again later
        };
        Ok(match holder_of(&existing) {
            Holder::Number(h) if h.uid == me.uid => ClaimOutcome::Ours,
            Holder::Number(h) => ClaimOutcome::Taken(h),
            Holder::Account(a, _) => ClaimOutcome::HeldByAccount(a),
            Holder::Unknown => ClaimOutcome::Releasing,
        })
    }

    /// The claim of `number` in `account_sid` for the holder `identity` (uid `holder_uid`), with
    /// the hold (JSON) when an account holds it.
    fn lease(
        &self,
        account_sid: &str,
        number: &str,
        identity: &str,
        holder_uid: &str,
        hold: Option<String>,
    ) -> Lease {
        let mut annotations = BTreeMap::from([
            (ACCOUNT_SID_ANNOTATION.to_string(), account_sid.to_string()),
            (NUMBER_ANNOTATION.to_string(), number.to_string()),
        ]);
        if let Some(json) = hold {
            annotations.insert(HOLD_ANNOTATION.to_string(), json);
        }
        Lease {
            metadata: ObjectMeta {
                name: Some(claim_name(account_sid, number)),
                namespace: Some(self.namespace.clone()),
                labels: Some(BTreeMap::from([
                    (CLAIM_LABEL.to_string(), "true".to_string()),
                    (HOLDER_UID_LABEL.to_string(), holder_uid.to_string()),
                ])),
                annotations: Some(annotations),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(identity.to_string()),
                ..Default::default()
            }),
        }
    }

    /// Replaces `existing` (exactly that version) by `lease`'s holder, labels and annotations.
    /// `false` when the claim changed or went meanwhile.
    async fn replace_holder(&self, existing: &Lease, lease: &Lease) -> Result<bool, kube::Error> {
        let mut next = lease.clone();
        next.metadata.resource_version = existing.resource_version();
        next.metadata.uid = existing.uid();
        match self
            .leases()
            .replace(&existing.name_any(), &PostParams::default(), &next)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Hands `number` of `account_sid`, claimed by `from` (a PhoneNumber being deleted), to
    /// `account`, which holds it as `hold` until its release time. Idempotent: a hold already in
    /// place (a repeat after a crash) is returned as it is.
    pub async fn hold(
        &self,
        from: &Claimant,
        account: &AccountHolder,
        hold: &HeldNumber,
    ) -> Result<HoldOutcome, kube::Error> {
        let name = claim_name(&hold.account_sid, &hold.phone_number);
        let json = serde_json::to_string(hold).unwrap_or_default();
        let lease = self.lease(
            &hold.account_sid,
            &hold.phone_number,
            &account.identity(),
            &account.uid,
            Some(json),
        );
        for _ in 0..ATTEMPTS {
            let Some(existing) = self.leases().get_opt(&name).await? else {
                match self.leases().create(&PostParams::default(), &lease).await {
                    Ok(_) => return Ok(HoldOutcome::Held(hold.clone())),
                    Err(kube::Error::Api(s)) if s.code == 409 => continue,
                    Err(e) => return Err(e),
                }
            };
            let take = match holder_of(&existing) {
                Holder::Account(a, Some(h)) if a.uid == account.uid && h.sid == hold.sid => {
                    return Ok(HoldOutcome::Held(h));
                }
                Holder::Number(h) if h.uid == from.uid => true,
                Holder::Number(h) => !self.alive(&h).await,
                Holder::Account(a, _) => !self.account_alive(&a).await,
                Holder::Unknown => true,
            };
            if !take {
                return Ok(HoldOutcome::ClaimedElsewhere);
            }
            if self.replace_holder(&existing, &lease).await? {
                return Ok(HoldOutcome::Held(hold.clone()));
            }
        }
        Ok(HoldOutcome::ClaimedElsewhere)
    }

    /// The claims `account_uid` holds, with their holds (claims whose hold cannot be read are
    /// left alone, and logged).
    pub async fn holds_of(&self, account_uid: &str) -> Result<Vec<HeldClaim>, kube::Error> {
        let params = ListParams::default().labels(&format!("{HOLDER_UID_LABEL}={account_uid}"));
        let mut held = Vec::new();
        for lease in self.leases().list(&params).await?.items {
            match holder_of(&lease) {
                Holder::Account(a, Some(hold)) if a.uid == account_uid => {
                    held.push(HeldClaim { lease, hold });
                }
                _ => {
                    tracing::warn!(claim = %lease.name_any(), "a held claim without a readable hold");
                }
            }
        }
        Ok(held)
    }

    /// Marks `held` as being released (no adoption after this). `None` when the claim changed
    /// meanwhile (adopted, or already marked): look again.
    pub async fn mark_releasing(&self, held: &HeldClaim) -> Result<Option<HeldClaim>, kube::Error> {
        if held.hold.releasing {
            return Ok(Some(held.clone()));
        }
        let mut hold = held.hold.clone();
        hold.releasing = true;
        let mut lease = held.lease.clone();
        lease
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                HOLD_ANNOTATION.to_string(),
                serde_json::to_string(&hold).unwrap_or_default(),
            );
        lease.metadata.managed_fields = None;
        match self
            .leases()
            .replace(&held.lease.name_any(), &PostParams::default(), &lease)
            .await
        {
            Ok(written) => Ok(Some(HeldClaim {
                lease: written,
                hold,
            })),
            Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Drops a hold (after its number was released, or its account is gone).
    pub async fn drop_hold(&self, held: &HeldClaim) -> Result<(), kube::Error> {
        self.delete_exact(&held.lease).await
    }

    async fn account_alive(&self, holder: &AccountHolder) -> bool {
        let api: Api<TelephonyAccount> = Api::namespaced(self.client.clone(), &holder.namespace);
        match api.get_opt(&holder.name).await {
            Ok(Some(a)) => a.uid().as_deref() == Some(holder.uid.as_str()),
            Ok(None) => false,
            Err(_) => true,
        }
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

    #[test]
    fn an_account_holder_is_never_read_as_a_phone_number() {
        let a = AccountHolder {
            namespace: "team-a".into(),
            name: "acct".into(),
            uid: "9a8b".into(),
        };
        assert_eq!(AccountHolder::parse(&a.identity()), Some(a.clone()));
        // Read as a PhoneNumber it would look stale (no such PhoneNumber) and be taken over.
        assert_eq!(Claimant::parse(&a.identity()), None);
        assert_eq!(AccountHolder::parse("team-a/acct/9a8b"), None);
    }
}
