//! `/version` and API discovery, legacy (`APIVersions`, `APIGroupList`, `APIResourceList`) and
//! aggregated (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`, chosen by the Accept header).

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceInfo;
use crate::server::{Req, Shared, json_response, with_content_type};

const AGGREGATED_CT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The `/version` answer: kube-apiserver v1.37.2's fields (including the compatibility-version
/// ones that 1.31+ report), `gitVersion` carrying `+kube-emulator` build metadata so that
/// `kubectl version` tells the two apart (semver ignores build metadata, so clients comparing
/// versions see 1.37.2).
pub fn version() -> Response {
    json_response(
        200,
        &json!({"major": crate::KUBERNETES_MAJOR, "minor": crate::KUBERNETES_MINOR,
            "emulationMajor": crate::KUBERNETES_MAJOR, "emulationMinor": crate::KUBERNETES_MINOR,
            "minCompatibilityMajor": crate::KUBERNETES_MAJOR, "minCompatibilityMinor": crate::KUBERNETES_MIN_COMPATIBILITY_MINOR,
            "gitVersion": format!("{}+kube-emulator", crate::KUBERNETES_VERSION),
            "gitCommit":"0000000000000000000000000000000000000000",
            "gitTreeState":"clean","buildDate":"1970-01-01T00:00:00Z","goVersion":"go1.26.8","compiler":"gc","platform":"linux/amd64"}),
        &[],
    )
}

fn wants_aggregated(req: &Req) -> bool {
    req.accept()
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=APIGroupDiscoveryList") && first.contains("v=v2"))
        || (req.accept().contains("as=APIGroupDiscoveryList") && req.accept().contains("v=v2;"))
}

/// Kubernetes version priority: GA before beta before alpha, higher numbers first, then
/// anything else alphabetically (`v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > foo`).
fn version_key(v: &str) -> (u8, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>, String) {
    let parse = || -> Option<(u8, u64, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u64 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((0, major, 0));
        }
        let (class, n) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else {
            (2, tail.strip_prefix("alpha")?)
        };
        Some((class, major, n.parse().ok()?))
    };
    match parse() {
        Some((c, a, b)) => (c, std::cmp::Reverse(a), std::cmp::Reverse(b), String::new()),
        None => (3, std::cmp::Reverse(0), std::cmp::Reverse(0), v.to_string()),
    }
}

/// Served groups (excluding core) with versions in priority order (preferred first).
fn groups(resources: &[Arc<ResourceInfo>]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, vs)) => {
                if !vs.contains(&r.version) {
                    vs.push(r.version.clone());
                }
            }
            None => out.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    for (_, vs) in &mut out {
        vs.sort_by_key(|v| version_key(v));
    }
    out
}

fn agg_resource(r: &ResourceInfo) -> Value {
    let rk = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let mut v = json!({
        "resource": r.plural, "singularResource": r.singular,
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "responseKind": rk, "verbs": r.verbs(),
    });
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    if r.has_status {
        v["subresources"] =
            json!([{"subresource":"status","responseKind": rk,"verbs":["get","patch","update"]}]);
    }
    v
}

fn agg_group(resources: &[Arc<ResourceInfo>], group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| {
            // aggregated discovery lists resources by name
            let mut rs: Vec<&Arc<ResourceInfo>> = resources
                .iter()
                .filter(|r| r.group == group && r.version == *v)
                .collect();
            rs.sort_by(|a, b| a.plural.cmp(&b.plural));
            let rs: Vec<Value> = rs.into_iter().map(|r| agg_resource(r)).collect();
            json!({"version": v, "freshness": "Current", "resources": rs})
        })
        .collect();
    json!({"metadata": {"name": group}, "versions": vs})
}

fn aggregated(items: Vec<Value>) -> Response {
    let body = json!({"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items": items});
    with_content_type(json_response(200, &body, &[]), AGGREGATED_CT)
}

pub fn core_versions(shared: &Shared, req: &Req) -> Response {
    if wants_aggregated(req) {
        let st = shared.lock();
        return aggregated(vec![agg_group(&st.resources, "", &["v1".to_string()])]);
    }
    json_response(
        200,
        &json!({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress": shared.addr.to_string()}]}),
        &[],
    )
}

fn group_json(g: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({"name": g, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

pub fn group_list(shared: &Shared, req: &Req) -> Response {
    let st = shared.lock();
    let gs = groups(&st.resources);
    if wants_aggregated(req) {
        return aggregated(
            gs.iter()
                .map(|(g, vs)| agg_group(&st.resources, g, vs))
                .collect(),
        );
    }
    let items: Vec<Value> = gs.iter().map(|(g, vs)| group_json(g, vs)).collect();
    json_response(
        200,
        &json!({"kind":"APIGroupList","apiVersion":"v1","groups": items}),
        &[],
    )
}

pub fn group(shared: &Shared, g: &str) -> Result<Response, ApiError> {
    let st = shared.lock();
    let gs = groups(&st.resources);
    let (name, vs) = gs
        .iter()
        .find(|(n, _)| n == g)
        .ok_or_else(|| crate::server::not_found_in_group(g))?;
    let mut body = group_json(name, vs);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(json_response(200, &body, &[]))
}

pub fn resource_list(shared: &Shared, g: &str, v: &str) -> Result<Response, ApiError> {
    let st = shared.lock();
    let rs: Vec<&Arc<ResourceInfo>> = st
        .resources
        .iter()
        .filter(|r| r.group == g && r.version == v)
        .collect();
    if rs.is_empty() {
        return Err(crate::server::not_found_in_group(g));
    }
    let mut items = Vec::new();
    for r in rs {
        let mut item = json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": r.verbs(), "storageVersionHash": r.storage_version_hash});
        if !r.short_names.is_empty() {
            item["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            item["categories"] = json!(r.categories);
        }
        items.push(item);
        if r.has_status {
            items.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced,
                "kind": r.kind, "verbs": ["get","patch","update"]}));
        }
    }
    let gv = if g.is_empty() {
        v.to_string()
    } else {
        format!("{g}/{v}")
    };
    Ok(json_response(
        200,
        &json!({"kind":"APIResourceList","apiVersion":"v1","groupVersion": gv,"resources": items}),
        &[],
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_priority() {
        let mut vs = vec!["v1alpha1", "foo", "v1", "v1beta2", "v2", "v1beta1"];
        vs.sort_by_key(|v| super::version_key(v));
        assert_eq!(vs, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }
}
