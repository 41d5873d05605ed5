//! CustomResourceDefinition handling: validation of the CRD itself (name = plural.group, one
//! storage version, compilable schemas), defaulted names, the `NamesAccepted`/`Established`
//! status set at once, and (un)registration of the served custom resource endpoints.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceInfo;
use crate::schema::{Cause, CompiledSchema};
use crate::store::{State, now_time};
use crate::write::Verb;

pub const CRD_KEY: &str = "customresourcedefinitions.apiextensions.k8s.io";

fn cause(reason: &str, field: &str, message: String) -> Cause {
    Cause {
        reason: reason.into(),
        message,
        field: field.into(),
    }
}

/// Validate and complete a CRD about to be stored; sets its status.
pub fn prepare(st: &State, crd: &mut Value, old: Option<&Value>) -> Result<(), ApiError> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let plural = crd
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = crd
        .pointer("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // defaulted as apiextensions' SetDefaults does
    if crd.pointer("/spec/conversion").is_none_or(Value::is_null)
        && let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.insert("conversion".into(), json!({"strategy": "None"}));
    }
    let mut causes = Vec::new();
    if group.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.group",
            "Required value".into(),
        ));
    }
    if plural.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.names.plural",
            "Required value".into(),
        ));
    }
    if kind.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.names.kind",
            "Required value".into(),
        ));
    }
    if name != format!("{plural}.{group}") {
        causes.push(cause(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    match crd.pointer("/spec/scope").and_then(Value::as_str) {
        Some("Namespaced" | "Cluster") => {}
        other => causes.push(cause(
            "FieldValueNotSupported",
            "spec.scope",
            format!(
                "Unsupported value: {}: supported values: \"Cluster\", \"Namespaced\"",
                json!(other)
            ),
        )),
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.versions",
            "Required value: must have exactly one version marked as storage version".into(),
        ));
    }
    let storage: Vec<&Value> = versions
        .iter()
        .filter(|v| v["storage"] == json!(true))
        .collect();
    if !versions.is_empty() && storage.len() != 1 {
        causes.push(cause(
            "FieldValueInvalid",
            "spec.versions",
            format!(
                "Invalid value: {}: must have exactly one version marked as storage version",
                storage.len()
            ),
        ));
    }
    for (i, v) in versions.iter().enumerate() {
        match v.pointer("/schema/openAPIV3Schema") {
            None => causes.push(cause(
                "FieldValueRequired",
                &format!("spec.versions[{i}].schema.openAPIV3Schema"),
                "Required value: schemas are required".into(),
            )),
            Some(s) => {
                if let Err(cs) = CompiledSchema::compile(s) {
                    for c in cs {
                        let field = if c.field.is_empty() {
                            format!("spec.versions[{i}].schema.openAPIV3Schema")
                        } else {
                            format!("spec.versions[{i}].schema.openAPIV3Schema.{}", c.field)
                        };
                        causes.push(Cause { field, ..c });
                    }
                }
            }
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            &name,
            &causes,
        ));
    }
    if crd
        .pointer("/spec/names/singular")
        .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
    {
        crd["spec"]["names"]["singular"] = json!(kind.to_lowercase());
    }
    if crd
        .pointer("/spec/names/listKind")
        .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
    {
        crd["spec"]["names"]["listKind"] = json!(format!("{kind}List"));
    }
    // Name clash with another CRD's plural/kind in the same group.
    let clash = st.resources.iter().any(|r| {
        r.group == group
            && r.crd_name.as_deref() != Some(&name)
            && (r.plural == plural || r.kind == kind)
    });
    let keep_time = |t: &str| {
        old.and_then(|o| o.pointer("/status/conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == t))
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(now_time()))
    };
    let (na_status, na_reason, na_msg) = if clash {
        (
            "False",
            "NameConflict",
            format!("\"{plural}\" is already in use"),
        )
    } else {
        ("True", "NoConflicts", "no conflicts found".to_string())
    };
    let mut stored_versions: Vec<Value> = old
        .and_then(|o| o.pointer("/status/storedVersions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(sv) = storage.first().and_then(|v| v.get("name")).cloned()
        && !stored_versions.contains(&sv)
    {
        stored_versions.push(sv);
    }
    crd["status"] = json!({
        "conditions": [
            {"type": "NamesAccepted", "status": na_status, "reason": na_reason, "message": na_msg,
             "lastTransitionTime": keep_time("NamesAccepted")},
            {"type": "Established", "status": na_status, "reason": if clash { "NotAccepted" } else { "InitialNamesAccepted" },
             "message": if clash { "not all names are accepted" } else { "the initial names have been accepted" },
             "lastTransitionTime": keep_time("Established")},
        ],
        "acceptedNames": crd["spec"]["names"].clone(),
        "storedVersions": stored_versions,
    });
    Ok(())
}

/// (Re)register the endpoints a stored CRD defines.
pub fn register(st: &mut State, crd: &Value) {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    st.resources
        .retain(|r| r.crd_name.as_deref() != Some(&name));
    let established = crd
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
    if !established {
        return;
    }
    let spec = &crd["spec"];
    let s = |p: &str| {
        spec.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let strs = |p: &str| -> Vec<String> {
        spec.pointer(p)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let group = s("/group");
    let plural = s("/names/plural");
    let storage_version = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["storage"] == json!(true))
        .and_then(|v| v["name"].as_str())
        .unwrap_or("")
        .to_string();
    let storage_version_hash =
        crate::sha256::storage_version_hash(&group, &storage_version, &s("/names/kind"));
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"] == json!(false) {
            continue;
        }
        let raw_schema = v
            .pointer("/schema/openAPIV3Schema")
            .cloned()
            .unwrap_or(json!({}));
        let schema = CompiledSchema::compile(&raw_schema).ok().map(Arc::new);
        st.resources.push(Arc::new(ResourceInfo {
            group: group.clone(),
            version: v["name"].as_str().unwrap_or("").to_string(),
            kind: s("/names/kind"),
            plural: plural.clone(),
            singular: s("/names/singular"),
            list_kind: s("/names/listKind"),
            namespaced: s("/scope") == "Namespaced",
            short_names: strs("/names/shortNames"),
            categories: strs("/names/categories"),
            has_status: v.pointer("/subresources/status").is_some(),
            custom: true,
            generation: true,
            store_key: format!("{plural}.{group}"),
            crd_name: Some(name.clone()),
            schema,
            raw_schema,
            columns: crate::schema::printer_columns(v),
            field_extra: Vec::new(),
            storage_version_hash: storage_version_hash.clone(),
        }));
    }
}

/// A CRD is gone: stop serving it and delete its objects (DELETED events).
pub fn unregister(st: &mut State, crd: &Value) {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    st.resources.retain(|r| r.crd_name.as_deref() != Some(name));
    let keys: Vec<(String, String)> = st
        .objects
        .get(name)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for (ns, n) in keys {
        st.remove(name, &ns, &n);
    }
}

/// Map schema admission causes to the real server's answer. Strict unknown fields fail
/// decoding on create/update (400 `PhoneNumber in version "v1alpha1" cannot be handled as a
/// PhoneNumber: strict decoding error: …`); on a merge or JSON patch they are a 422 on the
/// field `patch` quoting the patched object (`patched`). The rest is 422 Invalid, named by
/// `kind` (the body's, when it names another kind).
pub fn admission_error(
    res: &ResourceInfo,
    kind: &str,
    name: &str,
    causes: &[Cause],
    verb: Verb,
    patched: Option<&Value>,
) -> ApiError {
    let strict = !causes.is_empty() && causes.iter().all(crate::schema::is_unknown_field);
    if strict {
        let msg = crate::schema::strict_decoding_message(causes);
        if verb != Verb::Patch {
            return ApiError::bad_request(format!(
                "{} in version {:?} cannot be handled as a {}: {msg}",
                res.kind, res.version, res.kind
            ));
        }
        let obj = patched.map(Value::to_string).unwrap_or_default();
        let message = format!("Invalid value: {}: {msg}", Value::String(obj));
        let mut e = ApiError::invalid(
            "",
            "",
            "",
            &[Cause {
                reason: "FieldValueInvalid".into(),
                message,
                field: "patch".into(),
            }],
        );
        e.details = Some(
            json!({"causes": e.details.as_ref().and_then(|d| d.get("causes")).cloned().unwrap_or(json!([]))}),
        );
        return e;
    }
    ApiError::invalid(&res.group, kind, name, causes)
}
