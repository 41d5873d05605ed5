//! Field errors worded like the real API server (`k8s.io/apimachinery/pkg/util/validation/field`),
//! so 422 bodies and `kubectl` output read the same as against a real cluster.

use serde_json::Value;

/// One entry of `Status.details.causes` (see [`super::Cause`]); constructors live here.
pub use super::Cause;

pub(crate) const INVALID: &str = "FieldValueInvalid";
pub(crate) const REQUIRED: &str = "FieldValueRequired";
pub(crate) const NOT_SUPPORTED: &str = "FieldValueNotSupported";
pub(crate) const TYPE_INVALID: &str = "FieldValueTypeInvalid";
pub(crate) const TOO_LONG: &str = "FieldValueTooLong";
pub(crate) const TOO_MANY: &str = "FieldValueTooMany";
pub(crate) const DUPLICATE: &str = "FieldValueDuplicate";
pub(crate) const FORBIDDEN: &str = "FieldValueForbidden";
/// Reason of the causes produced for unknown fields under `fieldValidation=Strict`.
pub const UNKNOWN_FIELD: &str = "FieldValueUnknown";

/// The field path upstream prints for the object root (a nil `*field.Path`).
pub const ROOT_FIELD: &str = "<nil>";

/// Message text of one cause as the real server writes it in `Status.message`:
/// `spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1`.
pub fn cause_message(c: &Cause) -> String {
    if c.field.is_empty() || c.reason == UNKNOWN_FIELD {
        c.message.clone()
    } else {
        format!("{}: {}", c.field, c.message)
    }
}

/// Whether a cause reports an unknown field (Strict field validation).
pub fn is_unknown_field(c: &Cause) -> bool {
    c.reason == UNKNOWN_FIELD
}

/// `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"` — the text of the
/// 400/422 the server answers when Strict field validation finds unknown fields.
pub fn strict_decoding_message(causes: &[Cause]) -> String {
    let parts: Vec<&str> = causes
        .iter()
        .filter(|c| is_unknown_field(c))
        .map(|c| c.message.as_str())
        .collect();
    format!("strict decoding error: {}", parts.join(", "))
}

/// The `Invalid value: <v>` rendering of a bad value, after Go's `field.Error.ErrorBody`:
/// strings quoted, numbers and booleans bare, others (null too) as JSON.
pub(crate) fn fmt_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Go `%q`-like quoting (JSON escaping is close enough for the characters that matter).
pub(crate) fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Human name of a JSON value's type, as go-openapi prints it in type errors.
pub(crate) fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cause(reason: &str, field: &str, message: String) -> Cause {
    Cause {
        reason: reason.to_string(),
        message,
        field: field.to_string(),
    }
}

/// `field.Invalid(path, value, detail)`.
pub(crate) fn invalid(field: &str, value: &Value, detail: &str) -> Cause {
    cause(
        INVALID,
        field,
        format!("Invalid value: {}: {detail}", fmt_value(value)),
    )
}

/// `field.Invalid` with a value rendered by the caller (CEL uses the schema type, `"object"`).
pub(crate) fn invalid_raw(field: &str, value_text: &str, detail: &str) -> Cause {
    cause(
        INVALID,
        field,
        format!("Invalid value: {value_text}: {detail}"),
    )
}

/// `field.Invalid` with the value omitted (`field.OmitValueType`): `Invalid value: <detail>`.
pub(crate) fn invalid_omitted(field: &str, detail: &str) -> Cause {
    cause(INVALID, field, format!("Invalid value: {detail}"))
}

/// `field.TypeInvalid(path, value, detail)`. kube-openapi's type errors carry the name of the
/// value's type (`"integer"`), or of the format, as the bad value; callers pass that.
pub(crate) fn type_invalid(field: &str, value: &Value, detail: &str) -> Cause {
    cause(
        TYPE_INVALID,
        field,
        format!("Invalid value: {}: {detail}", fmt_value(value)),
    )
}

/// `field.Required(path, detail)`.
pub(crate) fn required(field: &str, detail: &str) -> Cause {
    let message = if detail.is_empty() {
        "Required value".to_string()
    } else {
        format!("Required value: {detail}")
    };
    cause(REQUIRED, field, message)
}

/// `field.Forbidden(path, detail)`.
pub(crate) fn forbidden(field: &str, detail: &str) -> Cause {
    cause(FORBIDDEN, field, format!("Forbidden: {detail}"))
}

/// `field.NotSupported(path, value, supported)`.
pub(crate) fn not_supported(field: &str, value: &Value, supported: &[Value]) -> Cause {
    let list: Vec<String> = supported
        .iter()
        .map(|v| match v {
            Value::String(s) => quote(s),
            other => quote(&other.to_string()),
        })
        .collect();
    cause(
        NOT_SUPPORTED,
        field,
        format!(
            "Unsupported value: {}: supported values: {}",
            fmt_value(value),
            list.join(", ")
        ),
    )
}

/// `field.TooLong(path, value, max)`.
pub(crate) fn too_long(field: &str, max: u64) -> Cause {
    cause(
        TOO_LONG,
        field,
        format!(
            "Too long: may not be more than {max} {}",
            if max == 1 { "byte" } else { "bytes" }
        ),
    )
}

/// `field.TooMany(path, actual, max)`.
pub(crate) fn too_many(field: &str, actual: usize, max: u64) -> Cause {
    cause(
        TOO_MANY,
        field,
        format!(
            "Too many: {actual}: must have at most {max} {}",
            if max == 1 { "item" } else { "items" }
        ),
    )
}

/// `field.Duplicate(path, value)`.
pub(crate) fn duplicate(field: &str, value: &Value) -> Cause {
    cause(
        DUPLICATE,
        field,
        format!("Duplicate value: {}", fmt_value(value)),
    )
}

/// An unknown field found by pruning, as a Strict-mode cause.
pub(crate) fn unknown_field(path: &str) -> Cause {
    cause(
        UNKNOWN_FIELD,
        path,
        format!("unknown field {}", quote(path)),
    )
}

/// Cause for a CEL rule that failed, per upstream `fieldErrorForReason`; `value` is `None` when
/// upstream omits it (rules on objects and arrays).
pub(crate) fn for_reason(
    reason: Option<&str>,
    field: &str,
    value: Option<&Value>,
    detail: &str,
) -> Cause {
    match (reason, value) {
        (Some(FORBIDDEN), _) => forbidden(field, detail),
        (Some(REQUIRED), _) => required(field, detail),
        (Some(DUPLICATE), Some(v)) => duplicate(field, v),
        (Some(DUPLICATE), None) => cause(DUPLICATE, field, "Duplicate value".to_string()),
        (_, Some(v)) => invalid(field, v, detail),
        (_, None) => invalid_omitted(field, detail),
    }
}

/// Whether a structural error blocks CEL evaluation (upstream `hasBlockingErr`).
pub(crate) fn is_blocking(c: &Cause) -> bool {
    matches!(
        c.reason.as_str(),
        NOT_SUPPORTED | REQUIRED | TOO_LONG | TOO_MANY | TYPE_INVALID
    )
}

/// The note upstream appends when CEL rules were skipped because of blocking errors.
pub(crate) fn rules_not_checked() -> Cause {
    invalid_raw(
        ROOT_FIELD,
        "null",
        "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    )
}
