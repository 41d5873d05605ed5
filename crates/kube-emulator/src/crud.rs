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
        .objects
        .get(&t.res.store_key)
        .map(|m| {
            m.iter()
                .filter(|((ns, _), o)| {
                    t.ns.as_deref().is_none_or(|w| w == ns)
                        && labels.matches(o)
                        && fields.matches(o)
                })
                .map(|(_, o)| o.clone())
                .collect()
        })
        .unwrap_or_default();
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
    let body = json!({"kind": res.list_kind, "apiVersion": res.api_version(), "metadata": meta, "items": items});
    Ok(json_response(200, &body, &[]))
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
    let mut body = parse_body(req)?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    crate::write::check_gvk(res, &body)?;
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
                return Err(ApiError::invalid_field(
                    &res.group,
                    &res.kind,
                    "",
                    "FieldValueRequired",
                    "metadata.name",
                    "Required value: name or generateName is required",
                ));
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
    }
    shared.notify(st.rv);
    drop(st);
    Ok(json_response(out.code, &out.obj, &out.warnings))
}

pub fn update(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<Response, ApiError> {
    let res = &t.res;
    let name = t.name.as_deref().unwrap_or("");
    let ns = t.ns_key().to_string();
    let body = parse_body(req)?;
    if let Some(b) = body.pointer("/metadata/name").and_then(Value::as_str)
        && b != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({b}) does not match the name on the URL ({name})"
        )));
    }
    let opts = write_opts(req, t, Verb::Update);
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
            return Err(ApiError::invalid_field(
                &res.group,
                &res.kind,
                name,
                "FieldValueInvalid",
                "metadata.resourceVersion",
                "Invalid value: 0x0: must be specified for an update",
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
    }
    shared.notify(st.rv);
    drop(st);
    Ok(json_response(out.code, &out.obj, &out.warnings))
}
