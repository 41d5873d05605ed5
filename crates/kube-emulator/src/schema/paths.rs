//! Field-path helpers shared by pruning, validation and CEL error mapping: `spec.items[0].name`.

use serde_json::Value;

/// `base.key` (or `key` at the root).
pub(crate) fn child(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// `base[i]`.
pub(crate) fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

/// The schema node a field path (as produced by [`child`]/[`index`], or by kube-cel) points at,
/// following `properties`, `additionalProperties` and `items`. Used to name a node's type in
/// CEL errors (`Invalid value: "object"`).
pub(crate) fn schema_at<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = root;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            node = node.get("items").or_else(|| additional(node))?;
            rest = &after[end + 1..];
            continue;
        }
        let rest_trim = rest.strip_prefix('.').unwrap_or(rest);
        let end = rest_trim.find(['.', '[']).unwrap_or(rest_trim.len());
        let key = &rest_trim[..end];
        node = match node.get("properties").and_then(|p| p.get(key)) {
            Some(n) => n,
            None => additional(node)?,
        };
        rest = &rest_trim[end..];
    }
    Some(node)
}

fn additional(node: &Value) -> Option<&Value> {
    node.get("additionalProperties").filter(|a| a.is_object())
}

/// The `type` of a schema node for CEL error values; `object` when unknown.
pub(crate) fn type_name(node: Option<&Value>) -> String {
    node.and_then(|n| n.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("object")
        .to_string()
}

/// `x-kubernetes-preserve-unknown-fields: true` on this node.
pub(crate) fn preserves_unknown(s: &Value) -> bool {
    s.get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

/// `nullable: true` on this node.
pub(crate) fn nullable(s: &Value) -> bool {
    s.get("nullable").and_then(Value::as_bool) == Some(true)
}

/// A path inside a schema (relative to `openAPIV3Schema`): `properties[spec].type`.
pub(crate) fn schema_child(base: &str, key: &str) -> String {
    child(base, key)
}
