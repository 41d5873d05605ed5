//! `/openapi/v3` documents: the index naming every served group-version, and one document per
//! group-version whose item-path PATCH operations declare the `fieldValidation` parameter (so
//! kubectl uses server-side strict validation) and whose `components.schemas` carry each kind's
//! schema tagged with `x-kubernetes-group-version-kind` (so `kubectl explain` works).

use serde_json::{Map, Value, json};

/// One served kind of a group-version (`group` empty for the core group).
#[derive(Debug, Clone, PartialEq)]
pub struct KindSchema {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// The kind's OpenAPI v3 schema (for a CRD: the version's `openAPIV3Schema`).
    pub schema: Value,
}

/// `v1` → `api/v1`; `g/v` → `apis/g/v`; already-prefixed names pass through.
fn index_key(gv: &str) -> String {
    if gv.starts_with("api/") || gv.starts_with("apis/") {
        gv.to_string()
    } else if gv.contains('/') {
        format!("apis/{gv}")
    } else {
        format!("api/{gv}")
    }
}

/// A content hash (FNV-1a 64, upper-case hex) of a document, for `?hash=`.
pub fn openapi_doc_hash(doc: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// The `/openapi/v3` index with explicit per-group-version hashes (use
/// [`openapi_doc_hash`] of each document so clients refetch when a CRD changes).
pub fn openapi_v3_index_hashed(entries: &[(String, String)]) -> Value {
    let mut paths = Map::new();
    for (gv, hash) in entries {
        let key = index_key(gv);
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// The `/openapi/v3` index for group-versions given as `v1` or `group/version`; the hash here
/// only depends on the name — prefer [`openapi_v3_index_hashed`] when documents can change.
pub fn openapi_v3_index(group_versions: &[String]) -> Value {
    let entries: Vec<(String, String)> = group_versions
        .iter()
        .map(|gv| (gv.clone(), openapi_doc_hash(&json!(gv))))
        .collect();
    openapi_v3_index_hashed(&entries)
}

/// Component-schema name prefix of a group, after upstream (`telephony.agni.ai` →
/// `ai.agni.telephony`, core → `io.k8s.api.core`).
fn group_prefix(group: &str) -> String {
    match group {
        "" => "io.k8s.api.core".into(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        g if g.ends_with(".k8s.io") => {
            format!(
                "io.k8s.api.{}",
                g.trim_end_matches(".k8s.io").replace('.', "")
            )
        }
        g => g.split('.').rev().collect::<Vec<_>>().join("."),
    }
}

fn param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description,
        "schema": {"type": "string", "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        param(
            "dryRun",
            "When present, indicates that modifications should not be persisted.",
        ),
        param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
        ),
    ]
}

fn op(
    action: &str,
    gvk: &Value,
    reference: &str,
    extra_params: Vec<Value>,
    body: Option<&[&str]>,
) -> Value {
    let mut o = json!({
        "operationId": format!("{action}{}", gvk["kind"].as_str().unwrap_or("")),
        "parameters": extra_params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": reference}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    });
    if let Some(types) = body {
        let content: Map<String, Value> = types
            .iter()
            .map(|t| ((*t).to_string(), json!({"schema": {"$ref": reference}})))
            .collect();
        o["requestBody"] = json!({"content": content, "required": true});
    }
    o
}

const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// The document of one group-version: per kind, collection and item paths (item PATCH with
/// `x-kubernetes-group-version-kind` and the `fieldValidation` parameter) and component schemas
/// `<reversed group>.<version>.<Kind>` (+ `…List`) tagged with the GVK.
pub fn openapi_v3_group_version_doc(_group_version: &str, kinds: &[KindSchema]) -> Value {
    let mut paths = Map::new();
    let mut schemas = meta_schemas();
    for k in kinds {
        let gvk = json!({"group": k.group, "version": k.version, "kind": k.kind});
        let name = format!("{}.{}.{}", group_prefix(&k.group), k.version, k.kind);
        let reference = format!("#/components/schemas/{name}");
        let list_ref = format!("#/components/schemas/{name}List");
        let prefix = if k.group.is_empty() {
            format!("/api/{}", k.version)
        } else {
            format!("/apis/{}/{}", k.group, k.version)
        };
        let collection = if k.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", k.plural)
        } else {
            format!("{prefix}/{}", k.plural)
        };
        let item = format!("{collection}/{{name}}");
        let mut path_params = vec![
            json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}),
        ];
        if k.namespaced {
            path_params.push(json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
        }
        let coll_params: Vec<Value> = path_params[1..].to_vec();
        let mut patch_params = write_params();
        patch_params.push(param(
            "force",
            "Force is going to \"force\" Apply requests.",
        ));
        paths.insert(collection, json!({
            "get": op("list", &gvk, &list_ref, vec![], None),
            "post": op("post", &gvk, &reference, write_params(), Some(&["application/json", "application/yaml"])),
            "parameters": coll_params,
        }));
        paths.insert(item.clone(), json!({
            "get": op("get", &gvk, &reference, vec![], None),
            "put": op("put", &gvk, &reference, write_params(), Some(&["application/json", "application/yaml"])),
            "patch": op("patch", &gvk, &reference, patch_params.clone(), Some(PATCH_TYPES)),
            "delete": op("delete", &gvk, "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status", vec![], None),
            "parameters": path_params.clone(),
        }));
        paths.insert(format!("{item}/status"), json!({
            "get": op("get", &gvk, &reference, vec![], None),
            "put": op("put", &gvk, &reference, write_params(), Some(&["application/json", "application/yaml"])),
            "patch": op("patch", &gvk, &reference, patch_params, Some(PATCH_TYPES)),
            "parameters": path_params,
        }));
        schemas.insert(name.clone(), kind_schema(k, &gvk));
        schemas.insert(format!("{name}List"), list_schema(k, &reference));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": format!("{}.{}", crate::KUBERNETES_MAJOR, crate::KUBERNETES_MINOR)},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn kind_schema(k: &KindSchema, gvk: &Value) -> Value {
    let mut s = match &k.schema {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    s.entry("type").or_insert_with(|| json!("object"));
    let props = s
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut props = props;
    props.entry("apiVersion").or_insert_with(|| json!({"type": "string",
        "description": "APIVersion defines the versioned schema of this representation of an object."}));
    props.entry("kind").or_insert_with(|| json!({"type": "string",
        "description": "Kind is a string value representing the REST resource this object represents."}));
    props.insert("metadata".into(), json!({
        "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
        "default": {},
        "description": "Standard object's metadata.",
    }));
    s.insert("properties".into(), Value::Object(props));
    s.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
    Value::Object(s)
}

fn list_schema(k: &KindSchema, item_ref: &str) -> Value {
    json!({
        "type": "object",
        "description": format!("{}List is a list of {}", k.kind, k.kind),
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": item_ref}},
            "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}], "default": {}},
        },
        "x-kubernetes-group-version-kind": [{"group": k.group, "version": k.version, "kind": format!("{}List", k.kind)}],
    })
}

fn meta_schemas() -> Map<String, Value> {
    let s = |d: &str| json!({"type": "string", "description": d});
    let map = |d: &str| json!({"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": d});
    let mut m = Map::new();
    m.insert("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".into(), json!({
        "type": "object",
        "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        "properties": {
            "name": s("Name must be unique within a namespace."),
            "generateName": s("GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
            "namespace": s("Namespace defines the space within which each name must be unique."),
            "uid": s("UID is the unique in time and space value for this object."),
            "resourceVersion": s("An opaque value that represents the internal version of this object."),
            "generation": {"type": "integer", "format": "int64", "description": "A sequence number representing a specific generation of the desired state."},
            "creationTimestamp": {"type": "string", "format": "date-time", "description": "CreationTimestamp is a timestamp representing the server time when this object was created."},
            "deletionTimestamp": {"type": "string", "format": "date-time", "description": "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted."},
            "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
            "labels": map("Map of string keys and values that can be used to organize and categorize (scope and select) objects."),
            "annotations": map("Annotations is an unstructured key value map stored with a resource."),
            "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-list-type": "set",
                "description": "Must be empty before the object is deleted from the registry."},
            "ownerReferences": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "description": "List of objects depended by this object."},
            "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "description": "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow."},
        },
    }));
    m.insert("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta".into(), json!({
        "type": "object",
        "description": "ListMeta describes metadata that synthetic resources must have.",
        "properties": {"resourceVersion": s("String that identifies the server's internal version of this object."),
            "continue": s("continue may be set if the user set a limit on the number of items returned."),
            "remainingItemCount": {"type": "integer", "format": "int64"}},
    }));
    m.insert("io.k8s.apimachinery.pkg.apis.meta.v1.Status".into(), json!({
        "type": "object",
        "description": "Status is a return value for calls that don't return other objects.",
        "properties": {"apiVersion": s(""), "kind": s(""), "status": s(""), "message": s(""), "reason": s(""),
            "code": {"type": "integer", "format": "int32"}, "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
        "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Status"}],
    }));
    m
}
