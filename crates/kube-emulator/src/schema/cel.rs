//! `x-kubernetes-validations` (CEL): compiled when the CRD is written, evaluated on CR writes.
//! Evaluation is delegated to `kube_cel` (K8s CEL libraries, `oldSelf` transition rules,
//! `optionalOldSelf`, `messageExpression`, `fieldPath`); this module compiles each rule once
//! more to name a bad rule precisely, and maps results to causes worded like upstream.

use super::errors::{self as e, Cause};
use super::paths::{schema_at, schema_child as sub, type_name};
use kube_cel::cel::Program;
use kube_cel::{ErrorKind, ValidationError};
use serde_json::Value;

/// Every rule of the schema tree, compiled: `Err` names each rule (or `messageExpression`)
/// that does not compile or is malformed, with its schema path.
pub(crate) fn check_rules(schema: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    walk(schema, "", &mut out, 0);
    out
}

fn walk(s: &Value, path: &str, out: &mut Vec<Cause>, depth: usize) {
    if depth > 60 {
        out.push(e::forbidden(path, "schema nesting is too deep"));
        return;
    }
    if let Some(rules) = s.get("x-kubernetes-validations") {
        match rules.as_array() {
            Some(rules) => {
                for (i, r) in rules.iter().enumerate() {
                    check_rule(
                        s,
                        depth == 0,
                        r,
                        &sub(path, &format!("x-kubernetes-validations[{i}]")),
                        out,
                    );
                }
            }
            None => out.push(e::invalid(
                &sub(path, "x-kubernetes-validations"),
                rules,
                "must be a list of rules",
            )),
        }
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (k, ps) in props {
            walk(ps, &sub(path, &format!("properties[{k}]")), out, depth + 1);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(node) = s.get(key).filter(|x| x.is_object()) {
            walk(node, &sub(path, key), out, depth + 1);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                walk(b, &sub(path, &format!("{key}[{i}]")), out, depth + 1);
            }
        }
    }
}

fn check_rule(node: &Value, root: bool, r: &Value, path: &str, out: &mut Vec<Cause>) {
    let Some(rule) = r.get("rule").and_then(Value::as_str) else {
        out.push(e::required(&sub(path, "rule"), ""));
        return;
    };
    // At the root the server declares apiVersion, kind and metadata (name, generateName).
    let implicit: &[&str] = if root {
        &["apiVersion", "kind", "metadata"]
    } else {
        &[]
    };
    if let Some(field) = undefined_fields(node, rule)
        .into_iter()
        .find(|f| !implicit.contains(&f.as_str()))
    {
        out.push(e::invalid(
            &sub(path, "rule"),
            &Value::String(rule.to_string()),
            &format!("compilation failed: ERROR: <input>: undefined field '{field}'"),
        ));
        return;
    }
    if let Err(err) = Program::compile(rule) {
        let text = err.to_string();
        let detail = if text.contains("unsupported") {
            format!("unsupported rule: the emulator's CEL parser lacks this syntax: {text}")
        } else {
            format!("compilation failed: {text}")
        };
        out.push(e::invalid(
            &sub(path, "rule"),
            &Value::String(rule.to_string()),
            &detail,
        ));
    }
    if let Some(me) = r.get("messageExpression").and_then(Value::as_str)
        && let Err(err) = Program::compile(me)
    {
        out.push(e::invalid(
            &sub(path, "messageExpression"),
            &Value::String(me.to_string()),
            &format!("messageExpression compilation failed: {err}"),
        ));
    }
    for (k, want) in [
        ("message", "string"),
        ("reason", "string"),
        ("fieldPath", "string"),
    ] {
        if let Some(v) = r.get(k)
            && !v.is_string()
        {
            out.push(e::invalid(&sub(path, k), v, &format!("must be a {want}")));
        }
    }
    if let Some(reason) = r.get("reason").and_then(Value::as_str)
        && ![e::INVALID, e::REQUIRED, e::FORBIDDEN, e::DUPLICATE].contains(&reason)
    {
        let supported: Vec<Value> = [e::INVALID, e::FORBIDDEN, e::REQUIRED, e::DUPLICATE]
            .iter()
            .map(|s| Value::String((*s).to_string()))
            .collect();
        out.push(e::not_supported(
            &sub(path, "reason"),
            &Value::String(reason.to_string()),
            &supported,
        ));
    }
}

/// Evaluates every rule against the (pruned, defaulted) object; `old` enables transition rules.
pub(crate) fn evaluate(
    compiled: &kube_cel::CompiledSchema,
    schema: &Value,
    obj: &Value,
    old: Option<&Value>,
) -> Vec<Cause> {
    // Upstream never evaluates rules on null values; object members holding null (only
    // nullable fields keep them after defaulting) are hidden from CEL as if absent.
    let obj = without_nulls(obj);
    let old = old.map(without_nulls);
    match kube_cel::validate_compiled(compiled, &obj, old.as_ref()) {
        Ok(()) => Vec::new(),
        Err(errs) => errs.iter().map(|err| to_cause(err, schema, &obj)).collect(),
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn to_cause(err: &ValidationError, schema: &Value, obj: &Value) -> Cause {
    let field = if err.field_path.is_empty() {
        e::ROOT_FIELD.to_string()
    } else {
        err.field_path.clone()
    };
    // Upstream reports a failed rule with the value of the node that carries the rule (not of
    // its `fieldPath` target), omitted when that node is an object or an array (1.34+).
    let rule_path = rule_node_path(schema, &err.field_path, &err.rule);
    let node = schema_at(schema, rule_path);
    let ty = type_name(node);
    match err.kind {
        ErrorKind::ValidationFailure => {
            let value = if ty == "object" || ty == "array" {
                None
            } else {
                value_at(obj, rule_path)
            };
            e::for_reason(err.reason.as_deref(), &field, value, &err.message)
        }
        ErrorKind::UnsupportedReference => e::invalid_raw(
            &field,
            &e::quote(&ty),
            &format!("unsupported rule {}: {}", e::quote(&err.rule), err.message),
        ),
        ErrorKind::EvaluationError | ErrorKind::InvalidResult => {
            e::invalid_raw(&field, &e::quote(&ty), &err.message)
        }
        _ => e::invalid_raw(
            &field,
            &e::quote(&ty),
            &format!("unsupported rule {}: {}", e::quote(&err.rule), err.message),
        ),
    }
}

/// The longest prefix of `field_path` (the error's path, which includes a rule's `fieldPath`)
/// whose schema node carries `rule`; `field_path` itself when none does.
fn rule_node_path<'a>(schema: &Value, field_path: &'a str, rule: &str) -> &'a str {
    let mut cuts: Vec<usize> = field_path
        .char_indices()
        .filter(|(_, c)| *c == '.' || *c == '[')
        .map(|(i, _)| i)
        .collect();
    cuts.push(field_path.len());
    cuts.insert(0, 0);
    for &end in cuts.iter().rev() {
        let prefix = &field_path[..end];
        let has_rule = schema_at(schema, prefix)
            .and_then(|n| n.get("x-kubernetes-validations"))
            .and_then(Value::as_array)
            .is_some_and(|rules| {
                rules
                    .iter()
                    .any(|r| r.get("rule").and_then(Value::as_str) == Some(rule))
            });
        if has_rule {
            return prefix;
        }
    }
    field_path
}

/// The value a field path (`spec.items[0].name`, `spec.labels[key]`) points at.
fn value_at<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = root;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let key = &after[..end];
            node = match node {
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                Value::Object(m) => m.get(key)?,
                _ => return None,
            };
            rest = &after[end + 1..];
            continue;
        }
        let rest_trim = rest.strip_prefix('.').unwrap_or(rest);
        let end = rest_trim.find(['.', '[']).unwrap_or(rest_trim.len());
        node = node.get(&rest_trim[..end])?;
        rest = &rest_trim[end..];
    }
    Some(node)
}

/// Fields a rule reads as `self.<field>` that the real API server's type checker does not know:
/// on an object node with declared properties (and no `x-kubernetes-preserve-unknown-fields`),
/// a field that is not a property, or a property without a `type` (an untyped
/// preserve-unknown-fields property is not declared to CEL). Method calls (`self.size()`) and
/// other nodes are not checked.
fn undefined_fields(node: &Value, rule: &str) -> Vec<String> {
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    if node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return Vec::new();
    }
    let bytes = rule.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = rule[at..].find("self.") {
        let start = at + found;
        at = start + "self.".len();
        if start > 0 && ident(bytes[start - 1]) {
            continue; // e.g. `oldself.` is not `self.`
        }
        let end = rule[at..]
            .bytes()
            .position(|c| !ident(c))
            .map_or(rule.len(), |n| at + n);
        let field = &rule[at..end];
        if field.is_empty() || rule[end..].starts_with('(') {
            continue;
        }
        let declared = props.get(field).is_some_and(|p| {
            p.get("type").is_some()
                || p.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        });
        if !declared && !out.iter().any(|f| f == field) {
            out.push(field.to_string());
        }
    }
    out
}
