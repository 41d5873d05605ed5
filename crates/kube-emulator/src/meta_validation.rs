//! ObjectMeta validation as the real API server does it on every write: object names (RFC 1123
//! subdomain, or label for Namespaces), label keys and values, annotation keys and total size.
//! Messages follow `k8s.io/apimachinery/pkg/util/validation`.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::schema::Cause;

static SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$").expect("regex")
});
static LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("regex"));
static QUALIFIED_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$").expect("regex"));
static LABEL_VALUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$").expect("regex"));

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn invalid(field: &str, value: &str, msg: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {}: {msg}", Value::String(value.to_string())),
        field: field.into(),
    }
}

fn qualified_name(field: &str, key: &str, out: &mut Vec<Cause>) {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            out.push(invalid(field, key, "prefix part must be non-empty"));
        } else if p.len() > 253 || !SUBDOMAIN.is_match(p) {
            out.push(invalid(field, key, &format!("prefix part {SUBDOMAIN_MSG}")));
        }
    }
    if name.is_empty() {
        out.push(invalid(field, key, "name part must be non-empty"));
    } else if name.len() > 63 {
        out.push(invalid(
            field,
            key,
            "name part must be no more than 63 characters",
        ));
    } else if !QUALIFIED_NAME.is_match(name) {
        out.push(invalid(field, key, NAME_PART_MSG));
    }
}

/// Causes for invalid ObjectMeta; `dns_label` for kinds named by an RFC 1123 label (Namespace).
pub fn validate(obj: &Value, dns_label: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    let meta = &obj["metadata"];
    if let Some(name) = meta.get("name").and_then(Value::as_str) {
        let (max, re, msg) = if dns_label {
            (63, &*LABEL, LABEL_MSG)
        } else {
            (253, &*SUBDOMAIN, SUBDOMAIN_MSG)
        };
        if name.len() > max {
            out.push(invalid(
                "metadata.name",
                name,
                &format!("must be no more than {max} characters"),
            ));
        } else if !re.is_match(name) {
            out.push(invalid("metadata.name", name, msg));
        }
    }
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            qualified_name("metadata.labels", k, &mut out);
            match v.as_str() {
                Some(s) if s.len() > 63 => out.push(invalid(
                    "metadata.labels",
                    s,
                    "must be no more than 63 characters",
                )),
                Some(s) if !LABEL_VALUE.is_match(s) => {
                    out.push(invalid("metadata.labels", s, LABEL_VALUE_MSG))
                }
                Some(_) => {}
                None => out.push(invalid(
                    "metadata.labels",
                    &v.to_string(),
                    "label values must be strings",
                )),
            }
        }
    }
    if let Some(ann) = meta.get("annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (k, v) in ann {
            qualified_name("metadata.annotations", &k.to_lowercase(), &mut out);
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        if total > 256 * 1024 {
            out.push(Cause {
                reason: "FieldValueTooLong".into(),
                message: format!("Too long: may not be more than {} bytes", 256 * 1024),
                field: "metadata.annotations".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_labels() {
        assert!(
            validate(
                &json!({"metadata":{"name":"a.b-c","labels":{"x.io/y":"V_1","k":""}}}),
                false
            )
            .is_empty()
        );
        let bad = validate(
            &json!({"metadata":{"name":"Bad_Name","labels":{"ok":"bad value"}}}),
            false,
        );
        let fields: Vec<&str> = bad.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["metadata.name", "metadata.labels"]);
        assert!(
            bad[0]
                .message
                .starts_with("Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain")
        );
        assert_eq!(
            validate(&json!({"metadata":{"name":"a.b"}}), true).len(),
            1,
            "namespaces are labels"
        );
    }
}
