//! Pruning of fields the schema does not declare (upstream `structuralpruning`), recording
//! each dropped path so `fieldValidation=Strict|Warn` can report `unknown field "spec.foo"`.

use super::paths::{child, index, preserves_unknown};
use serde_json::{Map, Value};

/// Fields of `metadata` (ObjectMeta) that survive pruning.
pub(crate) const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Prunes a whole custom object: `apiVersion`, `kind` and `metadata` (cut to ObjectMeta) are
/// kept at the root, everything else follows the schema. Returns the dropped paths in order.
pub(crate) fn prune_object(schema: &Value, obj: &mut Value) -> Vec<String> {
    let mut unknown = Vec::new();
    prune_resource(schema, obj, "", &mut unknown);
    unknown
}

/// A resource-shaped object (the root, or an `x-kubernetes-embedded-resource` node).
fn prune_resource(schema: &Value, obj: &mut Value, path: &str, unknown: &mut Vec<String>) {
    let Some(map) = obj.as_object_mut() else {
        prune(schema, obj, path, unknown);
        return;
    };
    let meta = map.remove("metadata");
    let api_version = map.remove("apiVersion");
    let kind = map.remove("kind");
    prune_map(schema, map, path, unknown);
    if let Some(v) = api_version {
        map.insert("apiVersion".into(), v);
    }
    if let Some(v) = kind {
        map.insert("kind".into(), v);
    }
    if let Some(mut m) = meta {
        if let Some(mm) = m.as_object_mut() {
            let mpath = child(path, "metadata");
            mm.retain(|k, _| {
                let keep = OBJECT_META_FIELDS.contains(&k.as_str());
                if !keep {
                    unknown.push(child(&mpath, k));
                }
                keep
            });
        }
        map.insert("metadata".into(), m);
    }
}

/// Prunes `v` against schema node `s`.
pub(crate) fn prune(s: &Value, v: &mut Value, path: &str, unknown: &mut Vec<String>) {
    if s.get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true)
        && v.is_object()
    {
        prune_resource(s, v, path, unknown);
        return;
    }
    match v {
        Value::Object(map) => prune_map(s, map, path, unknown),
        Value::Array(items) => {
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(item_schema, item, &index(path, i), unknown);
                }
            }
        }
        _ => {}
    }
}

fn prune_map(s: &Value, map: &mut Map<String, Value>, path: &str, unknown: &mut Vec<String>) {
    let props = s.get("properties").and_then(Value::as_object);
    let additional = s.get("additionalProperties");
    let preserve = preserves_unknown(s);
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let p = child(path, &key);
        if let Some(ps) = props.and_then(|p| p.get(&key)) {
            if let Some(v) = map.get_mut(&key) {
                prune(ps, v, &p, unknown);
            }
            continue;
        }
        match additional {
            Some(a) if a.is_object() => {
                if let Some(v) = map.get_mut(&key) {
                    prune(a, v, &p, unknown);
                }
            }
            Some(Value::Bool(true)) => {}
            _ if preserve => {}
            _ => {
                map.remove(&key);
                unknown.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prunes_unknown_and_keeps_root_fields() {
        let schema = json!({"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"string"},
            "m":{"type":"object","additionalProperties":{"type":"object","properties":{"x":{"type":"integer"}}}},
            "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
            "l":{"type":"array","items":{"type":"object","properties":{"n":{"type":"string"}}}}}}}});
        let mut obj = json!({"apiVersion":"g/v1","kind":"K","metadata":{"name":"a","bogus":1},
            "spec":{"a":"x","b":1,"m":{"k":{"x":1,"y":2}},"free":{"z":{"q":1}},"l":[{"n":"a","o":1}]},"top":1});
        let unknown = prune_object(&schema, &mut obj);
        assert_eq!(
            obj,
            json!({"apiVersion":"g/v1","kind":"K","metadata":{"name":"a"},
            "spec":{"a":"x","m":{"k":{"x":1}},"free":{"z":{"q":1}},"l":[{"n":"a"}]}})
        );
        assert_eq!(
            unknown,
            vec![
                "spec.b",
                "spec.l[0].o",
                "spec.m.k.y",
                "top",
                "metadata.bogus"
            ]
        );
    }

    #[test]
    fn embedded_resource_keeps_type_meta() {
        let schema = json!({"type":"object","properties":{"spec":{"type":"object","properties":{
            "tpl":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"data":{"type":"string"}}}}}}});
        let mut obj = json!({"spec":{"tpl":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","junk":1},"data":"d","extra":2}}});
        let unknown = prune_object(&schema, &mut obj);
        assert_eq!(
            obj["spec"]["tpl"],
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":"d"})
        );
        assert_eq!(unknown, vec!["spec.tpl.extra", "spec.tpl.metadata.junk"]);
    }
}
