//! `deploy/base/admission-policy.yaml`, the file under test: the names it uses (annotations,
//! policies), its documents, and its validations as `kube_cel` VAP expressions. Shared by the
//! offline checks and the real-server ones.

use kube_cel::VapExpression;
use serde_json::{Value, json};

const POLICY: &str = include_str!("../../deploy/base/admission-policy.yaml");
pub const ANNOTATION: &str = "telephony.agni.ai/mode-change-approved";
pub const SKIP_RELEASE: &str = "telephony.agni.ai/skip-release";
pub const MODE_LOCK_POLICY: &str = "telephonyaccount-mode-lock.telephony.agni.ai";
pub const SKIP_RELEASE_POLICY: &str = "telephony-skip-release.telephony.agni.ai";
pub const ACCOUNT_CHANGE: &str = "telephony.agni.ai/account-change-approved";
pub const CREDIT_GRANTS_POLICY: &str = "telephony-credit-grants.telephony.agni.ai";

pub fn documents() -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(POLICY).expect("deploy/base/admission-policy.yaml parses")
}

fn doc(kind: &str) -> Value {
    documents()
        .into_iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/base/admission-policy.yaml"))
}

pub fn named(kind: &str, name: &str) -> Value {
    documents()
        .into_iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/base/admission-policy.yaml"))
}

/// kube-cel 0.8 escapes EVERY map key of the bound objects the way Kubernetes escapes schema
/// property names (`.` → `__dot__`, `/` → `__slash__`, `-` → `__dash__`), including the keys of
/// `metadata.annotations`, which the API server leaves as they are (it indexes them with
/// `annotations['telephony.agni.ai/mode-change-approved']`). The policy file keeps the API
/// server's form; only here, for the offline evaluator, the quoted keys are rewritten to their
/// escaped form.
fn for_kube_cel(expression: &str) -> String {
    let mut out = expression.to_string();
    for key in [ANNOTATION, SKIP_RELEASE, ACCOUNT_CHANGE] {
        let escaped = key
            .replace('-', "__dash__")
            .replace('.', "__dot__")
            .replace('/', "__slash__");
        out = out.replace(&format!("'{key}'"), &format!("'{escaped}'"));
    }
    out
}

pub fn expressions_of(policy_name: &str) -> Vec<VapExpression> {
    let policy = named("ValidatingAdmissionPolicy", policy_name);
    policy["spec"]["validations"]
        .as_array()
        .expect("validations")
        .iter()
        .map(|v| {
            serde_json::from_value::<VapExpression>(json!({
                "expression": for_kube_cel(v["expression"].as_str().expect("expression")),
                "message": v["message"].as_str(),
                "messageExpression": v["messageExpression"].as_str(),
            }))
            .expect("a VAP validation")
        })
        .collect()
}

pub fn expressions() -> Vec<VapExpression> {
    expressions_of(MODE_LOCK_POLICY)
}

/// The parameter ConfigMap shipped with the policy.
pub fn params() -> Value {
    doc("ConfigMap")
}
