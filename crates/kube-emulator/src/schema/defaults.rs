//! Defaulting (upstream `structuraldefaulting`): `default:` values fill absent fields (and
//! replace nulls in non-nullable fields); remaining nulls in non-nullable fields are dropped.
//! Runs on admission and on read.

use super::paths::nullable;
use serde_json::Value;

/// Applies defaults to `v` (any node) following schema `s`. Root `metadata`, `apiVersion`
/// and `kind` are never in a CRD schema's properties in practice, so they are left alone.
pub(crate) fn apply(s: &Value, v: &mut Value) {
    match v {
        Value::Object(map) => {
            let props = s.get("properties").and_then(Value::as_object);
            let additional = s.get("additionalProperties").filter(|a| a.is_object());
            if let Some(props) = props {
                for (key, ps) in props {
                    let absent_or_null = match map.get(key) {
                        None => true,
                        Some(Value::Null) => !nullable(ps),
                        Some(_) => false,
                    };
                    if absent_or_null && let Some(d) = ps.get("default") {
                        map.insert(key.clone(), d.clone());
                    }
                }
            }
            // Drop the nulls no default replaced.
            map.retain(|k, val| {
                if !val.is_null() {
                    return true;
                }
                match props.and_then(|p| p.get(k)).or(additional) {
                    Some(ps) => nullable(ps),
                    None => true,
                }
            });
            for (key, val) in map.iter_mut() {
                if let Some(ps) = props.and_then(|p| p.get(key)).or(additional) {
                    apply(ps, val);
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for item in items.iter_mut() {
                    if item.is_null()
                        && !nullable(is)
                        && let Some(d) = is.get("default")
                    {
                        *item = d.clone();
                    }
                    apply(is, item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_absent_replaces_nulls_and_recurses() {
        let s = json!({"type":"object","properties":{
            "a":{"type":"string","default":"x"},
            "b":{"type":"string"},
            "c":{"type":"string","nullable":true,"default":"z"},
            "d":{"type":"object","default":{},"properties":{"e":{"type":"integer","default":3}}},
            "n":{"type":"string","default":"y"},
            "l":{"type":"array","items":{"type":"object","properties":{"f":{"type":"boolean","default":true}}}}}});
        let mut v = json!({"b":null,"c":null,"n":null,"l":[{},{"f":false}]});
        apply(&s, &mut v);
        assert_eq!(
            v,
            json!({"a":"x","c":null,"d":{"e":3},"n":"y","l":[{"f":true},{"f":false}]})
        );
    }
}
