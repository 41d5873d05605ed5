//! Stand-in for the `schema` module (written by another helper) until it lands: accepts every
//! object unchanged and renders plain Name/Age-style tables. Same public interface.

use serde_json::{Value, json};

pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

pub struct CompiledSchema {
    _schema: Value,
}

impl CompiledSchema {
    pub fn compile(open_api_v3_schema: &Value) -> Result<Self, Vec<Cause>> {
        Ok(Self {
            _schema: open_api_v3_schema.clone(),
        })
    }

    pub fn admit(
        &self,
        _obj: &mut Value,
        _old: Option<&Value>,
        _fv: FieldValidation,
    ) -> Result<Vec<String>, Vec<Cause>> {
        Ok(Vec::new())
    }
}

#[derive(Debug, Clone)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

pub struct KindSchema {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub schema: Value,
}

pub fn printer_columns(crd_version: &Value) -> Vec<PrinterColumn> {
    let mut cols: Vec<PrinterColumn> = crd_version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| PrinterColumn {
                    name: c["name"].as_str().unwrap_or("").to_string(),
                    type_: c["type"].as_str().unwrap_or("string").to_string(),
                    format: c["format"].as_str().unwrap_or("").to_string(),
                    description: c["description"].as_str().unwrap_or("").to_string(),
                    priority: c["priority"].as_i64().unwrap_or(0),
                    json_path: c["jsonPath"].as_str().unwrap_or("").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if cols.is_empty() {
        cols.push(PrinterColumn {
            name: "Age".into(),
            type_: "date".into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        });
    }
    cols
}

fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for seg in path
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
    {
        cur = cur.get(seg)?;
    }
    Some(cur)
}

pub fn render_table(
    columns: &[PrinterColumn],
    objects: &[Value],
    now: chrono::DateTime<chrono::Utc>,
    include_object: &str,
    list_rv: &str,
    continue_token: Option<&str>,
) -> Value {
    let mut defs = vec![
        json!({"name":"Name","type":"string","format":"name","description":"Name","priority":0}),
    ];
    for c in columns {
        defs.push(json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}));
    }
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o["metadata"]["name"].clone()];
            for c in columns {
                let v = lookup(o, &c.json_path).cloned().unwrap_or(Value::Null);
                let cell = match c.type_.as_str() {
                    "date" => v
                        .as_str()
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| {
                            let secs = (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0);
                            Value::String(if secs < 120 { format!("{secs}s") } else { format!("{}m", secs / 60) })
                        })
                        .unwrap_or(Value::Null),
                    "string" => match v {
                        Value::Null => Value::Null,
                        Value::String(s) => Value::String(s),
                        other => Value::String(other.to_string()),
                    },
                    _ => v,
                };
                cells.push(cell);
            }
            let mut row = json!({"cells": cells});
            match include_object {
                "None" => {}
                "Object" => row["object"] = o.clone(),
                _ => {
                    row["object"] = json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata": o["metadata"].clone()})
                }
            }
            row
        })
        .collect();
    let mut meta = json!({"resourceVersion": list_rv});
    if let Some(c) = continue_token {
        meta["continue"] = json!(c);
    }
    json!({"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata": meta,"columnDefinitions": defs,"rows": rows})
}

pub fn openapi_v3_index(group_versions: &[String]) -> Value {
    let mut paths = serde_json::Map::new();
    for gv in group_versions {
        let p = if gv == "v1" {
            "api/v1".to_string()
        } else {
            format!("apis/{gv}")
        };
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=0")}),
        );
    }
    json!({"paths": paths})
}

pub fn openapi_v3_group_version_doc(gv: &str, kinds: &[KindSchema]) -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for k in kinds {
        let prefix = if k.group.is_empty() {
            format!("/api/{}", k.version)
        } else {
            format!("/apis/{}/{}", k.group, k.version)
        };
        let item = if k.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", k.plural)
        } else {
            format!("{prefix}/{}/{{name}}", k.plural)
        };
        let gvk = json!({"group": k.group, "version": k.version, "kind": k.kind});
        paths.insert(
            item,
            json!({"patch": {"x-kubernetes-group-version-kind": gvk, "parameters": [{"name":"fieldValidation","in":"query","schema":{"type":"string"}}], "responses": {}}}),
        );
        let mut s = k.schema.clone();
        if let Some(m) = s.as_object_mut() {
            m.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
        schemas.insert(format!("{}.{}.{}", k.group, k.version, k.kind), s);
    }
    json!({"openapi":"3.0.0","info":{"title":"Kubernetes","version": gv},"paths": paths,"components":{"schemas": schemas}})
}
