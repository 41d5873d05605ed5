//! The CRD types: the only place the schema of `TelephonyAccount` and `PhoneNumber` is defined.
//!
//! `crds/` is generated from these types (`telephony-operator crd`), and a test fails when it is
//! stale. Doc comments on fields become `kubectl explain` text, so they are written for users.

mod account;
mod common;
mod credit_grant;
mod number_search;
mod phone_number;

pub use account::*;
pub use common::*;
pub use credit_grant::*;
pub use number_search::*;
pub use phone_number::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube_core::CustomResourceExt;

/// API group of both kinds.
pub const GROUP: &str = "telephony.agni.ai";
/// API version of both kinds.
pub const VERSION: &str = "v1alpha1";

/// Finalizer the operator puts on both kinds.
pub const FINALIZER: &str = "telephony.agni.ai/finalizer";
/// Annotation an administrator sets to let the operator act on a changed `spec.mode`.
pub const MODE_CHANGE_APPROVED_ANNOTATION: &str = "telephony.agni.ai/mode-change-approved";
/// Annotation an administrator sets to bind a TelephonyAccount to another Twilio account: its
/// value is the new Account SID (`AC…`) the credentials now reach. Numbers bought in the old
/// account stay there and are not released through the new one.
pub const ACCOUNT_CHANGE_APPROVED_ANNOTATION: &str = "telephony.agni.ai/account-change-approved";
/// Annotation an administrator sets on a PhoneNumber to remove it without releasing the number at
/// Twilio (for example when the account's credentials are gone for good).
pub const SKIP_RELEASE_ANNOTATION: &str = "telephony.agni.ai/skip-release";

/// Every CRD the operator serves, in installation order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        with_kubernetes_formats(TelephonyAccount::crd()),
        with_kubernetes_formats(PhoneNumber::crd()),
        with_kubernetes_formats(CreditGrant::crd()),
        with_kubernetes_formats(NumberSearchResource::crd()),
    ]
}

/// schemars names unsigned integers `format: uint16`/`uint32`, formats kube-apiserver does not
/// know (it warns `unrecognized format` on every CRD write and ignores them). The values are
/// bounded by the `minimum` schemars also writes; the format becomes the signed one that holds
/// every value (`int32` for 8/16-bit, `int64` for 32/64-bit).
fn with_kubernetes_formats(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(format)) = map.get_mut("format") {
                    match format.as_str() {
                        "uint8" | "uint16" => *format = "int32".into(),
                        "uint32" | "uint64" => *format = "int64".into(),
                        _ => {}
                    }
                }
                map.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::to_value(&crd) else {
        return crd;
    };
    walk(&mut value);
    serde_json::from_value(value).unwrap_or(crd)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A new object has no status until the operator writes one, and kstatus calls an object
    /// without status Current. The schema defaults `status` to `{}` and its `observedGeneration`
    /// to -1, which the API server applies on every read, so a new object reads as in progress
    /// (generation 1, observed -1) until the first reconcile.
    #[test]
    fn status_defaults_to_an_unobserved_generation() {
        // Every kind the operator reports on (CreditGrant is the platform's input: no status).
        let reported = crds().into_iter().filter(|crd| {
            crd.spec.versions[0]
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some())
        });
        for crd in reported {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let status = crd.spec.versions[0]
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .and_then(|s| s.properties.as_ref())
                .and_then(|p| p.get("status"))
                .unwrap_or_else(|| panic!("{name}: no status schema"));
            assert_eq!(
                status.default.as_ref().map(|d| &d.0),
                Some(&serde_json::json!({})),
                "{name}: status defaults to {{}}"
            );
            let observed = status
                .properties
                .as_ref()
                .and_then(|p| p.get("observedGeneration"))
                .unwrap_or_else(|| panic!("{name}: no status.observedGeneration"));
            assert_eq!(
                observed.default.as_ref().map(|d| &d.0),
                Some(&serde_json::json!(-1)),
                "{name}: observedGeneration defaults to -1"
            );
        }
    }
}
