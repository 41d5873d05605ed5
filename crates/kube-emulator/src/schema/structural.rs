//! Value validation against an OpenAPI v3 schema node (upstream kube-openapi `validate` plus
//! the apiextensions list-type checks), producing causes worded like the real server.

use super::errors::{self as e, Cause};
use super::formats;
use super::paths::{child, index, nullable};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Compiled `pattern` regexes, keyed by their source text.
pub(crate) type Patterns = HashMap<String, Regex>;

/// Validates a whole custom object: the root schema, minus `apiVersion`/`kind`/`metadata`
/// (which the schema does not describe unless it declares them).
pub(crate) fn validate_object(schema: &Value, obj: &Value, pats: &Patterns) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut v = obj.clone();
    if let Some(map) = v.as_object_mut() {
        let declared = schema.get("properties").and_then(Value::as_object);
        for k in ["apiVersion", "kind", "metadata"] {
            if declared.is_none_or(|d| !d.contains_key(k)) {
                map.remove(k);
            }
        }
    }
    validate(schema, &v, "", pats, &mut out);
    out
}

/// Validates `v` at `path` against schema node `s`, appending causes to `out`.
pub(crate) fn validate(s: &Value, v: &Value, path: &str, pats: &Patterns, out: &mut Vec<Cause>) {
    let name = if path.is_empty() { "body" } else { path };
    if v.is_null() {
        if nullable(s) {
            return;
        }
        if let Some(t) = s.get("type").and_then(Value::as_str) {
            out.push(e::type_invalid(
                path,
                &Value::String("null".into()),
                &format!("{name} in body must be of type {t}: \"null\""),
            ));
            return;
        }
    }
    if !check_type(s, v, path, name, out) {
        // upstream still runs the `anyOf` of an int-or-string node
        if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            check_junctors(s, v, path, pats, out);
        }
        return;
    }
    if let Some(f) = s.get("format").and_then(Value::as_str)
        && !formats::check(f, v)
    {
        out.push(e::type_invalid(
            path,
            v,
            &format!(
                "{name} in body must be of type {f}: {}",
                e::quote(&plain(v))
            ),
        ));
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.iter().any(|a| json_eq(a, v))
    {
        out.push(e::not_supported(path, v, allowed));
    }
    match v {
        Value::Number(_) => check_number(s, v, path, name, out),
        Value::String(st) => check_string(s, v, st, path, name, pats, out),
        Value::Array(items) => check_array(s, v, items, path, name, pats, out),
        Value::Object(map) => check_map(s, v, map, path, name, pats, out),
        _ => {}
    }
    check_junctors(s, v, path, pats, out);
}

/// `type` (and `x-kubernetes-int-or-string`); false when the value has the wrong type.
fn check_type(s: &Value, v: &Value, path: &str, name: &str, out: &mut Vec<Cause>) -> bool {
    if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        if is_integer(v) || v.is_string() {
            return true;
        }
        out.push(e::type_invalid(
            path,
            &Value::String(e::json_type_name(v).into()),
            &format!(
                "{name} in body must be of type integer,string: {}",
                e::quote(e::json_type_name(v))
            ),
        ));
        return false;
    }
    let Some(t) = s.get("type").and_then(Value::as_str) else {
        return true;
    };
    let ok = match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => is_integer(v),
        "number" => v.is_number(),
        _ => true,
    };
    if !ok && t == "integer" && v.is_number() {
        // kube-openapi's type validator names int32/int64 formats (and Go's float64), and its
        // format check adds a root-level note about the integer.
        let format = s.get("format").and_then(Value::as_str);
        let (bad, want, note) = match format {
            Some(f @ ("int32" | "int64")) => ("float64", f, format!("with format {f}")),
            _ => ("number", "integer", "(default format)".to_string()),
        };
        out.push(e::type_invalid(
            path,
            &Value::String(bad.into()),
            &format!("{name} in body must be of type {want}: {}", e::quote(bad)),
        ));
        out.push(e::invalid(
            e::ROOT_FIELD,
            &Value::String(String::new()),
            &format!("Checked value must be of type integer {note} in {name}"),
        ));
    } else if !ok {
        out.push(e::type_invalid(
            path,
            &Value::String(e::json_type_name(v).into()),
            &format!(
                "{name} in body must be of type {t}: {}",
                e::quote(e::json_type_name(v))
            ),
        ));
    }
    ok
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
        }
        _ => false,
    }
}

/// The value as go-openapi prints it inside `%q` (strings bare, others as JSON).
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// JSON equality where numbers compare by value (`1` == `1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Go's `%v` of a float64 limit (`1` for `1.0`).
fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(f) => f.to_string(),
        None => v.to_string(),
    }
}

fn flag(s: &Value, k: &str) -> bool {
    s.get(k).and_then(Value::as_bool) == Some(true)
}

fn check_number(s: &Value, v: &Value, path: &str, name: &str, out: &mut Vec<Cause>) {
    let Some(x) = v.as_f64() else { return };
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        let excl = flag(s, "exclusiveMinimum");
        if (excl && x <= min) || (!excl && x < min) {
            let op = if excl {
                "greater than"
            } else {
                "greater than or equal to"
            };
            let detail = format!("{name} in body should be {op} {}", num(&s["minimum"]));
            out.push(e::invalid(path, v, &detail));
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        let excl = flag(s, "exclusiveMaximum");
        if (excl && x >= max) || (!excl && x > max) {
            let op = if excl {
                "less than"
            } else {
                "less than or equal to"
            };
            let detail = format!("{name} in body should be {op} {}", num(&s["maximum"]));
            out.push(e::invalid(path, v, &detail));
        }
    }
    if let Some(m) = s.get("multipleOf").and_then(Value::as_f64)
        && m > 0.0
    {
        // kube-openapi checks an integer value against the factor converted to an integer
        // (Go's truncation): a fractional factor below 1 becomes 0 and fails as non-positive.
        let integral = v.as_i64().filter(|_| !v.is_f64());
        if let Some(i) = integral
            && m.fract() != 0.0
        {
            let factor = m.trunc() as i64;
            if factor <= 0 {
                let detail =
                    format!("factor MultipleOf declared for {name} must be positive: {factor}");
                out.push(e::invalid(path, &Value::from(factor), &detail));
            } else if i % factor != 0 {
                let detail = format!("{name} in body should be a multiple of {factor}");
                out.push(e::invalid(path, v, &detail));
            }
            return;
        }
        let ok = match (integral, s["multipleOf"].as_i64()) {
            (Some(i), Some(mi)) if mi != 0 => i % mi == 0,
            _ => {
                let q = x / m;
                (q - q.round()).abs() < 1e-9
            }
        };
        if !ok {
            let detail = format!(
                "{name} in body should be a multiple of {}",
                num(&s["multipleOf"])
            );
            out.push(e::invalid(path, v, &detail));
        }
    }
}

fn check_string(
    s: &Value,
    v: &Value,
    st: &str,
    path: &str,
    name: &str,
    pats: &Patterns,
    out: &mut Vec<Cause>,
) {
    let len = st.chars().count() as u64;
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        out.push(e::too_long(path, max));
    }
    if let Some(min) = s.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        let detail = format!("{name} in body should be at least {min} chars long");
        out.push(e::invalid(path, v, &detail));
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        let matched = match pats.get(p) {
            Some(re) => re.is_match(st),
            None => Regex::new(p).map(|re| re.is_match(st)).unwrap_or(true),
        };
        if !matched {
            let detail = format!("{name} in body should match '{p}'");
            out.push(e::invalid(path, v, &detail));
        }
    }
}

fn check_array(
    s: &Value,
    v: &Value,
    items: &[Value],
    path: &str,
    name: &str,
    pats: &Patterns,
    out: &mut Vec<Cause>,
) {
    if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
        && items.len() as u64 > max
    {
        out.push(e::too_many(path, items.len(), max));
    }
    if let Some(min) = s.get("minItems").and_then(Value::as_u64)
        && (items.len() as u64) < min
    {
        let detail = format!("{name} in body should have at least {min} items");
        out.push(e::invalid(path, v, &detail));
    }
    if flag(s, "uniqueItems") && has_duplicates(items) {
        let detail = format!("{name} in body shouldn't contain duplicates");
        out.push(e::invalid(path, v, &detail));
    }
    if let Some(is) = s.get("items") {
        for (i, item) in items.iter().enumerate() {
            validate(is, item, &index(path, i), pats, out);
        }
    }
    match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => {
            for (i, item) in items.iter().enumerate() {
                if items[..i].iter().any(|p| json_eq(p, item)) {
                    out.push(e::duplicate(&index(path, i), item));
                }
            }
        }
        Some("map") => {
            let keys: Vec<&str> = s
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let key_of = |item: &Value| -> Value {
                let mut m = Map::new();
                for k in &keys {
                    if let Some(kv) = item.get(*k) {
                        m.insert((*k).to_string(), kv.clone());
                    }
                }
                Value::Object(m)
            };
            for (i, item) in items.iter().enumerate() {
                let k = key_of(item);
                if items[..i].iter().any(|p| key_of(p) == k) {
                    out.push(e::duplicate(&index(path, i), &k));
                }
            }
        }
        _ => {}
    }
}

fn has_duplicates(items: &[Value]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, it)| items[..i].iter().any(|p| json_eq(p, it)))
}

fn check_map(
    s: &Value,
    v: &Value,
    map: &Map<String, Value>,
    path: &str,
    name: &str,
    pats: &Patterns,
    out: &mut Vec<Cause>,
) {
    if let Some(max) = s.get("maxProperties").and_then(Value::as_u64)
        && map.len() as u64 > max
    {
        out.push(e::too_many(path, map.len(), max));
    }
    if let Some(min) = s.get("minProperties").and_then(Value::as_u64)
        && (map.len() as u64) < min
    {
        let detail = format!("{name} in body should have at least {min} properties");
        out.push(e::invalid(path, v, &detail));
    }
    if let Some(req) = s.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                out.push(e::required(&child(path, r), ""));
            }
        }
    }
    let props = s.get("properties").and_then(Value::as_object);
    let additional = s.get("additionalProperties").filter(|a| a.is_object());
    for (k, val) in map {
        let p = child(path, k);
        if let Some(ps) = props.and_then(|pr| pr.get(k)) {
            validate(ps, val, &p, pats, out);
        } else if let Some(a) = additional {
            validate(a, val, &p, pats, out);
        }
    }
}

/// `allOf`/`anyOf`/`oneOf`/`not` after kube-openapi's `schemaPropsValidator`: the branch errors
/// it keeps (all of `allOf`'s; of a failed `anyOf`/`oneOf` the branch with the fewest errors,
/// the first on a tie, standing in for go-openapi's match count) plus a composite error, which
/// the apiextensions server reports at the root: `<nil>: Invalid value: "": "spec.x" must
/// validate at least one schema (anyOf)`.
fn check_junctors(s: &Value, v: &Value, path: &str, pats: &Patterns, out: &mut Vec<Cause>) {
    let run = |branch: &Value| {
        let mut errs = Vec::new();
        validate(branch, v, path, pats, &mut errs);
        errs
    };
    let composite =
        |detail: String| e::invalid(e::ROOT_FIELD, &Value::String(String::new()), &detail);
    let best = |results: Vec<Vec<Cause>>| results.into_iter().min_by_key(Vec::len);
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.is_empty()
    {
        let results: Vec<Vec<Cause>> = any.iter().map(run).collect();
        if !results.iter().any(Vec::is_empty) {
            out.push(composite(format!(
                "{} must validate at least one schema (anyOf)",
                e::quote(path)
            )));
            out.extend(best(results).unwrap_or_default());
        }
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array)
        && !one.is_empty()
    {
        let results: Vec<Vec<Cause>> = one.iter().map(run).collect();
        let valid = results.iter().filter(|r| r.is_empty()).count();
        if valid != 1 {
            let found = if valid == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {valid} valid alternatives")
            };
            out.push(composite(format!(
                "{} must validate one and only one schema (oneOf). {found}",
                e::quote(path)
            )));
            if valid == 0 {
                out.extend(best(results).unwrap_or_default());
            }
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array)
        && !all.is_empty()
    {
        let mut valid = 0;
        for b in all {
            let errs = run(b);
            if errs.is_empty() {
                valid += 1;
            }
            out.extend(errs);
        }
        if valid != all.len() {
            let none = if valid == 0 { ". None validated" } else { "" };
            out.push(composite(format!(
                "{} must validate all the schemas (allOf){none}",
                e::quote(path)
            )));
        }
    }
    if let Some(not) = s.get("not")
        && run(not).is_empty()
    {
        out.push(composite(format!(
            "{} must not validate the schema (not)",
            e::quote(path)
        )));
    }
}
