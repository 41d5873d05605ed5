//! `/openapi/v3` index and per-group-version documents (built by the schema module), which
//! kubectl needs to use server-side field validation; `/openapi/v2` is not served (404).

use axum::response::Response;
use serde_json::{Value, json};

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
    let custom = {
        let st = shared.lock();
        st.resources
            .iter()
            .any(|r| r.custom && r.group_version() == gv)
    };
    let mut doc = crate::schema::openapi_v3_group_version_doc(gv, &kinds(shared, gv));
    if custom {
        // kube-apiserver builds CRD group-versions' documents separately, under its own title.
        doc["info"] = json!({"title": "Kubernetes CRD Swagger", "version": "v0.1.0"});
        // Custom resources take no strategic merge patch; kubectl picks the patch type from the
        // PATCH request body types listed here (it would send strategic merge and get 415).
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            for item in paths.values_mut() {
                if let Some(content) = item
                    .pointer_mut("/patch/requestBody/content")
                    .and_then(Value::as_object_mut)
                {
                    content.remove("application/strategic-merge-patch+json");
                }
            }
        }
    }
    doc
}

pub fn index(shared: &Shared) -> Response {
    // The hash follows each document's content so kubectl's cache refreshes when a CRD changes.
    let entries: Vec<(String, String)> = gv_list(shared)
        .into_iter()
        .map(|gv| {
            let h = crate::schema::openapi_doc_hash(&doc_for(shared, &gv));
            (gv, h)
        })
        .collect();
    json_response(200, &crate::schema::openapi_v3_index_hashed(&entries), &[])
}

pub fn gv_doc(shared: &Shared, rest: &[&str]) -> Result<Response, ApiError> {
    let gv = match rest {
        ["api", v] => v.to_string(),
        ["apis", g, v] => format!("{g}/{v}"),
        _ => return Err(empty_not_found()),
    };
    if !gv_list(shared).contains(&gv) {
        return Err(empty_not_found());
    }
    Ok(json_response(200, &doc_for(shared, &gv), &[]))
}

/// kube-apiserver's `/openapi/v3` handler answers an unknown group-version with an empty 404.
fn empty_not_found() -> ApiError {
    let mut e = ApiError::page_not_found();
    e.message = String::new();
    e
}
