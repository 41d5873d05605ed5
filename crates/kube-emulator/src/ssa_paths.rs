//! Field paths for server-side apply ownership. A path is a `/`-joined list of segments: object
//! keys (escaped like JSON pointers, plus `~2` for a leading `[`) and list items `[m{keys}]`
//! (an item of an `x-kubernetes-list-type: map` list, identified by its key fields) or `[s<json>]`
//! (a value of a `set` list). Maps are descended; map-list items and set values are owned one by
//! one (an item as a whole); other lists and scalars are leaves. `metadata.finalizers` is a set
//! and `metadata.ownerReferences` a map keyed by `uid`, as upstream.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum ListKind {
    Atomic,
    Set,
    Map(Vec<String>),
}

fn escape(k: &str) -> String {
    let e = k.replace('~', "~0").replace('/', "~1");
    match e.strip_prefix('[') {
        Some(rest) => format!("~2{rest}"),
        None => e,
    }
}

fn unescape(s: &str) -> String {
    s.replace("~1", "/").replace("~2", "[").replace("~0", "~")
}

fn list_kind(schema: Option<&Value>, path: &str) -> ListKind {
    match path {
        "/metadata/finalizers" => return ListKind::Set,
        "/metadata/ownerReferences" => return ListKind::Map(vec!["uid".into()]),
        _ => {}
    }
    let Some(s) = schema else {
        return ListKind::Atomic;
    };
    match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => ListKind::Set,
        Some("map") => {
            let keys: Vec<String> = s
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if keys.is_empty() {
                ListKind::Atomic
            } else {
                ListKind::Map(keys)
            }
        }
        _ => ListKind::Atomic,
    }
}

fn child_schema<'a>(schema: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    let s = schema?;
    s.get("properties")
        .and_then(|p| p.get(key))
        .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
}

fn item_segment(item: &Value, kind: &ListKind) -> Option<String> {
    match kind {
        ListKind::Set => Some(format!("[s{}]", escape(&item.to_string()))),
        ListKind::Map(keys) => {
            let mut id = Map::new();
            for k in keys {
                id.insert(k.clone(), item.get(k).cloned().unwrap_or(Value::Null));
            }
            Some(format!("[m{}]", escape(&Value::Object(id).to_string())))
        }
        ListKind::Atomic => None,
    }
}

/// Collect the owned paths under `v` (at `prefix`, described by `schema`).
pub fn collect(v: &Value, schema: Option<&Value>, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, c) in m {
                collect(
                    c,
                    child_schema(schema, k),
                    &format!("{prefix}/{}", escape(k)),
                    out,
                );
            }
        }
        Value::Array(items) => {
            let kind = list_kind(schema, prefix);
            if kind == ListKind::Atomic {
                out.insert(prefix.to_string());
                return;
            }
            for it in items {
                if let Some(seg) = item_segment(it, &kind) {
                    out.insert(format!("{prefix}/{seg}"));
                }
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

enum Seg {
    Key(String),
    Item(char, Value),
}

fn parse(path: &str) -> Option<Vec<Seg>> {
    path.split('/')
        .skip(1)
        .map(
            |s| match s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(inner) => {
                    let mut chars = inner.chars();
                    let tag = chars.next()?;
                    let v: Value = serde_json::from_str(&unescape(chars.as_str())).ok()?;
                    Some(Seg::Item(tag, v))
                }
                None => Some(Seg::Key(unescape(s))),
            },
        )
        .collect()
}

fn matches_item(item: &Value, tag: char, id: &Value) -> bool {
    match (tag, id) {
        ('m', Value::Object(keys)) => keys
            .iter()
            .all(|(k, v)| item.get(k).unwrap_or(&Value::Null) == v),
        _ => item == id,
    }
}

fn step<'a>(v: &'a Value, seg: &Seg) -> Option<&'a Value> {
    match seg {
        Seg::Key(k) => v.get(k),
        Seg::Item(tag, id) => v.as_array()?.iter().find(|it| matches_item(it, *tag, id)),
    }
}

fn step_mut<'a>(v: &'a mut Value, seg: &Seg) -> Option<&'a mut Value> {
    match seg {
        Seg::Key(k) => v.get_mut(k),
        Seg::Item(tag, id) => v
            .as_array_mut()?
            .iter_mut()
            .find(|it| matches_item(it, *tag, id)),
    }
}

/// The value an owned path points at.
pub fn value_at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    parse(path)?.iter().try_fold(obj, step)
}

/// Remove what a path points at; empty maps left behind are removed too (not `metadata`).
pub fn remove(doc: &mut Value, path: &str) {
    let Some(segs) = parse(path) else { return };
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let Some(parent) = parents.iter().try_fold(&mut *doc, |v, s| step_mut(v, s)) else {
        return;
    };
    match last {
        Seg::Key(k) => {
            if let Some(m) = parent.as_object_mut() {
                m.remove(k);
            }
        }
        Seg::Item(tag, id) => {
            if let Some(a) = parent.as_array_mut() {
                a.retain(|it| !matches_item(it, *tag, id));
            }
        }
    }
    let now_empty = parent.as_object().is_some_and(Map::is_empty);
    if now_empty && !parents.is_empty() {
        let parent_path = &path[..path.rfind('/').unwrap_or(0)];
        if parent_path != "/metadata" {
            remove(doc, parent_path);
        }
    }
}

/// Merge an applied body into the live object: maps merge per key, `null` deletes, map-list
/// items replace the item with the same keys (or are appended), set values are unioned, other
/// lists and scalars replace.
pub fn merge(doc: &mut Value, patch: &Value, schema: Option<&Value>, path: &str) {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                let child = format!("{path}/{}", escape(k));
                if v.is_null() {
                    d.remove(k);
                    continue;
                }
                match d.get_mut(k) {
                    Some(existing) => merge(existing, v, child_schema(schema, k), &child),
                    None => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(p)) => match list_kind(schema, path) {
            ListKind::Atomic => *d = p.clone(),
            kind => {
                for it in p {
                    let seg = item_segment(it, &kind);
                    let pos = seg.as_deref().and_then(|s| {
                        let segs = parse(&format!("/{s}"))?;
                        let Seg::Item(tag, id) = segs.first()? else {
                            return None;
                        };
                        d.iter().position(|x| matches_item(x, *tag, id))
                    });
                    match pos {
                        Some(i) => d[i] = it.clone(),
                        None => d.push(it.clone()),
                    }
                }
            }
        },
        (d, p) => *d = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"properties":{"status":{"properties":{"conditions":{"type":"array",
            "x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["type"],"items":{"type":"object"}}}}}})
    }

    #[test]
    fn map_lists_are_owned_per_item() {
        let s = schema();
        let obj = json!({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Billed","status":"False"}]}});
        let mut out = BTreeSet::new();
        collect(&obj, Some(&s), "", &mut out);
        assert_eq!(out.len(), 2);
        let ready = out.iter().find(|p| p.contains("Ready")).unwrap().clone();
        assert_eq!(value_at(&obj, &ready).unwrap()["status"], "True");
        let mut live = obj.clone();
        merge(
            &mut live,
            &json!({"status":{"conditions":[{"type":"Ready","status":"False"}]}}),
            Some(&s),
            "",
        );
        assert_eq!(live["status"]["conditions"].as_array().unwrap().len(), 2);
        assert_eq!(value_at(&live, &ready).unwrap()["status"], "False");
        remove(&mut live, &ready);
        assert_eq!(
            live["status"]["conditions"],
            json!([{"type":"Billed","status":"False"}])
        );
    }

    #[test]
    fn keys_with_slashes_and_brackets_round_trip() {
        let obj = json!({"metadata":{"labels":{"a/b":"1","[x":"2"},"finalizers":["f/one"]}});
        let mut out = BTreeSet::new();
        collect(&obj, None, "", &mut out);
        for p in &out {
            assert!(value_at(&obj, p).is_some(), "{p}");
        }
        let mut d = obj.clone();
        for p in &out {
            remove(&mut d, p);
        }
        assert_eq!(d, json!({"metadata":{"finalizers":[]}}));
    }
}
