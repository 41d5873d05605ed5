//! The write pipeline shared by create, update, patch and apply: endpoint checks, metadata
//! normalisation, server-owned fields, the status subresource split, built-in hooks, schema
//! admission, generation, no-op detection, finalizer-driven removal and persistence.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceInfo;
use crate::schema::FieldValidation;
use crate::store::{State, now_time};

/// How a write was requested.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verb {
    Create,
    Update,
    Patch,
}

pub struct WriteOpts {
    pub fv: FieldValidation,
    pub dry_run: bool,
    /// Addressed through the `/status` subresource.
    pub status_only: bool,
    pub verb: Verb,
}

pub struct WriteResult {
    pub code: u16,
    /// The object as served by the endpoint.
    pub obj: Value,
    pub warnings: Vec<String>,
    /// A new revision was persisted (or the object removed).
    pub changed: bool,
}

pub fn field_validation(v: Option<&str>) -> FieldValidation {
    match v {
        Some("Strict") => FieldValidation::Strict,
        Some("Warn") => FieldValidation::Warn,
        _ => FieldValidation::Ignore,
    }
}

/// Drop empty finalizers/labels/annotations/ownerReferences and managedFields.
pub fn normalize_metadata(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        for k in ["finalizers", "labels", "annotations", "ownerReferences"] {
            let empty = match meta.get(k) {
                Some(Value::Null) => true,
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                _ => false,
            };
            if empty {
                meta.remove(k);
            }
        }
    }
}

/// Everything but metadata (and status when it is a subresource): what bumps generation.
fn spec_part(obj: &Value, has_status: bool) -> Value {
    let mut m: Map<String, Value> = obj.as_object().cloned().unwrap_or_default();
    for k in ["metadata", "apiVersion", "kind"] {
        m.remove(k);
    }
    if has_status {
        m.remove("status");
    }
    Value::Object(m)
}

fn strip_rv(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("apiVersion");
    }
    v
}

/// The decoder's checks of `apiVersion`/`kind`. Custom resources need both (a missing kind is
/// the caller's `Object 'Kind' is missing` error); a different `kind` there reaches validation
/// (a 422, see [`commit`]). Built-ins default both, and refuse another kind as a conversion.
/// `decoded`: a create/update body straight from the request (where a custom object's
/// `apiVersion` is required), not a merged patch or apply result.
pub fn check_gvk(res: &ResourceInfo, body: &Value, decoded: bool) -> Result<(), ApiError> {
    let av = body.get("apiVersion").and_then(Value::as_str);
    let missing = av.is_none_or(str::is_empty);
    if (decoded && res.custom && missing)
        || av.is_some_and(|a| !a.is_empty() && a != res.api_version())
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            av.unwrap_or(""),
            res.api_version()
        )));
    }
    if !res.custom
        && let Some(k) = body.get("kind").and_then(Value::as_str)
        && !k.is_empty()
        && k != res.kind
    {
        let version = av
            .and_then(|a| a.rsplit('/').next())
            .filter(|v| !v.is_empty())
            .unwrap_or(&res.version);
        let internal = if res.group.is_empty() {
            "core"
        } else {
            res.group.split('.').next().unwrap_or(&res.group)
        };
        return Err(ApiError::bad_request(format!(
            "{k} in version {version:?} cannot be handled as a {kind}: converting ({version}.{k}) to ({internal}.{kind}): unknown conversion",
            kind = res.kind
        )));
    }
    Ok(())
}

/// Finalize `new` (endpoint view form) against `old` (stored) and persist it.
pub fn commit(
    st: &mut State,
    res: &Arc<ResourceInfo>,
    ns: &str,
    name: &str,
    old: Option<Arc<Value>>,
    mut new: Value,
    opts: &WriteOpts,
) -> Result<WriteResult, ApiError> {
    check_gvk(res, &new, false)?;
    if !new.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    // upstream quotes the patched object (before pruning) in a Strict patch's error
    let patched =
        (opts.verb == Verb::Patch && opts.fv == FieldValidation::Strict).then(|| new.clone());
    // a custom object of another kind fails validation (`kind: Invalid value`), not decoding
    let wrong_kind = new
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| res.custom && !k.is_empty() && *k != res.kind)
        .map(String::from);
    let old_view = old.as_deref().map(|o| res.to_view(o));
    if opts.status_only {
        // `/status` takes only status; everything else comes from the stored object.
        let Some(ov) = &old_view else {
            return Err(ApiError::not_found(&res.group, &res.plural, name));
        };
        let mut merged = ov.clone();
        match new.get("status") {
            Some(s) => merged["status"] = s.clone(),
            None => {
                if let Some(m) = merged.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        new = merged;
    }
    new["apiVersion"] = json!(res.api_version());
    new["kind"] = json!(res.kind);
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    new["metadata"]["name"] = json!(name);
    if res.namespaced {
        new["metadata"]["namespace"] = json!(ns);
    } else if let Some(m) = new["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    normalize_metadata(&mut new);
    if let Some(m) = new["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    match &old_view {
        Some(ov) => {
            if let (Some(a), Some(b)) = (new.pointer("/metadata/uid"), ov.pointer("/metadata/uid"))
                && a != b
            {
                return Err(ApiError::new(
                    409,
                    "Conflict",
                    format!(
                        "Precondition failed: UID in precondition: {b}, UID in object meta: {a}"
                    ),
                ));
            }
            for k in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match ov["metadata"].get(k) {
                    Some(v) => new["metadata"][k] = v.clone(),
                    None => {
                        if let Some(m) = new["metadata"].as_object_mut() {
                            m.remove(k);
                        }
                    }
                }
            }
            if res.has_status && !opts.status_only {
                match ov.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
        }
        None => {
            new["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
            new["metadata"]["creationTimestamp"] = json!(now_time());
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("deletionTimestamp");
                m.remove("deletionGracePeriodSeconds");
                m.remove("generation");
            }
            if res.has_status
                && res.custom
                && let Some(m) = new.as_object_mut()
            {
                m.remove("status");
            }
        }
    }
    crate::builtins::prepare(res, &mut new, old_view.as_ref());
    let is_namespace = res.group.is_empty() && res.plural == "namespaces";
    let (prior, type_meta_failed) = match &wrong_kind {
        Some(k) => (
            vec![crate::schema::Cause {
                reason: "FieldValueInvalid".into(),
                message: format!(
                    "Invalid value: {}: must be {}",
                    Value::String(k.clone()),
                    res.kind
                ),
                field: "kind".into(),
            }],
            true,
        ),
        None => (crate::meta_validation::validate(&new, is_namespace), false),
    };
    let mut warnings = Vec::new();
    match &res.schema {
        Some(schema) => {
            match schema.admit_with(
                &mut new,
                old_view.as_ref(),
                opts.fv,
                prior,
                type_meta_failed,
            ) {
                Ok(w) => warnings = w,
                Err(causes) => {
                    let kind = wrong_kind.as_deref().unwrap_or(&res.kind);
                    return Err(crate::crd::admission_error(
                        res,
                        kind,
                        name,
                        &causes,
                        opts.verb,
                        patched.as_ref(),
                    ));
                }
            }
        }
        None if !prior.is_empty() => {
            return Err(ApiError::invalid(&res.group, &res.kind, name, &prior));
        }
        None => {}
    }
    if res.crd_name.is_none() && res.store_key == crate::crd::CRD_KEY {
        crate::crd::prepare(st, &mut new, old_view.as_ref())?;
    }
    if res.generation {
        let g = match &old_view {
            None => 1,
            Some(ov) => {
                let prev = ov
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                if spec_part(ov, res.has_status) != spec_part(&new, res.has_status) {
                    prev + 1
                } else {
                    prev
                }
            }
        };
        new["metadata"]["generation"] = json!(g);
    }
    let stored_new = res.to_stored(new);
    if let Some(o) = &old
        && strip_rv(o) == strip_rv(&stored_new)
    {
        return Ok(WriteResult {
            code: 200,
            obj: res.to_view(o),
            warnings,
            changed: false,
        });
    }
    let terminating = stored_new.pointer("/metadata/deletionTimestamp").is_some();
    let no_finalizers = stored_new.pointer("/metadata/finalizers").is_none();
    if terminating && let Some(o) = &old {
        let before: Vec<&Value> = o
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let added: Vec<String> = stored_new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|f| !before.contains(f))
            .map(Value::to_string)
            .collect();
        if !added.is_empty() {
            return Err(ApiError::invalid_field(
                &res.group,
                &res.kind,
                name,
                "FieldValueForbidden",
                "metadata.finalizers",
                &format!(
                    "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    added.join(", ")
                ),
            ));
        }
    }
    if opts.dry_run {
        let code = if old.is_some() { 200 } else { 201 };
        let mut preview = stored_new;
        if let Some(rv) = old
            .as_deref()
            .and_then(|o| o.pointer("/metadata/resourceVersion"))
        {
            preview["metadata"]["resourceVersion"] = rv.clone();
        }
        return Ok(WriteResult {
            code,
            obj: res.to_view(&preview),
            warnings,
            changed: false,
        });
    }
    if old.is_some() && terminating && no_finalizers {
        // The last finalizer is gone: the object goes away (a single DELETED event).
        st.put_silently(&res.store_key, ns, name, stored_new);
        let removed = crate::delete::remove_now(st, res, ns, name);
        let obj = removed.map(|r| res.to_view(&r)).unwrap_or(Value::Null);
        return Ok(WriteResult {
            code: 200,
            obj,
            warnings,
            changed: true,
        });
    }
    let code = if old.is_some() { 200 } else { 201 };
    let stored = st.put(&res.store_key, ns, name, stored_new, old);
    if res.store_key == crate::crd::CRD_KEY {
        crate::crd::register(st, &stored);
    }
    Ok(WriteResult {
        code,
        obj: res.to_view(&stored),
        warnings,
        changed: true,
    })
}
