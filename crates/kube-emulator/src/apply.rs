//! Server-side apply, approximated (notes §4):
//!
//! - `fieldManager` is required; the body may be JSON or YAML; `apiVersion`/`kind` must match the
//!   endpoint; `metadata` may be absent (name/namespace come from the URL, as kube-rs's
//!   `patch_status` needs).
//! - Ownership is tracked per object, per (manager, subresource) as a set of owned paths
//!   (`ssa_paths`): maps are descended; items of `x-kubernetes-list-type: map` lists (and
//!   `metadata.ownerReferences`, keyed by uid) and values of `set` lists (and
//!   `metadata.finalizers`) are owned one by one, an item as a whole; other lists are atomic.
//! - An apply removes the leaves its manager applied last time but omits now, unless another
//!   manager also owns them; then the body is merged into the live object (maps merge, `null`
//!   deletes, map-list items replace the item with the same keys, sets union, other lists and
//!   scalars replace).
//! - Conflicts: a leaf whose value changes and that another manager owns → 409 Conflict with
//!   `FieldManagerConflict` causes, unless `force=true`, which moves ownership.
//! - Non-apply writes (create, update, patch) claim the leaves they changed for their
//!   `fieldManager` (default `unknown`), taking them from other managers.
//! - `managedFields` are not returned in objects.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceInfo;
use crate::ssa_paths as paths;
use crate::store::State;

/// Owned paths a body sets (top-level identity fields excluded); see `ssa_paths`.
pub fn leaves(body: &Value, res: &ResourceInfo, status_only: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(m) = body.as_object() else {
        return out;
    };
    let schema = Some(&res.raw_schema);
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                if status_only {
                    continue;
                }
                for mk in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    if let Some(x) = v.get(mk) {
                        paths::collect(x, None, &format!("/metadata/{mk}"), &mut out);
                    }
                }
            }
            "status" if res.has_status && !status_only => {}
            _ if status_only && k != "status" => {}
            _ => {
                let child = schema
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.get(k));
                paths::collect(
                    v,
                    child,
                    &format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                    &mut out,
                )
            }
        }
    }
    out
}

fn sub_key(status_only: bool) -> String {
    if status_only {
        "status".into()
    } else {
        String::new()
    }
}

/// Compute the applied object (endpoint view) and the leaves this apply owns.
#[allow(clippy::too_many_arguments)]
pub fn compute(
    st: &State,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    live: Option<&Value>,
    body: &Value,
    manager: &str,
    force: bool,
    status_only: bool,
) -> Result<(Value, BTreeSet<String>), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the apply patch must be an object",
        ));
    }
    let av = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    if av.is_empty() || kind.is_empty() {
        // an apply configuration must say what it is (Go's `GroupVersionKind.String()`)
        let (g, v) = av.rsplit_once('/').unwrap_or(("", av));
        return Err(ApiError::bad_request(format!(
            "invalid object type: {g}/{v}, Kind={kind}"
        )));
    }
    crate::write::check_gvk(res, body, false)?;
    if let Some(b) = body.pointer("/metadata/name").and_then(Value::as_str)
        && b != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({b}) does not match the name on the URL ({name})"
        )));
    }
    let new_paths = leaves(body, res, status_only);
    let okey = (res.store_key.clone(), ns.to_string(), name.to_string());
    let sub = sub_key(status_only);
    let owners = st.managers.get(&okey);
    let mut result = live.cloned().unwrap_or_else(|| json!({"metadata": {}}));
    if let (Some(owners), Some(live)) = (owners, live) {
        if !force {
            let mut conflicts = Vec::new();
            for p in &new_paths {
                let (lv, bv) = (paths::value_at(live, p), paths::value_at(body, p));
                if lv.is_none() || lv == bv {
                    continue;
                }
                for ((m, s), paths) in owners {
                    if m != manager && *s == sub && paths.contains(p) {
                        conflicts.push((m.clone(), p.clone()));
                    }
                }
            }
            if !conflicts.is_empty() {
                return Err(conflict_error(res, name, &conflicts));
            }
        }
        if let Some(prev) = owners.get(&(manager.to_string(), sub.clone())) {
            for p in prev.difference(&new_paths) {
                let others = owners
                    .iter()
                    .any(|((m, s), ps)| (m != manager || *s != sub) && ps.contains(p));
                if !others {
                    paths::remove(&mut result, p);
                }
            }
        }
    }
    let mut merged_body = body.clone();
    if let Some(m) = merged_body.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            meta.remove("name");
            meta.remove("namespace");
        }
    }
    if status_only {
        let status = merged_body.get("status").cloned().unwrap_or(Value::Null);
        merged_body = json!({ "status": status });
    }
    paths::merge(&mut result, &merged_body, Some(&res.raw_schema), "");
    if !result.get("metadata").is_some_and(Value::is_object) {
        result["metadata"] = Value::Object(Map::new());
    }
    if let Some(rv) = body.pointer("/metadata/resourceVersion") {
        result["metadata"]["resourceVersion"] = rv.clone();
    }
    Ok((result, new_paths))
}

fn conflict_error(res: &ResourceInfo, name: &str, conflicts: &[(String, String)]) -> ApiError {
    let field = |p: &str| p.replace('/', ".");
    let msgs: Vec<String> = conflicts
        .iter()
        .map(|(m, p)| format!("conflict with \"{m}\": {}", field(p)))
        .collect();
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, p)| json!({"reason":"FieldManagerConflict","message": format!("conflict with \"{m}\""),"field": field(p)}))
        .collect();
    let n = conflicts.len();
    let mut e = ApiError::new(
        409,
        "Conflict",
        format!(
            "Apply failed with {n} conflict{}: {}",
            if n == 1 { "" } else { "s" },
            msgs.join("\n")
        ),
    );
    e.details =
        Some(json!({"name": name, "group": res.group, "kind": res.plural, "causes": causes}));
    e
}

/// The annotation kubectl's client-side apply keeps (an owned path).
pub const LAST_APPLIED_PATH: &str =
    "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// kubectl's client-side → server-side apply migration (`csaupgrade`) needs `managedFields`,
/// which the emulator does not return; do its effect here: the `kubectl` manager inherits what
/// `kubectl-client-side-apply` owned, except the last-applied annotation, which kubectl hands
/// to its own `kubectl-last-applied` manager (so the server-side apply keeps it).
pub fn migrate_csa(st: &mut State, res: &ResourceInfo, ns: &str, name: &str, manager: &str) {
    if manager != "kubectl" {
        return;
    }
    let okey = (res.store_key.clone(), ns.to_string(), name.to_string());
    if let Some(owners) = st.managers.get_mut(&okey)
        && let Some(mut csa) =
            owners.remove(&("kubectl-client-side-apply".to_string(), String::new()))
    {
        if csa.remove(LAST_APPLIED_PATH) {
            owners
                .entry(("kubectl-last-applied".to_string(), String::new()))
                .or_default()
                .insert(LAST_APPLIED_PATH.to_string());
        }
        owners
            .entry((manager.to_string(), String::new()))
            .or_default()
            .extend(csa);
    }
}

/// kube-apiserver's `lastAppliedUpdater`: after a server-side apply by manager `kubectl`, an
/// object that carries the client-side last-applied annotation gets it set to the applied
/// configuration (the body without that annotation, as compact JSON with a newline).
pub fn sync_last_applied(result: &mut Value, body: &Value, manager: &str) {
    let has = result
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        .is_some_and(|v| !v.is_empty());
    if manager != "kubectl" || !has {
        return;
    }
    let mut applied = body.clone();
    if let Some(annots) = applied
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annots.remove(LAST_APPLIED);
        if annots.is_empty()
            && let Some(meta) = applied["metadata"].as_object_mut()
        {
            meta.remove("annotations");
        }
    }
    result["metadata"]["annotations"][LAST_APPLIED] = Value::String(format!("{applied}\n"));
}

/// After a successful apply: the manager now owns exactly `paths`; with `force`, others lose them.
#[allow(clippy::too_many_arguments)]
pub fn record(
    st: &mut State,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    manager: &str,
    status_only: bool,
    paths: BTreeSet<String>,
    force: bool,
) {
    let okey = (res.store_key.clone(), ns.to_string(), name.to_string());
    if st.get(&res.store_key, ns, name).is_none() {
        return;
    }
    let sub = sub_key(status_only);
    let owners = st.managers.entry(okey).or_default();
    if force {
        for ((m, s), ps) in owners.iter_mut() {
            if m != manager && *s == sub {
                ps.retain(|p| !paths.contains(p));
            }
        }
    }
    owners.insert((manager.to_string(), sub), paths);
    owners.retain(|_, ps| !ps.is_empty());
}

/// A non-apply write: `manager` claims the leaves that changed.
#[allow(clippy::too_many_arguments)]
pub fn claim(
    st: &mut State,
    res: &ResourceInfo,
    ns: &str,
    name: &str,
    manager: &str,
    old: Option<&Value>,
    new: &Value,
    status_only: bool,
) {
    if st.get(&res.store_key, ns, name).is_none() {
        return;
    }
    let new_leaves = leaves(new, res, status_only);
    let changed: BTreeSet<String> = match old {
        None => new_leaves,
        Some(o) => new_leaves
            .into_iter()
            .filter(|p| paths::value_at(o, p) != paths::value_at(new, p))
            .collect(),
    };
    if changed.is_empty() {
        return;
    }
    let sub = sub_key(status_only);
    let owners = st
        .managers
        .entry((res.store_key.clone(), ns.to_string(), name.to_string()))
        .or_default();
    for ((m, s), ps) in owners.iter_mut() {
        if m != manager && *s == sub {
            ps.retain(|p| !changed.contains(p));
        }
    }
    owners
        .entry((manager.to_string(), sub))
        .or_default()
        .extend(changed);
    owners.retain(|_, ps| !ps.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalizers_are_a_set() {
        let mut st = State::new(10);
        let res = st.find_resource("", "v1", "configmaps").unwrap();
        let live = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default","finalizers":["other/f"]}});
        st.put(&res.store_key, "default", "c", live.clone(), None);
        let body =
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"finalizers":["mine/f"]}});
        let (out, paths) = compute(
            &st,
            &res,
            "default",
            "c",
            Some(&live),
            &body,
            "me",
            false,
            false,
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["other/f", "mine/f"]));
        record(&mut st, &res, "default", "c", "me", false, paths, false);
        let body = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{}});
        let (out, _) = compute(
            &st,
            &res,
            "default",
            "c",
            Some(&out),
            &body,
            "me",
            false,
            false,
        )
        .unwrap();
        assert_eq!(
            out["metadata"]["finalizers"],
            json!(["other/f"]),
            "only my finalizer is withdrawn"
        );
    }

    #[test]
    fn leaves_skip_identity() {
        let b = json!({"apiVersion":"v1","kind":"X","metadata":{"name":"a","labels":{"k":"v"}},"spec":{"a":1,"l":[1]},"status":{"s":1}});
        let st = State::new(10);
        let res = st.find_resource("", "v1", "namespaces").unwrap(); // has a status subresource
        let l: Vec<String> = leaves(&b, &res, false).into_iter().collect();
        assert_eq!(l, vec!["/metadata/labels/k", "/spec/a", "/spec/l"]);
        let s: Vec<String> = leaves(&b, &res, true).into_iter().collect();
        assert_eq!(s, vec!["/status/s"]);
    }
}
