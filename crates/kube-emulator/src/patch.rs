//! PATCH: merge patch (RFC 7386), JSON patch (RFC 6902, with upstream's `test` null-for-missing
//! rule), a basic strategic merge for built-ins (415 for custom resources), and dispatch of
//! server-side apply to `apply`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::response::Response;
use serde_json::{Map, Value};

use crate::errors::ApiError;
use crate::server::{Req, Shared, Target, json_response};
use crate::write::{Verb, WriteOpts, commit, field_validation};

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Merge,
    Json,
    Strategic,
    Apply,
}

/// Apply an RFC 6902 patch the way kube-apiserver's `gopkg.in/evanphx/json-patch.v4` does: a
/// `test` of a missing member whose parent exists passes iff the expected value is `null`, and
/// a `replace` of a missing object member adds it. Every failure is upstream's bare 422.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    if !ops.is_array() {
        return Err(ApiError::bad_request(format!(
            "error decoding patch: json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
            go_json_kind(ops)
        )));
    }
    let ops: Vec<json_patch::PatchOperation> =
        serde_json::from_value(ops.clone()).map_err(|_| ApiError::patch_failed())?;
    for mut op in ops {
        if let json_patch::PatchOperation::Test(t) = &op {
            let path = t.path.as_str();
            match doc.pointer(path) {
                Some(v) if *v == t.value => continue,
                None if t.value.is_null() => {
                    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                    if doc.pointer(parent).is_some_and(Value::is_object) {
                        continue;
                    }
                    return Err(ApiError::patch_failed());
                }
                _ => return Err(ApiError::patch_failed()),
            }
        }
        if let json_patch::PatchOperation::Replace(r) = &op {
            let path = r.path.as_str();
            let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            if doc.pointer(path).is_none() && doc.pointer(parent).is_some_and(Value::is_object) {
                op = json_patch::PatchOperation::Add(json_patch::AddOperation {
                    path: r.path.clone(),
                    value: r.value.clone(),
                });
            }
        }
        json_patch::patch(doc, std::slice::from_ref(&op)).map_err(|_| ApiError::patch_failed())?;
    }
    Ok(())
}

/// The JSON kind Go's `encoding/json` names in `cannot unmarshal <kind> into …`.
fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Strategic merge approximated as merge patch plus directives (notes §4).
pub fn strategic(doc: &mut Value, patch: &Value, path: &str) {
    let Value::Object(pm) = patch else {
        *doc = patch.clone();
        return;
    };
    if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
        *doc = strip_directives(patch);
        return;
    }
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    for (k, pv) in pm {
        if k.starts_with('$') {
            continue;
        }
        let child = format!("{path}/{k}");
        let Some(dm) = doc.as_object_mut() else {
            return;
        };
        match pv {
            Value::Null => {
                dm.remove(k);
            }
            Value::Object(o) if o.get("$patch").and_then(Value::as_str) == Some("delete") => {
                dm.remove(k);
            }
            Value::Array(items) if child == "/metadata/finalizers" => {
                let mut cur: Vec<Value> = dm
                    .get(k)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for it in items {
                    if !cur.contains(it) {
                        cur.push(it.clone());
                    }
                }
                dm.insert(k.clone(), Value::Array(cur));
            }
            Value::Array(items) if child == "/metadata/ownerReferences" => {
                let mut cur: Vec<Value> = dm
                    .get(k)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for it in items {
                    match cur.iter_mut().find(|c| c["uid"] == it["uid"]) {
                        Some(c) if it.get("$patch").and_then(Value::as_str) == Some("delete") => {
                            *c = Value::Null
                        }
                        Some(c) => strategic(c, it, &child),
                        None => cur.push(strip_directives(it)),
                    }
                }
                cur.retain(|c| !c.is_null());
                dm.insert(k.clone(), Value::Array(cur));
            }
            Value::Object(_) => {
                let entry = dm.entry(k.clone()).or_insert(Value::Null);
                strategic(entry, pv, &child);
            }
            other => {
                dm.insert(k.clone(), strip_directives(other));
            }
        }
    }
}

pub fn handle(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let name = t.name.as_deref().unwrap_or("");
    let ns = t.ns_key().to_string();
    let ct_full = req.content_type().to_ascii_lowercase();
    let ct = ct_full.split(';').next().unwrap_or("").trim();
    let kind = match ct {
        "application/merge-patch+json" => Kind::Merge,
        "application/json-patch+json" => Kind::Json,
        "application/strategic-merge-patch+json" if !res.custom => Kind::Strategic,
        "application/apply-patch+yaml"
        | "application/apply-patch+json"
        | "application/apply-patch+cbor" => Kind::Apply,
        "application/strategic-merge-patch+json" => {
            return Err(ApiError::unsupported_patch_type());
        }
        _ => {
            let mut e = ApiError::new(415, "UnsupportedMediaType", "415: Unsupported Media Type");
            e.details = Some(serde_json::json!({}));
            return Err(e);
        }
    };
    let force = req.q_bool("force");
    if req.q("force").is_some() && kind != Kind::Apply {
        return Err(ApiError::invalid_field(
            "meta.k8s.io",
            "PatchOptions",
            "",
            "FieldValueForbidden",
            "force",
            "Forbidden: may not be specified for non-apply patch",
        ));
    }
    let manager = req.q("fieldManager").map(String::from);
    if kind == Kind::Apply && manager.is_none() {
        return Err(ApiError::invalid_field(
            "meta.k8s.io",
            "PatchOptions",
            "",
            "FieldValueRequired",
            "fieldManager",
            "Required value: is required for apply patch",
        ));
    }
    let body = match kind {
        // merge and JSON patches must be JSON (no YAML); upstream's texts
        Kind::Merge | Kind::Json | Kind::Strategic => {
            let v: Value = serde_json::from_slice(&req.body)
                .map_err(|_| ApiError::bad_request("invalid JSON patch"))?;
            if kind != Kind::Json && !v.is_object() {
                return Err(ApiError::bad_request(format!(
                    "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    go_json_kind(&v)
                )));
            }
            v
        }
        Kind::Apply => crate::crud::parse_body(req).map_err(|e| {
            ApiError::bad_request(format!(
                "error decoding patch: error converting YAML to JSON: {}",
                e.message
            ))
        })?,
    };
    let status_only = t.sub.as_deref() == Some("status");
    if kind == Kind::Apply
        && let Some(schema) = &res.schema
    {
        // kube-apiserver converts an apply body to its typed form first: a field the schema
        // does not declare fails that (a 500), whatever `fieldValidation` says.
        let mut probe = body.clone();
        if let Some(first) = schema.prune(&mut probe).iter().min() {
            let obj_ns = body
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            let obj_name = body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or(name);
            return Err(ApiError::internal(format!(
                "failed to create typed patch object ({obj_ns}/{obj_name}; {}, Kind={}): .{first}: field not declared in schema",
                res.api_version(),
                res.kind
            )));
        }
    }
    let opts = WriteOpts {
        fv: field_validation(req.q("fieldValidation")),
        dry_run: req.q("dryRun") == Some("All"),
        status_only,
        verb: Verb::Patch,
    };
    let mut st = shared.lock();
    let old = st.get(&res.store_key, &ns, name);
    if shared.faults.take_conflict() {
        return Err(ApiError::conflict(&res.group, &res.plural, name));
    }
    let old_view = old.as_deref().map(|o| res.to_view(o));
    let (new, applied_paths) = match kind {
        Kind::Apply => {
            if old.is_none() {
                if status_only {
                    return Err(ApiError::not_found(&res.group, &res.plural, name));
                }
                if res.namespaced && !st.namespace_exists(&ns) {
                    return Err(ApiError::namespace_not_found(&ns));
                }
            }
            let m = manager.as_deref().unwrap_or("");
            if !status_only {
                crate::apply::migrate_csa(&mut st, res, &ns, name, m);
            }
            let (mut new, paths) = crate::apply::compute(
                &st,
                res,
                &ns,
                name,
                old_view.as_ref(),
                &body,
                m,
                force,
                status_only,
            )?;
            if !status_only {
                crate::apply::sync_last_applied(&mut new, &body, m);
            }
            (new, Some(paths))
        }
        _ => {
            let Some(mut doc) = old_view.clone() else {
                return Err(ApiError::not_found(&res.group, &res.plural, name));
            };
            match kind {
                Kind::Merge => json_patch::merge(&mut doc, &body),
                Kind::Json => json_patch(&mut doc, &body)?,
                _ => strategic(&mut doc, &body, ""),
            }
            (doc, None)
        }
    };
    if let (Some(want), Some(o)) = (
        new.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str),
        &old,
    ) && Some(want)
        != o.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
    {
        return Err(ApiError::conflict(&res.group, &res.plural, name));
    }
    let out = commit(&mut st, res, &ns, name, old.clone(), new, &opts)?;
    if !opts.dry_run {
        let m = manager.unwrap_or_else(|| "unknown".to_string());
        match applied_paths {
            Some(paths) => {
                crate::apply::record(&mut st, res, &ns, name, &m, status_only, paths, force)
            }
            None if out.changed => crate::apply::claim(
                &mut st,
                res,
                &ns,
                name,
                &m,
                old_view.as_ref(),
                &out.obj,
                status_only,
            ),
            None => {}
        }
    }
    if out.changed {
        shared.counters.patches.fetch_add(1, Ordering::Relaxed);
        shared.counters.count_write(res);
    }
    shared.notify(st.rv);
    drop(st);
    Ok(json_response(out.code, &out.obj, &out.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn test_null_for_missing_member() {
        let mut doc = json!({"metadata":{"name":"a"}});
        let ops = json!([{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["f"]}]);
        json_patch(&mut doc, &ops).unwrap();
        assert_eq!(doc["metadata"]["finalizers"], json!(["f"]));
        let again = json_patch(&mut doc, &ops).unwrap_err();
        assert_eq!(again.code, 422);
        let mut no_parent = json!({});
        assert!(
            json_patch(
                &mut no_parent,
                &json!([{"op":"test","path":"/a/b","value":null}])
            )
            .is_err()
        );
    }

    #[test]
    fn strategic_directives() {
        let mut doc = json!({"metadata":{"finalizers":["a"]},"data":{"x":"1","y":"2"}});
        strategic(
            &mut doc,
            &json!({"$setElementOrder/data":[],"metadata":{"finalizers":["b"]},"data":{"y":null,"z":"3"}}),
            "",
        );
        assert_eq!(
            doc,
            json!({"metadata":{"finalizers":["a","b"]},"data":{"x":"1","z":"3"}})
        );
    }
}
