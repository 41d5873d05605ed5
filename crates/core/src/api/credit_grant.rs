//! `CreditGrant` (cluster-scoped, short name `cgrant`): the prepaid credits the platform grants a
//! Managed TelephonyAccount. Credits are money the platform pays Twilio with, so they are granted
//! only by the platform: a cluster-scoped object, written by platform administrators (tenants'
//! roles have no rule for it; an admission policy denies everyone outside the admin group as a
//! second layer). The tenant sees the resulting ledger in its account's `status.credits`.
//!
//! One grant per account, by name: `<namespace>.<account name>` is the whole reference, so the
//! operator finds it with one GET and two grants can never disagree.

use super::account::{BillingCycleSpec, CreditsSpec};
use kube_derive::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// Prepaid credits for one Managed TelephonyAccount: a grant every billing cycle plus one-off
/// top-ups (each counted once by its id). Named `<namespace>.<account name>`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(crates(kube_core = "::kube_core"))]
#[kube(
    crates(kube_core = "::kube_core"),
    group = "telephony.agni.ai",
    version = "v1alpha1",
    kind = "CreditGrant",
    shortname = "cgrant",
    doc = "Prepaid credits the platform grants one Managed TelephonyAccount (named <namespace>.<account>); written by platform administrators only.",
    printcolumn = r#"{"name":"PER CYCLE","type":"string","jsonPath":".spec.credits.perCycle"}"#,
    printcolumn = r#"{"name":"CURRENCY","type":"string","jsonPath":".spec.credits.currency"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct CreditGrantSpec {
    /// Credits granted at the start of each billing cycle, and one-off top-ups.
    pub credits: CreditsSpec,
    /// The billing cycle; unused credits expire at its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<BillingCycleSpec>,
}

impl CreditGrantSpec {
    /// What an account without a grant has: nothing per cycle, no top-ups.
    pub fn nothing() -> Self {
        CreditGrantSpec {
            credits: CreditsSpec {
                per_cycle: "0".into(),
                currency: "USD".into(),
                top_ups: Vec::new(),
            },
            billing_cycle: None,
        }
    }
}

impl CreditGrant {
    /// The name of the grant of the account `namespace/name`.
    pub fn name_for(namespace: &str, name: &str) -> String {
        format!("{namespace}.{name}")
    }

    /// The account `(namespace, name)` a grant is for, from its name (`None`: not of that form).
    pub fn account_of(grant_name: &str) -> Option<(&str, &str)> {
        grant_name
            .split_once('.')
            .filter(|(ns, n)| !ns.is_empty() && !n.is_empty())
    }
}
