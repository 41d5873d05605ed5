//! GET (object, list, Table, metadata-only), POST (create) and PUT (update) handlers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceInfo;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::{Req, Shared, Target, json_response, with_content_type};
use crate::write::{Verb, WriteOpts, commit, field_validation};

pub fn selectors(
    req: &Req,
    res: &ResourceInfo,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let l = LabelSelector::parse(req.q("labelSelector").unwrap_or(""))?;
    let f = FieldSelector::parse(req.q("fieldSelector").unwrap_or(""), &res.field_extra)?;
    Ok((l, f))
}

/// Parse a request body as JSON, falling back to YAML.
pub fn parse_body(req: &Req) -> Result<Value, ApiError> {
    let ct = req.content_type();
    if ct.contains("protobuf") {
        return crate::proto::decode(&req.body, ct);
    }
    if ct.contains("cbor") {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct})"
            ),
        ));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v) => Ok(v),
        Err(je) => {
            let text = std::str::from_utf8(&req.body)
                .map_err(|_| ApiError::bad_request(format!("invalid JSON body: {je}")))?;
            serde_saphyr::from_str::<Value>(text)
                .map_err(|_| ApiError::bad_request(format!("invalid JSON body: {je}")))
        }
    }
}

pub fn metadata_only(obj: &Value) -> Value {
    json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata": obj["metadata"].clone()})
}

fn wants_table(req: &Req) -> bool {
    req.accept().contains("as=Table")
}

fn wants_metadata(req: &Req) -> bool {
    req.accept().contains("as=PartialObjectMetadata")
}

/// A `meta.k8s.io/v1` Table of `objs` (printer columns for CRs, upstream-like for built-ins).
pub fn render_table(res: &ResourceInfo, include: &str, objs: &[Value], rv: &str) -> Value {
    let now = chrono::Utc::now();
    if res.custom {
        crate::schema::render_table(&res.columns, objs, now, include, rv, None)
    } else {
        crate::schema::builtin_table(&res.kind, objs, now, rv)
    }
}

fn table(res: &ResourceInfo, req: &Req, objs: &[Value], rv: &str) -> Response {
    let t = render_table(res, req.q("includeObject").unwrap_or("Metadata"), objs, rv);
    with_content_type(
        json_response(200, &t, &[]),
        "application/json;as=Table;v=v1;g=meta.k8s.io",
    )
}

pub fn get(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let name = t.name.as_deref().unwrap_or("");
    let (obj, rv) = {
        let st = shared.lock();
        let o = st
            .get(&res.store_key, t.ns_key(), name)
            .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
        (o, st.rv)
    };
    let view = res.to_view(&obj);
    if wants_table(req) {
        return Ok(table(res, req, &[view], &rv.to_string()));
    }
    if wants_metadata(req) {
        return Ok(with_content_type(
            json_response(200, &metadata_only(&view), &[]),
            "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
        ));
    }
    Ok(json_response(200, &view, &[]))
}

/// Current matching objects (stored form) and the revision they reflect.
pub fn snapshot(
    shared: &Shared,
    t: &Target,
    labels: &LabelSelector,
    fields: &FieldSelector,
) -> (Vec<Arc<Value>>, u64) {
    let st = shared.lock();
    let items = st
        .select(&t.res.store_key, t.ns.as_deref(), labels, fields)
        .into_iter()
        .map(|(_, o)| o.clone())
        .collect();
    (items, st.rv)
}

pub fn list(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let (labels, fields) = selectors(req, res)?;
    let limit = match req.q("resourceVersion") {
        Some("0") => None,
        _ => req.q("limit").and_then(|l| l.parse::<usize>().ok()),
    };
    let page = shared.pager.page(limit, req.q("continue"), || {
        snapshot(shared, t, &labels, &fields)
    })?;
    let items: Vec<Value> = page.items.iter().map(|o| res.to_view(o)).collect();
    let rv = page.rv.to_string();
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = &page.continue_token {
        meta["continue"] = json!(c);
        meta["remainingItemCount"] = json!(page.remaining);
    }
    if wants_table(req) {
        let mut t = render_table(
            res,
            req.q("includeObject").unwrap_or("Metadata"),
            &items,
            &rv,
        );
        if let Some(c) = &page.continue_token {
            t["metadata"]["continue"] = json!(c);
        }
        return Ok(with_content_type(
            json_response(200, &t, &[]),
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        ));
    }
    if wants_metadata(req) {
        let items: Vec<Value> = items.iter().map(metadata_only).collect();
        let body = json!({"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata": meta,"items": items});
        return Ok(with_content_type(
            json_response(200, &body, &[]),
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        ));
    }
    if res.custom && page.continue_token.is_none() {
        // custom resources are listed as unstructured lists, which always carry `continue`
        meta["continue"] = json!("");
    }
    let body = json!({"kind": res.list_kind, "apiVersion": res.api_version(), "metadata": meta, "items": items});
    Ok(json_response(200, &body, &[]))
}

/// kube-apiserver's `summarizeData(body, 30)`: the body in a decode error, text when it looks
/// like a JSON object, hex otherwise, cut at 30 bytes.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let cut = &body[..body.len().min(MAX)];
    let more = if body.len() > MAX { " ..." } else { "" };
    match body.first() {
        None => "<empty>".to_string(),
        Some(b'{') => format!("{}{more}", String::from_utf8_lossy(cut)),
        Some(_) => {
            let hex: String = cut.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}{more}")
        }
    }
}

/// Decode a create/update body as kube-apiserver's decoder does, with its error texts: a body
/// that is no JSON object is `the object provided is unrecognized (must be of type Kind): …`,
/// and a custom object needs a `kind` (`Object 'Kind' is missing in '…'`). JSON parse details
/// are serde's, not Go's.
pub fn decode_object(req: &Req, res: &ResourceInfo) -> Result<Value, ApiError> {
    let ct = req.content_type();
    if ct.contains("protobuf") || ct.contains("cbor") {
        return parse_body(req);
    }
    let unrecognized = |detail: String| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): {detail} ({})",
            res.kind,
            summarize(&req.body)
        ))
    };
    let parsed = if ct.contains("yaml") {
        parse_body(req)
    } else {
        serde_json::from_slice::<Value>(&req.body).map_err(|_| ApiError::bad_request(""))
    };
    let body = match parsed {
        Ok(v) => v,
        Err(_) => {
            let detail = serde_json::from_slice::<Value>(&req.body)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return Err(unrecognized(format!(
                "couldn't get version/kind; json parse error: {detail}"
            )));
        }
    };
    if !body.is_object() {
        let kind = match &body {
            Value::Array(_) => "array",
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            _ => "null",
        };
        return Err(unrecognized(format!(
            "couldn't get version/kind; json parse error: json: cannot unmarshal {kind} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}"
        )));
    }
    if res.custom
        && body
            .get("kind")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(unrecognized(format!(
            "Object 'Kind' is missing in '{}'",
            String::from_utf8_lossy(&req.body)
        )));
    }
    Ok(body)
}

fn random_suffix() -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut r = rand::rng();
    (0..5)
        .map(|_| CHARS[r.random_range(0..CHARS.len())] as char)
        .collect()
}

fn write_opts(req: &Req, t: &Target, verb: Verb) -> WriteOpts {
    WriteOpts {
        fv: field_validation(req.q("fieldValidation")),
        dry_run: req.q("dryRun") == Some("All"),
        status_only: t.sub.as_deref() == Some("status"),
        verb,
    }
}

pub fn manager_of(req: &Req, default: &str) -> String {
    req.q("fieldManager")
        .map(String::from)
        .unwrap_or_else(|| default.to_string())
}

pub fn create(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let mut body = decode_object(req, res)?;
    crate::write::check_gvk(res, &body, true)?;
    let body_ns = body
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(String::from);
    if res.namespaced
        && let (Some(b), Some(u)) = (&body_ns, &t.ns)
        && b != u
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let mut name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        match body
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
        {
            Some(p) if !p.is_empty() => name = format!("{p}{}", random_suffix()),
            _ => {
                let required = crate::schema::Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value: name or generateName is required".into(),
                    field: "metadata.name".into(),
                };
                // the rest of validation runs too (the missing name blocks CEL rules)
                let causes = match &res.schema {
                    Some(schema) => {
                        let mut probe = body.clone();
                        probe["apiVersion"] = json!(res.api_version());
                        probe["kind"] = json!(res.kind);
                        match schema.admit_with(
                            &mut probe,
                            None,
                            field_validation(req.q("fieldValidation")),
                            vec![required.clone()],
                            false,
                        ) {
                            Err(c) if c.iter().all(crate::schema::is_unknown_field) => {
                                return Err(crate::crd::admission_error(
                                    res,
                                    &res.kind,
                                    "",
                                    &c,
                                    Verb::Create,
                                    None,
                                ));
                            }
                            Err(c) => c,
                            Ok(_) => vec![required],
                        }
                    }
                    None => vec![required],
                };
                return Err(ApiError::invalid(&res.group, &res.kind, "", &causes));
            }
        }
    }
    let ns = if res.namespaced {
        t.ns.clone()
            .or(body_ns)
            .unwrap_or_else(|| "default".to_string())
    } else {
        String::new()
    };
    let opts = write_opts(req, t, Verb::Create);
    let manager = manager_of(req, "unknown");
    let mut st = shared.lock();
    if shared.faults.take_conflict() {
        return Err(ApiError::conflict(&res.group, &res.plural, &name));
    }
    if res.namespaced {
        match st.get("namespaces", "", &ns) {
            None => return Err(ApiError::namespace_not_found(&ns)),
            Some(n) if n.pointer("/metadata/deletionTimestamp").is_some() => {
                return Err(ApiError::new(
                    403,
                    "Forbidden",
                    format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        crate::errors::qualified(&res.group, &res.plural)
                    ),
                ));
            }
            _ => {}
        }
    }
    if st.get(&res.store_key, &ns, &name).is_some() {
        return Err(ApiError::already_exists(&res.group, &res.plural, &name));
    }
    if let Some(m) = body["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    let out = commit(&mut st, res, &ns, &name, None, body, &opts)?;
    if out.changed {
        crate::apply::claim(
            &mut st,
            res,
            &ns,
            &name,
            &manager,
            None,
            &out.obj,
            opts.status_only,
        );
        shared.counters.creates.fetch_add(1, Ordering::Relaxed);
        shared.counters.count_write(res);
    }
    shared.notify(st.rv);
    drop(st);
    Ok(json_response(out.code, &out.obj, &out.warnings))
}

pub fn update(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let name = t.name.as_deref().unwrap_or("");
    let ns = t.ns_key().to_string();
    let body = decode_object(req, res)?;
    crate::write::check_gvk(res, &body, true)?;
    if let Some(b) = body.pointer("/metadata/name").and_then(Value::as_str)
        && b != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({b}) does not match the name on the URL ({name})"
        )));
    }
    let opts = write_opts(req, t, Verb::Update);
    // Strict unknown fields fail decoding, before the resourceVersion is looked at
    if opts.fv == crate::schema::FieldValidation::Strict
        && let Some(schema) = &res.schema
    {
        let mut probe = body.clone();
        let unknown = schema.prune(&mut probe);
        if !unknown.is_empty() {
            let causes: Vec<crate::schema::Cause> = unknown
                .iter()
                .map(|p| crate::schema::Cause {
                    reason: crate::schema::UNKNOWN_FIELD.into(),
                    message: format!("unknown field {}", Value::String(p.clone())),
                    field: p.clone(),
                })
                .collect();
            return Err(crate::crd::admission_error(
                res,
                &res.kind,
                name,
                &causes,
                Verb::Update,
                None,
            ));
        }
    }
    let manager = manager_of(req, "unknown");
    let mut st = shared.lock();
    let old = st
        .get(&res.store_key, &ns, name)
        .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
    if shared.faults.take_conflict() {
        return Err(ApiError::conflict(&res.group, &res.plural, name));
    }
    match body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        Some(rv)
            if Some(rv)
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str) =>
        {
            return Err(ApiError::conflict(&res.group, &res.plural, name));
        }
        None if res.custom => {
            // named by the resource (`phonenumbers.telephony.agni.ai "a" is invalid`)
            return Err(ApiError::invalid_field(
                &res.group,
                &res.plural,
                name,
                "FieldValueInvalid",
                "metadata.resourceVersion",
                "Invalid value: 0: must be specified for an update",
            ));
        }
        _ => {}
    }
    let out = commit(&mut st, res, &ns, name, Some(old.clone()), body, &opts)?;
    if out.changed {
        crate::apply::claim(
            &mut st,
            res,
            &ns,
            name,
            &manager,
            Some(&res.to_view(&old)),
            &out.obj,
            opts.status_only,
        );
        shared.counters.updates.fetch_add(1, Ordering::Relaxed);
        shared.counters.count_write(res);
    }
    shared.notify(st.rv);
    drop(st);
    Ok(json_response(out.code, &out.obj, &out.warnings))
}
