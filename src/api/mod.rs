//! The CRD types: the only place the schema of `TelephonyAccount` and `PhoneNumber` is defined.
//!
//! `crds/` is generated from these types (`telephony-operator crd`), and a test fails when it is
//! stale. Doc comments on fields become `kubectl explain` text, so they are written for users.

mod account;
mod common;
mod phone_number;

pub use account::*;
pub use common::*;
pub use phone_number::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// API group of both kinds.
pub const GROUP: &str = "telephony.agni.ai";
/// API version of both kinds.
pub const VERSION: &str = "v1alpha1";

/// Finalizer the operator puts on both kinds.
pub const FINALIZER: &str = "telephony.agni.ai/finalizer";
/// Annotation an administrator sets to let the operator act on a changed `spec.mode`.
pub const MODE_CHANGE_APPROVED_ANNOTATION: &str = "telephony.agni.ai/mode-change-approved";
/// Annotation an administrator sets on a PhoneNumber to remove it without releasing the number at
/// Twilio (for example when the account's credentials are gone for good).
pub const SKIP_RELEASE_ANNOTATION: &str = "telephony.agni.ai/skip-release";

/// Every CRD the operator serves, in installation order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![TelephonyAccount::crd(), PhoneNumber::crd()]
}

/// The CRDs as one multi-document YAML stream (what `telephony-operator crd` prints and `crds/` holds).
pub fn crds_yaml() -> Result<String, serde_saphyr::ser::Error> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}
