//! DELETE: DeleteOptions (preconditions, propagationPolicy, dryRun), finalizers and
//! deletionTimestamp, removal with a single DELETED event, the small owner-reference garbage
//! collector, CRD cleanup and namespace termination.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::response::Response;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceInfo;
use crate::server::{Req, Shared, Target, json_response};
use crate::store::{State, now_time};

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Propagation {
    #[default]
    Background,
    Orphan,
}

struct DeleteOpts {
    uid: Option<String>,
    rv: Option<String>,
    propagation: Propagation,
    dry_run: bool,
}

fn parse_opts(req: &Req) -> Result<DeleteOpts, ApiError> {
    let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let policy = body["propagationPolicy"]
        .as_str()
        .or(req.q("propagationPolicy"));
    let dry = body["dryRun"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == "All"))
        || req.q("dryRun") == Some("All");
    Ok(DeleteOpts {
        uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        rv: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        propagation: if policy == Some("Orphan") {
            Propagation::Orphan
        } else {
            Propagation::Background
        },
        dry_run: dry,
    })
}

pub fn res_for_key(st: &State, key: &str) -> Option<Arc<ResourceInfo>> {
    st.resources
        .iter()
        .find(|r| r.store_key == key && !r.is_events_v1())
        .cloned()
}

/// Remove an object now (DELETED event), then run the follow-ups: CRD cleanup, garbage
/// collection of dependents, namespace completion.
pub fn remove_now(st: &mut State, res: &ResourceInfo, ns: &str, name: &str) -> Option<Arc<Value>> {
    let removed = st.remove(&res.store_key, ns, name)?;
    if res.store_key == crate::crd::CRD_KEY {
        crate::crd::unregister(st, &removed);
    }
    if let Some(uid) = removed.pointer("/metadata/uid").and_then(Value::as_str) {
        gc_dependents(st, uid, Propagation::Background);
    }
    if res.namespaced {
        finish_namespace_if_empty(st, ns);
    }
    if res.plural == "namespaces" && res.group.is_empty() {
        // Contents were deleted when termination started.
    }
    Some(removed)
}

fn gc_dependents(st: &mut State, uid: &str, policy: Propagation) {
    let deps = st.owner_index.remove(uid).unwrap_or_default();
    for (key, ns, name) in deps {
        let Some(obj) = st.get(&key, &ns, &name) else {
            continue;
        };
        let refs = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !refs.iter().any(|r| r["uid"] == uid) {
            continue;
        }
        let Some(res) = res_for_key(st, &key) else {
            continue;
        };
        let remaining: Vec<Value> = refs.into_iter().filter(|r| r["uid"] != uid).collect();
        if policy == Propagation::Orphan || !remaining.is_empty() {
            let mut o = (*obj).clone();
            if remaining.is_empty() {
                if let Some(m) = o["metadata"].as_object_mut() {
                    m.remove("ownerReferences");
                }
            } else {
                o["metadata"]["ownerReferences"] = json!(remaining);
            }
            st.put(&key, &ns, &name, o, Some(obj));
        } else {
            start_delete(st, &res, &ns, &name, obj, Propagation::Background);
        }
    }
}

fn finish_namespace_if_empty(st: &mut State, ns: &str) {
    let Some(nso) = st.get("namespaces", "", ns) else {
        return;
    };
    if nso.pointer("/metadata/deletionTimestamp").is_none() {
        return;
    }
    let empty = st
        .objects
        .iter()
        .all(|(k, m)| k == "namespaces" || !m.keys().any(|(n, _)| n == ns));
    if empty {
        st.remove("namespaces", "", ns);
    }
}

/// Begin deletion of a stored object; returns the object state to answer with and whether it
/// was removed.
fn start_delete(
    st: &mut State,
    res: &Arc<ResourceInfo>,
    ns: &str,
    name: &str,
    obj: Arc<Value>,
    policy: Propagation,
) -> (Arc<Value>, bool) {
    let is_namespace = res.plural == "namespaces" && res.group.is_empty();
    let has_finalizers = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_finalizers && !is_namespace {
        if policy == Propagation::Orphan
            && let Some(uid) = obj.pointer("/metadata/uid").and_then(Value::as_str)
        {
            gc_dependents(st, uid, Propagation::Orphan);
        }
        let removed = remove_now(st, res, ns, name).unwrap_or(obj);
        return (removed, true);
    }
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return (obj, false);
    }
    let mut o = (*obj).clone();
    o["metadata"]["deletionTimestamp"] = json!(now_time());
    o["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    if res.generation
        && let Some(g) = o.pointer("/metadata/generation").and_then(Value::as_i64)
        && g > 0
    {
        o["metadata"]["generation"] = json!(g + 1);
    }
    if is_namespace {
        o["status"] = json!({"phase": "Terminating"});
        let stored = st.put(&res.store_key, ns, name, o, Some(obj));
        let keys: Vec<(String, String)> = st
            .objects
            .iter()
            .filter(|(k, _)| k.as_str() != "namespaces")
            .flat_map(|(k, m)| {
                m.keys()
                    .filter(|(n, _)| n == name)
                    .map(|(_, nm)| (k.clone(), nm.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (k, nm) in keys {
            if let (Some(r), Some(cur)) = (res_for_key(st, &k), st.get(&k, name, &nm)) {
                start_delete(st, &r, name, &nm, cur, Propagation::Background);
            }
        }
        finish_namespace_if_empty(st, name);
        let gone = st.get("namespaces", "", name).is_none();
        return (stored, gone);
    }
    let stored = st.put(&res.store_key, ns, name, o, Some(obj));
    (stored, false)
}

fn success_status(res: &ResourceInfo, name: &str, uid: &Value) -> Value {
    json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",
        "details":{"name": name, "group": res.group, "kind": res.plural, "uid": uid}})
}

pub fn delete_one(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let name = t.name.as_deref().unwrap_or("");
    let ns = t.ns_key().to_string();
    let opts = parse_opts(req)?;
    let mut st = shared.lock();
    let obj = st
        .get(&res.store_key, &ns, name)
        .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
    if shared.faults.take_conflict() {
        return Err(ApiError::conflict(&res.group, &res.plural, name));
    }
    if let Some(u) = &opts.uid
        && obj.pointer("/metadata/uid").and_then(Value::as_str) != Some(u)
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Precondition failed: UID in precondition: {u}, UID in object meta: {}",
                obj["metadata"]["uid"]
            ),
        ));
    }
    if let Some(rv) = &opts.rv
        && obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            != Some(rv)
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                obj["metadata"]["resourceVersion"]
            ),
        ));
    }
    if opts.dry_run {
        return Ok(json_response(200, &res.to_view(&obj), &[]));
    }
    shared.counters.deletes.fetch_add(1, Ordering::Relaxed);
    shared.counters.count_write(res);
    let (out, removed) = start_delete(&mut st, res, &ns, name, obj, opts.propagation);
    shared.notify(st.rv);
    drop(st);
    if removed && res.custom {
        return Ok(json_response(
            200,
            &success_status(res, name, &out["metadata"]["uid"]),
            &[],
        ));
    }
    Ok(json_response(200, &res.to_view(&out), &[]))
}

pub fn delete_collection(
    shared: &Arc<Shared>,
    req: &Req,
    t: &Target,
) -> Result<Response, ApiError> {
    let res = &t.res;
    let opts = parse_opts(req)?;
    let (labels, fields) = crate::crud::selectors(req, res)?;
    let mut st = shared.lock();
    let targets: Vec<((String, String), Arc<Value>)> = st
        .select(&res.store_key, t.ns.as_deref(), &labels, &fields)
        .into_iter()
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    if !opts.dry_run {
        for ((ns, name), obj) in targets {
            shared.counters.deletes.fetch_add(1, Ordering::Relaxed);
            shared.counters.count_write(res);
            start_delete(&mut st, res, &ns, &name, obj, opts.propagation);
        }
    }
    shared.notify(st.rv);
    Ok(json_response(
        200,
        &json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"}),
        &[],
    ))
}
