//! Server-side printing: `meta.k8s.io/v1` Tables for custom resources (the CRD's
//! `additionalPrinterColumns`, upstream `tableconvertor`) and for a few built-in kinds, with
//! kubectl's age format.

use super::jsonpath::JsonPath;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";

/// One `additionalPrinterColumns` entry of a CRD version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

/// The printer columns of a CRD version entry (`spec.versions[i]`), in order; empty when none
/// are defined ([`render_table`] then prints Name + Age).
pub fn printer_columns(crd_version: &Value) -> Vec<PrinterColumn> {
    let Some(cols) = crd_version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    cols.iter()
        .map(|c| {
            let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let json_path = text("jsonPath");
            let description = match text("description") {
                d if d.is_empty() => {
                    format!("Custom resource definition column (in JSONPath format): {json_path}")
                }
                d => d,
            };
            PrinterColumn {
                name: text("name"),
                type_: match text("type") {
                    t if t.is_empty() => "string".to_string(),
                    t => t,
                },
                format: text("format"),
                description,
                priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                json_path,
            }
        })
        .collect()
}

/// kubectl's human age (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`): `45s`, `5m`,
/// `3m20s`, `2h5m`, `2d3h`, `1y20d`; `<invalid>` when `created` is over a second in the future.
pub fn format_age(created: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - created;
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Age cell of an RFC 3339 timestamp value: `<unknown>` when absent, `<invalid>` when unparsable.
fn age_cell(ts: Option<&Value>, now: DateTime<Utc>) -> String {
    match ts.and_then(Value::as_str) {
        None | Some("") => "<unknown>".into(),
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => format_age(t.with_timezone(&Utc), now),
            Err(_) => "<invalid>".into(),
        },
    }
}

/// Go's `fmt.Print` of a decoded JSON value, as kubectl's JSONPath printer writes it.
fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// One cell (upstream `cellForJSONValue`; string columns hold the printed value).
fn cell(col: &PrinterColumn, path: Option<&JsonPath>, obj: &Value, now: DateTime<Utc>) -> Value {
    let Some(first) = path.and_then(|p| p.find(obj).into_iter().next()) else {
        return Value::Null;
    };
    match (col.type_.as_str(), &first) {
        (_, Value::Null) => Value::Null,
        ("string", v) => Value::String(go_print(v)),
        ("integer", Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => json!(i),
            (None, Some(f)) => json!(f.trunc() as i64),
            _ => Value::Null,
        },
        ("number", Value::Number(n)) => n.as_f64().map_or(Value::Null, |f| json!(f)),
        ("boolean", Value::Bool(b)) => json!(b),
        ("date", Value::String(_)) => Value::String(age_cell(Some(&first), now)),
        _ => Value::Null,
    }
}

fn column_def(name: &str, type_: &str, format: &str, description: &str, priority: i64) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

fn row_object(obj: &Value, include_object: &str) -> Option<Value> {
    match include_object {
        "None" => None,
        "Object" => Some(obj.clone()),
        _ => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        })),
    }
}

fn table(defs: Vec<Value>, rows: Vec<Value>, list_rv: &str, continue_token: Option<&str>) -> Value {
    let mut meta = Map::new();
    meta.insert("resourceVersion".into(), json!(list_rv));
    if let Some(c) = continue_token.filter(|c| !c.is_empty()) {
        meta.insert("continue".into(), json!(c));
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
        "columnDefinitions": defs, "rows": rows})
}

fn row(cells: Vec<Value>, obj: &Value, include_object: &str) -> Value {
    let mut r = Map::new();
    r.insert("cells".into(), Value::Array(cells));
    if let Some(o) = row_object(obj, include_object) {
        r.insert("object".into(), o);
    }
    Value::Object(r)
}

fn name_of(obj: &Value) -> Value {
    obj.pointer("/metadata/name")
        .cloned()
        .unwrap_or_else(|| json!(""))
}

/// A `meta.k8s.io/v1` Table of custom objects: `Name`, then `columns` (none → `Age`).
/// `include_object`: `Metadata` (default; PartialObjectMetadata with full metadata), `Object`
/// (the whole object) or `None` (no `object`).
pub fn render_table(
    columns: &[PrinterColumn],
    objects: &[Value],
    now: DateTime<Utc>,
    include_object: &str,
    list_rv: &str,
    continue_token: Option<&str>,
) -> Value {
    let mut defs = vec![column_def("Name", "string", "name", NAME_DESCRIPTION, 0)];
    if columns.is_empty() {
        defs.push(column_def("Age", "date", "", AGE_DESCRIPTION, 0));
    }
    defs.extend(
        columns
            .iter()
            .map(|c| column_def(&c.name, &c.type_, &c.format, &c.description, c.priority)),
    );
    let paths: Vec<Option<JsonPath>> = columns
        .iter()
        .map(|c| JsonPath::parse(&c.json_path).ok())
        .collect();
    let rows = objects
        .iter()
        .map(|obj| {
            let mut cells = vec![name_of(obj)];
            if columns.is_empty() {
                cells.push(json!(age_cell(
                    obj.pointer("/metadata/creationTimestamp"),
                    now
                )));
            }
            for (c, p) in columns.iter().zip(&paths) {
                cells.push(cell(c, p.as_ref(), obj, now));
            }
            row(cells, obj, include_object)
        })
        .collect();
    table(defs, rows, list_rv, continue_token)
}

fn count(v: Option<&Value>) -> usize {
    v.and_then(Value::as_object).map_or(0, Map::len)
}

fn text<'a>(obj: &'a Value, pointers: &[&str]) -> &'a str {
    pointers
        .iter()
        .find_map(|p| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("")
}

/// Tables for built-in kinds as upstream prints them: ConfigMap `NAME DATA AGE`, Secret
/// `NAME TYPE DATA AGE`, Namespace `NAME STATUS AGE`, Lease `NAME HOLDER AGE`, Event
/// `LAST SEEN TYPE REASON OBJECT MESSAGE` (core or events.k8s.io field names); others Name/Age.
pub fn builtin_table(kind: &str, objects: &[Value], now: DateTime<Utc>, list_rv: &str) -> Value {
    let name_def = column_def("Name", "string", "name", NAME_DESCRIPTION, 0);
    let age_def = column_def("Age", "string", "", AGE_DESCRIPTION, 0);
    let str_def = |n: &str, d: &str| column_def(n, "string", "", d, 0);
    let int_def = |n: &str, d: &str| column_def(n, "integer", "", d, 0);
    let age = |o: &Value| json!(age_cell(o.pointer("/metadata/creationTimestamp"), now));
    type CellsFn<'a> = Box<dyn Fn(&Value) -> Vec<Value> + 'a>;
    let (defs, cells): (Vec<Value>, CellsFn) = match kind {
        "ConfigMap" => (
            vec![
                name_def,
                int_def("Data", "Data contains the configuration data."),
                age_def,
            ],
            Box::new(move |o| {
                vec![
                    name_of(o),
                    json!(count(o.get("data")) + count(o.get("binaryData"))),
                    age(o),
                ]
            }),
        ),
        "Secret" => (
            vec![
                name_def,
                str_def("Type", "The type of the secret"),
                int_def("Data", "The number of entries in the data"),
                age_def,
            ],
            Box::new(move |o| {
                let ty = match text(o, &["/type"]) {
                    "" => "Opaque",
                    t => t,
                };
                vec![name_of(o), json!(ty), json!(count(o.get("data"))), age(o)]
            }),
        ),
        "Namespace" => (
            vec![
                name_def,
                str_def("Status", "The status of the namespace"),
                age_def,
            ],
            Box::new(move |o| vec![name_of(o), json!(text(o, &["/status/phase"])), age(o)]),
        ),
        "Lease" => (
            vec![
                name_def,
                str_def("Holder", "The holder of the lease"),
                age_def,
            ],
            Box::new(move |o| {
                vec![
                    name_of(o),
                    json!(text(o, &["/spec/holderIdentity"])),
                    age(o),
                ]
            }),
        ),
        "Event" => (
            vec![
                str_def("Last Seen", "Time when the event was last observed"),
                str_def("Type", "Type of this event (Normal, Warning)"),
                str_def(
                    "Reason",
                    "Short, machine understandable string that gives the reason for the event",
                ),
                str_def("Object", "The object that this event is about"),
                str_def(
                    "Message",
                    "A human-readable description of the status of this operation",
                ),
            ],
            Box::new(move |o| {
                let last = [
                    "/series/lastObservedTime",
                    "/lastTimestamp",
                    "/deprecatedLastTimestamp",
                    "/firstTimestamp",
                    "/deprecatedFirstTimestamp",
                    "/eventTime",
                ]
                .iter()
                .find_map(|p| {
                    o.pointer(p)
                        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                });
                let kind = text(o, &["/involvedObject/kind", "/regarding/kind"]).to_lowercase();
                let target = match text(o, &["/involvedObject/name", "/regarding/name"]) {
                    "" => kind,
                    n => format!("{kind}/{n}"),
                };
                vec![
                    json!(age_cell(last, now)),
                    json!(text(o, &["/type"])),
                    json!(text(o, &["/reason"])),
                    json!(target),
                    json!(text(o, &["/message", "/note"]).trim()),
                ]
            }),
        ),
        _ => (
            vec![name_def, age_def],
            Box::new(move |o| vec![name_of(o), age(o)]),
        ),
    };
    let rows = objects
        .iter()
        .map(|o| row(cells(o), o, "Metadata"))
        .collect();
    table(defs, rows, list_rv, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_like_kubectl() {
        let now = Utc.with_ymd_and_hms(2024, 5, 10, 12, 0, 0).unwrap();
        let ago = |s: i64| format_age(now - chrono::Duration::seconds(s), now);
        assert_eq!(ago(0), "0s");
        assert_eq!(ago(-1), "0s");
        assert_eq!(ago(-5), "<invalid>");
        assert_eq!(ago(45), "45s");
        assert_eq!(ago(119), "119s");
        assert_eq!(ago(200), "3m20s");
        assert_eq!(ago(300), "5m");
        assert_eq!(ago(3600), "60m");
        assert_eq!(ago(3 * 3600 + 300), "3h5m");
        assert_eq!(ago(10 * 3600), "10h");
        assert_eq!(ago(2 * 86400 + 3 * 3600), "2d3h");
        assert_eq!(ago(30 * 86400), "30d");
        assert_eq!(ago(800 * 86400), "2y70d");
        assert_eq!(ago(9 * 365 * 86400), "9y");
    }

    #[test]
    fn builtin_tables() {
        let now = Utc.with_ymd_and_hms(2024, 5, 10, 12, 0, 0).unwrap();
        let cm = json!({"metadata":{"name":"c","namespace":"d","creationTimestamp":"2024-05-10T11:55:00Z"},"data":{"a":"1","b":"2"}});
        let t = builtin_table("ConfigMap", &[cm], now, "7");
        assert_eq!(t["rows"][0]["cells"], json!(["c", 2, "5m"]));
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "d");
        assert_eq!(t["metadata"]["resourceVersion"], "7");
        let ev = json!({"metadata":{"name":"e"},"type":"Warning","reason":"Failed","message":" boom ",
            "involvedObject":{"kind":"PhoneNumber","name":"pn1"},"lastTimestamp":"2024-05-10T11:59:00Z"});
        let t = builtin_table("Event", &[ev], now, "7");
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["60s", "Warning", "Failed", "phonenumber/pn1", "boom"])
        );
        let t = builtin_table(
            "Secret",
            &[json!({"metadata":{"name":"s"},"data":{"k":"dg=="}})],
            now,
            "1",
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["s", "Opaque", 1, "<unknown>"])
        );
    }
}
