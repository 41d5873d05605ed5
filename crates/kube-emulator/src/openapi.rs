//! `/openapi/v3` index and per-group-version documents (built by the schema module), which
//! kubectl needs to use server-side field validation; `/openapi/v2` is not served (404).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use axum::response::Response;
use serde_json::Value;

use crate::errors::ApiError;
use crate::schema::KindSchema;
use crate::server::{Shared, json_response};

fn gv_list(shared: &Shared) -> Vec<String> {
    let st = shared.lock();
    let mut out: Vec<String> = Vec::new();
    for r in &st.resources {
        let gv = r.group_version();
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

fn kinds(shared: &Shared, gv: &str) -> Vec<KindSchema> {
    let st = shared.lock();
    st.resources
        .iter()
        .filter(|r| r.group_version() == gv)
        .map(|r| KindSchema {
            group: r.group.clone(),
            version: r.version.clone(),
            kind: r.kind.clone(),
            plural: r.plural.clone(),
            namespaced: r.namespaced,
            schema: r.raw_schema.clone(),
        })
        .collect()
}

fn doc_for(shared: &Shared, gv: &str) -> Value {
    crate::schema::openapi_v3_group_version_doc(gv, &kinds(shared, gv))
}

fn hash_of(v: &Value) -> String {
    let mut h = DefaultHasher::new();
    v.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

pub fn index(shared: &Shared) -> Response {
    let gvs = gv_list(shared);
    let mut idx = crate::schema::openapi_v3_index(&gvs);
    // Make the hash follow the content so kubectl's cache refreshes.
    if let Some(paths) = idx.get_mut("paths").and_then(Value::as_object_mut) {
        for (p, entry) in paths.iter_mut() {
            let gv = p
                .strip_prefix("apis/")
                .or_else(|| p.strip_prefix("api/"))
                .unwrap_or(p);
            let h = hash_of(&doc_for(shared, gv));
            entry["serverRelativeURL"] = Value::String(format!("/openapi/v3/{p}?hash={h}"));
        }
    }
    json_response(200, &idx, &[])
}

pub fn gv_doc(shared: &Shared, rest: &[&str]) -> Result<Response, ApiError> {
    let gv = match rest {
        ["api", v] => v.to_string(),
        ["apis", g, v] => format!("{g}/{v}"),
        _ => return Err(ApiError::not_found_path()),
    };
    if !gv_list(shared).contains(&gv) {
        return Err(ApiError::not_found_path());
    }
    Ok(json_response(200, &doc_for(shared, &gv), &[]))
}
