//! Behaviour specific to built-in kinds on write: Secret `stringData` merged into base64 `data`
//! and `type` defaulting; Namespace phase, finalizers and the `kubernetes.io/metadata.name` label.

use base64::Engine;
use serde_json::{Value, json};

use crate::resources::ResourceInfo;

pub fn prepare(res: &ResourceInfo, obj: &mut Value, old: Option<&Value>) {
    if !res.group.is_empty() {
        return;
    }
    match res.plural.as_str() {
        "secrets" => {
            if let Some(sd) = obj.as_object_mut().and_then(|m| m.remove("stringData"))
                && let Some(sd) = sd.as_object()
            {
                if !obj.get("data").is_some_and(Value::is_object) {
                    obj["data"] = json!({});
                }
                for (k, v) in sd {
                    let text = v
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string());
                    obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
                }
            }
            if obj.get("type").is_none_or(Value::is_null) {
                obj["type"] = json!("Opaque");
            }
        }
        "namespaces" => {
            let name = obj
                .pointer("/metadata/name")
                .cloned()
                .unwrap_or(Value::Null);
            if !obj
                .pointer("/metadata/labels")
                .is_some_and(Value::is_object)
            {
                obj["metadata"]["labels"] = json!({});
            }
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
            // a new namespace always gets the `kubernetes` finalizer (upstream's
            // PrepareForCreate overrides what the client sent)
            if old.is_none() || obj.pointer("/spec/finalizers").is_none() {
                if !obj.get("spec").is_some_and(Value::is_object) {
                    obj["spec"] = json!({});
                }
                obj["spec"]["finalizers"] = json!(["kubernetes"]);
            }
            let phase = if obj.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                "Active"
            };
            obj["status"] = json!({"phase": phase});
        }
        _ => {}
    }
}
