//! Least privilege, both ways, judged by a real kube-apiserver's audit log.
//!
//! The real-cluster harness (`tests/real-cluster/start.sh`) runs the operator as deploy/'s
//! ServiceAccount and records every request that identity makes (audit level Metadata) in
//! `TELEPHONY_E2E_AUDIT_LOG`. After the other real-cluster suites have run, this test checks:
//! - **enough**: no request of the operator was denied (HTTP 403) — so every scenario passed on
//!   deploy/'s RBAC alone, not on an admin's rights;
//! - **no more**: every (API group, resource, verb) that `deploy/base/rbac.yaml` grants the operator
//!   was used by it at least once with success. A grant nothing uses must go; removing one that
//!   is used turns that request into a 403, which the first check would catch.
//!
//! Skipped (with a message) without the audit log, i.e. outside the real-cluster suite.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const RBAC: &str = include_str!("../deploy/base/rbac.yaml");
const OPERATOR: &str = "system:serviceaccount:telephony-system:telephony-operator";

/// One permission: API group, resource (with `/subresource`), verb, and the namespace a Role
/// limits it to (`None` for a ClusterRole).
type Grant = (String, String, String, Option<String>);

/// Every permission deploy/base/rbac.yaml gives the operator's ServiceAccount.
fn granted() -> BTreeSet<Grant> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(RBAC).expect("deploy/base/rbac.yaml parses");
    let bound_roles: BTreeSet<(String, String, Option<String>)> = docs
        .iter()
        .filter(|d| d["kind"] == "ClusterRoleBinding" || d["kind"] == "RoleBinding")
        .filter(|d| {
            d["subjects"].as_array().is_some_and(|subjects| {
                subjects.iter().any(|s| {
                    s["kind"] == "ServiceAccount"
                        && s["name"] == "telephony-operator"
                        && s["namespace"] == "telephony-system"
                })
            })
        })
        .map(|d| {
            let ns = (d["kind"] == "RoleBinding").then(|| {
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            });
            (
                d["roleRef"]["kind"].as_str().unwrap_or("").to_string(),
                d["roleRef"]["name"].as_str().unwrap_or("").to_string(),
                ns,
            )
        })
        .collect();
    assert!(
        !bound_roles.is_empty(),
        "deploy/base/rbac.yaml binds nothing to the operator's ServiceAccount"
    );
    let mut grants = BTreeSet::new();
    for (kind, name, ns) in &bound_roles {
        let role = docs
            .iter()
            .find(|d| d["kind"] == kind.as_str() && d["metadata"]["name"] == name.as_str())
            .unwrap_or_else(|| {
                panic!("deploy/base/rbac.yaml binds {kind} {name}, which it does not define")
            });
        for rule in role["rules"].as_array().into_iter().flatten() {
            let strings = |key: &str| -> Vec<String> {
                rule[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            };
            assert!(
                rule.get("resourceNames").is_none(),
                "resourceNames are not checked here yet: {rule}"
            );
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        assert!(
                            group != "*" && resource != "*" && verb != "*",
                            "wildcards are not least privilege: {rule}"
                        );
                        grants.insert((group.clone(), resource.clone(), verb, ns.clone()));
                    }
                }
            }
        }
    }
    grants
}

/// One request the operator made, as the audit log records it.
#[derive(Debug)]
struct Request {
    group: String,
    resource: String,
    verb: String,
    namespace: Option<String>,
    code: u16,
    uri: String,
}

fn requests(log: &str) -> Vec<Request> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["user"]["username"] == OPERATOR)
        .filter(|e| e["stage"] == "ResponseComplete" || e["stage"] == "Panic")
        .filter_map(|e| {
            let obj = e.get("objectRef")?;
            let mut resource = obj["resource"].as_str()?.to_string();
            if let Some(sub) = obj["subresource"].as_str() {
                resource = format!("{resource}/{sub}");
            }
            Some(Request {
                group: obj["apiGroup"].as_str().unwrap_or("").to_string(),
                resource,
                verb: e["verb"].as_str().unwrap_or("").to_string(),
                namespace: obj["namespace"].as_str().map(str::to_string),
                code: e["responseStatus"]["code"].as_u64().unwrap_or(0) as u16,
                uri: e["requestURI"].as_str().unwrap_or("").to_string(),
            })
        })
        .collect()
}

fn allows(grant: &Grant, r: &Request) -> bool {
    let (group, resource, verb, ns) = grant;
    *group == r.group
        && *resource == r.resource
        && *verb == r.verb
        && ns
            .as_ref()
            .is_none_or(|ns| r.namespace.as_deref() == Some(ns))
}

#[test]
fn the_operator_uses_every_grant_of_deploy_rbac_and_is_never_denied() {
    let Some(path) = std::env::var_os("TELEPHONY_E2E_AUDIT_LOG").filter(|p| !p.is_empty()) else {
        eprintln!(
            "skipped: TELEPHONY_E2E_AUDIT_LOG is not set (the real-cluster suite sets it: tests/real-cluster/run-suite.sh)"
        );
        return;
    };
    let log = std::fs::read_to_string(&path).expect("read the audit log");
    let requests = requests(&log);
    assert!(
        requests.len() > 50,
        "the audit log holds only {} requests of {OPERATOR}: did the e2e scenarios run as the operator's ServiceAccount?",
        requests.len()
    );

    let denied: BTreeSet<String> = requests
        .iter()
        .filter(|r| r.code == 403)
        .map(|r| format!("{} {} (group {:?}) {}", r.verb, r.resource, r.group, r.uri))
        .collect();
    assert!(
        denied.is_empty(),
        "deploy/base/rbac.yaml is not enough: the operator was denied\n  {}",
        denied.into_iter().collect::<Vec<_>>().join("\n  ")
    );

    let grants = granted();
    let mut used: BTreeMap<&Grant, usize> = grants.iter().map(|g| (g, 0)).collect();
    for r in requests
        .iter()
        .filter(|r| r.code < 400 || r.code == 404 || r.code == 409)
    {
        for g in &grants {
            if allows(g, r) {
                *used.entry(g).or_default() += 1;
            }
        }
    }
    let unused: Vec<String> = used
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|((group, resource, verb, ns), _)| {
            format!(
                "{verb} {resource} (group {group:?}{})",
                ns.as_ref()
                    .map(|n| format!(", namespace {n}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    for (g, n) in &used {
        eprintln!("used {n:>6}x: {} {} (group {:?})", g.2, g.1, g.0);
    }
    assert!(
        unused.is_empty(),
        "deploy/base/rbac.yaml grants the operator more than it uses; remove these or add the scenario that needs them:\n  {}",
        unused.join("\n  ")
    );
}
