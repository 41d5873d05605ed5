//! A small JSON-schema-subset validator for the OpenAPI conformance suite: type (with nullable),
//! properties, items, enum, required, pattern, minLength/maxLength, $ref to components/schemas,
//! allOf/oneOf/anyOf. Decimal fields that Twilio types as `number` but sends as strings
//! (`x-twilio.overrideType: string` on prices; latitude/longitude observed) accept numeric strings.

use serde_json::Value;
use std::path::PathBuf;

/// The OpenAPI directory, or `None` (suite skipped) when it cannot be found.
pub fn oai_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("TWILIO_OAI_DIR") {
        let p = PathBuf::from(d);
        if p.is_dir() {
            return Some(p);
        }
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../../shared/reference/twilio-oai"),
        manifest.join("../../../shared/reference/twilio-oai"),
    ]
    .into_iter()
    .find(|p| p.join("twilio_api_v2010.json").is_file())
}

pub struct Spec {
    pub doc: Value,
}

impl Spec {
    pub fn load(path: &std::path::Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        Self {
            doc: serde_json::from_str(&text).unwrap(),
        }
    }

    /// The response schema for a path template, method and status; `None` if the spec has none.
    pub fn response_schema(&self, path: &str, method: &str, status: u16) -> Option<&Value> {
        let op = self
            .doc
            .get("paths")?
            .get(path)?
            .get(method.to_ascii_lowercase())?;
        let resp = op.get("responses")?.get(status.to_string())?;
        resp.get("content")?.get("application/json")?.get("schema")
    }

    fn resolve<'a>(&'a self, r: &str) -> Option<&'a Value> {
        let name = r.strip_prefix("#/components/schemas/")?;
        self.doc.get("components")?.get("schemas")?.get(name)
    }

    /// Validates `v` against `schema`; returns every violation with its JSON path.
    pub fn validate(&self, schema: &Value, v: &Value) -> Vec<String> {
        let mut errs = Vec::new();
        self.check(schema, v, "$", &mut errs, 0);
        errs
    }

    fn check(&self, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>, depth: usize) {
        if depth > 64 {
            errs.push(format!("{at}: schema too deep"));
            return;
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            match self.resolve(r) {
                Some(s) => self.check(s, v, at, errs, depth + 1),
                None => errs.push(format!("{at}: unresolvable $ref {r}")),
            }
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(s, v, at, errs, depth + 1);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alts) = schema.get(key).and_then(Value::as_array) {
                let ok = alts.iter().any(|s| {
                    let mut e = Vec::new();
                    self.check(s, v, at, &mut e, depth + 1);
                    e.is_empty()
                });
                if !ok {
                    errs.push(format!("{at}: matches no alternative of {key}"));
                }
            }
        }
        if v.is_null() {
            let nullable = schema
                .get("nullable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let has_type = schema.get("type").is_some() || schema.get("enum").is_some();
            if !nullable && has_type {
                errs.push(format!("{at}: null but not nullable"));
            }
            return;
        }
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            let ok = match t {
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()),
                "boolean" => v.is_boolean(),
                "array" => v.is_array(),
                "object" => v.is_object(),
                _ => true,
            };
            if !ok {
                errs.push(format!("{at}: expected {t}, got {v}"));
                return;
            }
        }
        if let Some(en) = schema.get("enum").and_then(Value::as_array)
            && !en.contains(v)
        {
            errs.push(format!("{at}: {v} not in enum {en:?}"));
        }
        if let Some(s) = v.as_str() {
            if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
                match regex::Regex::new(p) {
                    Ok(re) if !re.is_match(s) => {
                        errs.push(format!("{at}: '{s}' does not match {p}"))
                    }
                    Ok(_) => {}
                    Err(e) => errs.push(format!("{at}: bad pattern {p}: {e}")),
                }
            }
            let len = s.chars().count() as u64;
            if schema
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len < m)
            {
                errs.push(format!("{at}: '{s}' shorter than minLength"));
            }
            if schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
            {
                errs.push(format!("{at}: '{s}' longer than maxLength"));
            }
        }
        if let Some(obj) = v.as_object() {
            if let Some(req) = schema.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !obj.contains_key(r) {
                        errs.push(format!("{at}: missing required {r}"));
                    }
                }
            }
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if let Some(x) = obj.get(k) {
                        self.check(s, x, &format!("{at}.{k}"), errs, depth + 1);
                    }
                }
            }
        }
        if let (Some(arr), Some(items)) = (v.as_array(), schema.get("items")) {
            for (i, x) in arr.iter().enumerate() {
                self.check(items, x, &format!("{at}[{i}]"), errs, depth + 1);
            }
        }
    }
}

/// Twilio's 4-field error body shape.
pub fn error_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "required": ["code", "message", "more_info", "status"],
        "properties": {
            "code": {"type": "integer"},
            "message": {"type": "string"},
            "more_info": {"type": "string", "pattern": "^https://www\\.twilio\\.com/docs/errors/[0-9]+$"},
            "status": {"type": "integer"}
        }
    })
}
