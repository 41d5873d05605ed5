//! Light structural-schema checks done when a CRD is written (upstream rejects non-structural
//! schemas with 422), plus regex compilation of every `pattern`.

use super::errors::{self as e, Cause};
use super::paths::{preserves_unknown, schema_child as sub};
use super::structural::Patterns;
use regex::Regex;
use serde_json::Value;

const TYPES: &[&str] = &["object", "array", "string", "integer", "number", "boolean"];

/// Checks the schema tree and collects its patterns; field paths are relative to `openAPIV3Schema` (`properties[spec].type`; empty for the root).
pub(crate) fn check(schema: &Value, pats: &mut Patterns) -> Vec<Cause> {
    let mut out = Vec::new();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        out.push(e::required("type", "must be object at the root"));
    }
    node(schema, "", false, pats, &mut out, 0);
    out
}

fn node(
    s: &Value,
    path: &str,
    in_junctor: bool,
    pats: &mut Patterns,
    out: &mut Vec<Cause>,
    depth: usize,
) {
    if depth > 60 {
        out.push(e::forbidden(path, "schema nesting is too deep"));
        return;
    }
    let Some(map) = s.as_object() else {
        out.push(e::invalid(path, s, "must be a schema object"));
        return;
    };
    let int_or_string = map
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    let ty = map.get("type").and_then(Value::as_str);
    match ty {
        Some(t) if !TYPES.contains(&t) => {
            let supported: Vec<Value> = TYPES.iter().map(|t| Value::String((*t).into())).collect();
            out.push(e::not_supported(
                &sub(path, "type"),
                &map["type"],
                &supported,
            ));
        }
        None if !in_junctor && !int_or_string && !preserves_unknown(s) && depth > 0 => {
            out.push(e::required(
                &sub(path, "type"),
                "must not be empty for specified fields",
            ));
        }
        _ => {}
    }
    if ty == Some("array") && !map.contains_key("items") {
        out.push(e::required(&sub(path, "items"), "must be specified"));
    }
    if map.contains_key("properties")
        && map
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() || a == &Value::Bool(true))
    {
        out.push(e::forbidden(
            &sub(path, "additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    if let Some(p) = map.get("pattern").and_then(Value::as_str)
        && !pats.contains_key(p)
    {
        match Regex::new(p) {
            Ok(re) => {
                pats.insert(p.to_string(), re);
            }
            Err(err) => out.push(e::invalid(
                &sub(path, "pattern"),
                &map["pattern"],
                &format!("must be a valid regular expression: {err}"),
            )),
        }
    }
    if map.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map")
        && map
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .is_none_or(|k| k.is_empty())
    {
        out.push(e::required(
            &sub(path, "x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        ));
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (k, ps) in props {
            node(
                ps,
                &sub(path, &format!("properties[{k}]")),
                in_junctor,
                pats,
                out,
                depth + 1,
            );
        }
    }
    if let Some(items) = map.get("items") {
        node(items, &sub(path, "items"), in_junctor, pats, out, depth + 1);
    }
    if let Some(a) = map.get("additionalProperties").filter(|a| a.is_object()) {
        node(
            a,
            &sub(path, "additionalProperties"),
            in_junctor,
            pats,
            out,
            depth + 1,
        );
    }
    if let Some(n) = map.get("not") {
        node(n, &sub(path, "not"), true, pats, out, depth + 1);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = map.get(key).and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                node(
                    b,
                    &sub(path, &format!("{key}[{i}]")),
                    true,
                    pats,
                    out,
                    depth + 1,
                );
            }
        }
    }
}
