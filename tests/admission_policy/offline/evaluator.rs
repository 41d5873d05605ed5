//! The offline evaluator: admission requests from an admin or a non-admin, the objects they
//! write, and the denial messages the policies' validations give for them.

use crate::policy::{
    ANNOTATION, SKIP_RELEASE, SKIP_RELEASE_POLICY, expressions, expressions_of, params,
};
use kube_cel::{AdmissionRequest, VapEvaluator};
use serde_json::{Value, json};

pub fn account(mode: &str, locked: Option<&str>, approved: Option<&str>) -> Value {
    let mut obj = json!({
        "apiVersion": "telephony.agni.ai/v1alpha1",
        "kind": "TelephonyAccount",
        "metadata": {"name": "main", "namespace": "team-a"},
        "spec": {"mode": mode, "friendlyName": "acme"},
    });
    if let Some(v) = approved {
        obj["metadata"]["annotations"] = json!({ ANNOTATION: v });
    }
    if let Some(m) = locked {
        obj["status"] = json!({"mode": m});
    }
    obj
}

pub fn request(op: &str, groups: &[&str]) -> AdmissionRequest {
    let user = if groups.contains(&"telephony-admins") {
        "alice"
    } else {
        "bob"
    };
    serde_json::from_value(json!({
        "operation": op, "username": user, "uid": "u-1", "groups": groups,
        "name": "main", "namespace": "team-a", "dryRun": false,
        "kind": {"group": "telephony.agni.ai", "version": "v1alpha1", "kind": "TelephonyAccount"},
        "resource": {"group": "telephony.agni.ai", "version": "v1alpha1", "resource": "telephonyaccounts"},
    }))
    .expect("an admission request")
}

pub const ADMIN: &[&str] = &["system:authenticated", "telephony-admins"];
pub const USER: &[&str] = &["system:authenticated", "team-a-devs"];

/// Denial messages (empty = admitted).
pub fn admit(op: &str, groups: &[&str], old: Option<Value>, new: Value) -> Vec<String> {
    let mut b = VapEvaluator::builder()
        .object(new)
        .request(request(op, groups))
        .params(params());
    if let Some(old) = old {
        b = b.old_object(old);
    }
    let results = b.build().evaluate(&expressions());
    assert_eq!(results.len(), 3);
    results
        .into_iter()
        .filter(|r| !r.passed)
        .map(|r| r.message.unwrap_or_default())
        .collect()
}

/// Denial messages of the skip-release policy for one request (empty = admitted).
pub fn admit_skip_release(
    op: &str,
    groups: &[&str],
    old: Option<Value>,
    new: Value,
) -> Vec<String> {
    let mut b = VapEvaluator::builder()
        .object(new)
        .request(request(op, groups))
        .params(params());
    if let Some(old) = old {
        b = b.old_object(old);
    }
    let results = b.build().evaluate(&expressions_of(SKIP_RELEASE_POLICY));
    assert_eq!(results.len(), 1);
    results
        .into_iter()
        .filter(|r| !r.passed)
        .map(|r| r.message.unwrap_or_default())
        .collect()
}

pub fn phone_number(skip_release: Option<&str>) -> Value {
    let mut obj = json!({
        "apiVersion": "telephony.agni.ai/v1alpha1",
        "kind": "PhoneNumber",
        "metadata": {"name": "n1", "namespace": "team-a"},
        "spec": {"accountRef": {"name": "main"}, "number": "+15005550006"},
    });
    if let Some(v) = skip_release {
        obj["metadata"]["annotations"] = json!({ SKIP_RELEASE: v, "other": "x" });
    }
    obj
}

/// Denial messages of the credit-grants policy for one request on a CreditGrant (empty =
/// admitted). `object` is the grant (`None` for a DELETE).
pub fn admit_credit_grant(op: &str, groups: &[&str], object: Option<Value>) -> Vec<String> {
    let mut req = serde_json::to_value(request(op, groups)).expect("request");
    req["kind"] =
        json!({"group": "telephony.agni.ai", "version": "v1alpha1", "kind": "CreditGrant"});
    req["resource"] =
        json!({"group": "telephony.agni.ai", "version": "v1alpha1", "resource": "creditgrants"});
    req["name"] = json!("team-a.main");
    req["namespace"] = json!("");
    let mut b = VapEvaluator::builder()
        .request(serde_json::from_value(req).expect("request"))
        .params(params());
    if let Some(o) = object {
        b = b.object(o);
    }
    let results = b
        .build()
        .evaluate(&expressions_of(crate::policy::CREDIT_GRANTS_POLICY));
    assert_eq!(results.len(), 1);
    results
        .into_iter()
        .filter(|r| !r.passed)
        .map(|r| r.message.unwrap_or_default())
        .collect()
}

pub fn credit_grant(per_cycle: &str) -> Value {
    json!({
        "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "CreditGrant",
        "metadata": {"name": "team-a.main"},
        "spec": {"credits": {"perCycle": per_cycle, "currency": "USD"}},
    })
}
