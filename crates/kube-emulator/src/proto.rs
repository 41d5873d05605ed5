//! Just enough Kubernetes protobuf decoding for the bodies kubectl's generators send
//! (`kubectl create configmap|secret|namespace` POST `application/vnd.kubernetes.protobuf`):
//! the `k8s\0` envelope (`runtime.Unknown`), ObjectMeta's writable basics, ConfigMap, Secret and
//! Namespace. Anything else answers 415.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::errors::ApiError;

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// Decode a message into (field number, value) pairs.
fn fields(buf: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (num, wire) = (key >> 3, key & 7);
        match wire {
            0 => out.push((num, Field::Varint(varint(buf, &mut pos)?))),
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let end = pos.checked_add(len)?;
                out.push((num, Field::Bytes(buf.get(pos..end)?)));
                pos = end;
            }
            1 => pos += 8,
            5 => pos += 4,
            _ => return None,
        }
    }
    Some(out)
}

fn text(b: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(b).into_owned())
}

fn b64(b: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

/// A map entry message (key = 1, value = 2) into `m`.
fn map_entry(m: &mut Map<String, Value>, entry: &[u8], bytes_value: bool) -> Option<()> {
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    for (n, f) in fields(entry)? {
        if let Field::Bytes(b) = f {
            match n {
                1 => k = String::from_utf8_lossy(b).into_owned(),
                2 => v = if bytes_value { b64(b) } else { text(b) },
                _ => {}
            }
        }
    }
    m.insert(k, v);
    Some(())
}

fn object_meta(buf: &[u8]) -> Option<Value> {
    let mut meta = Map::new();
    let (mut labels, mut annotations, mut finalizers) = (Map::new(), Map::new(), Vec::new());
    for (n, f) in fields(buf)? {
        let Field::Bytes(b) = f else { continue };
        if b.is_empty() {
            continue; // proto2 optional strings are sent empty
        }
        match n {
            1 => drop(meta.insert("name".into(), text(b))),
            2 => drop(meta.insert("generateName".into(), text(b))),
            3 => drop(meta.insert("namespace".into(), text(b))),
            11 => map_entry(&mut labels, b, false)?,
            12 => map_entry(&mut annotations, b, false)?,
            14 => finalizers.push(text(b)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".into(), Value::Array(finalizers));
    }
    Some(Value::Object(meta))
}

fn decode_kind(kind: &str, raw: &[u8]) -> Option<Value> {
    let mut obj = json!({"apiVersion": "v1", "kind": kind});
    let (mut data, mut other) = (Map::new(), Map::new());
    for (n, f) in fields(raw)? {
        match (kind, n, f) {
            (_, 1, Field::Bytes(b)) => obj["metadata"] = object_meta(b)?,
            ("ConfigMap", 2, Field::Bytes(b)) => map_entry(&mut data, b, false)?,
            ("ConfigMap", 3, Field::Bytes(b)) => map_entry(&mut other, b, true)?,
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                obj["immutable"] = json!(v != 0)
            }
            ("Secret", 2, Field::Bytes(b)) => map_entry(&mut data, b, true)?,
            ("Secret", 3, Field::Bytes(b)) if !b.is_empty() => obj["type"] = text(b),
            ("Secret", 4, Field::Bytes(b)) => map_entry(&mut other, b, false)?,
            ("Namespace", 2, Field::Bytes(b)) => {
                let fins: Vec<Value> = fields(b)?
                    .into_iter()
                    .filter_map(|(n, f)| match (n, f) {
                        (1, Field::Bytes(x)) => Some(text(x)),
                        _ => None,
                    })
                    .collect();
                obj["spec"] = json!({"finalizers": fins});
            }
            _ => {}
        }
    }
    if !data.is_empty() {
        obj["data"] = Value::Object(data);
    }
    if !other.is_empty() {
        let key = if kind == "Secret" {
            "stringData"
        } else {
            "binaryData"
        };
        obj[key] = Value::Object(other);
    }
    Some(obj)
}

/// Decode a protobuf request body into JSON.
pub fn decode(body: &[u8], ct: &str) -> Result<Value, ApiError> {
    let unsupported = || {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct})"
            ),
        )
    };
    let inner = body.strip_prefix(b"k8s\x00").ok_or_else(unsupported)?;
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (n, f) in fields(inner).ok_or_else(unsupported)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (m, g) in fields(tm).ok_or_else(unsupported)? {
                    if let (2, Field::Bytes(k)) = (m, g) {
                        kind = String::from_utf8_lossy(k).into_owned();
                    }
                }
            }
            (2, Field::Bytes(r)) => raw = r,
            _ => {}
        }
    }
    match kind.as_str() {
        "ConfigMap" | "Secret" | "Namespace" => decode_kind(&kind, raw).ok_or_else(unsupported),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3 | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_configmap() {
        let meta = [tag(1, b"c1"), tag(3, b"default")].concat();
        let entry = [tag(1, b"a"), tag(2, b"b")].concat();
        let raw = [tag(1, &meta), tag(2, &entry)].concat();
        let tm = [tag(1, b"v1"), tag(2, b"ConfigMap")].concat();
        let body = [b"k8s\x00".to_vec(), tag(1, &tm), tag(2, &raw)].concat();
        let v = decode(&body, "application/vnd.kubernetes.protobuf").unwrap();
        assert_eq!(
            v,
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","namespace":"default"},"data":{"a":"b"}})
        );
    }
}
