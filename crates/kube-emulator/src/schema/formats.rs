//! `format:` checks of the formats the API server knows (kube-openapi `strfmt`); unknown
//! formats (`uint32`, `float`, …) are ignored, as upstream does.

use base64::Engine;
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

static UUID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$").ok()
});
static HOSTNAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\.?$").ok()
});
static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").ok());
static MAC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}$")
        .ok()
});
static DURATION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^-?(\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w)\s*)+$").ok());
static DATE_TIME_LENIENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$").ok()
});

fn matches(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_none_or(|r| r.is_match(s))
}

/// Whether `v` satisfies `format`; `true` for formats that are not checked.
pub(crate) fn check(format: &str, v: &Value) -> bool {
    match v {
        Value::String(s) => check_string(format, s),
        Value::Number(n) => match format {
            "int32" => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) || n.is_f64(),
            "int64" => n.as_i64().is_some() || n.is_f64(),
            _ => true,
        },
        _ => true,
    }
}

fn check_string(format: &str, s: &str) -> bool {
    match format {
        "date-time" | "datetime" => {
            chrono::DateTime::parse_from_rfc3339(s).is_ok()
                || (matches(&DATE_TIME_LENIENT, s) && s.len() >= 16)
        }
        "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
        "byte" => base64::engine::general_purpose::STANDARD.decode(s).is_ok(),
        "uuid" => matches(&UUID, s),
        "uuid3" | "uuid4" | "uuid5" => {
            let version = &format[4..];
            UUID.as_ref().is_none_or(|r| {
                r.captures(s)
                    .and_then(|c| c.get(1))
                    .is_some_and(|m| m.as_str() == version)
            })
        }
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => match s.split_once('/') {
            Some((ip, bits)) => match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
                (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
                (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
                _ => false,
            },
            None => false,
        },
        "hostname" => s.len() <= 255 && matches(&HOSTNAME, s),
        "email" => matches(&EMAIL, s),
        "mac" => matches(&MAC, s),
        "duration" => matches(&DURATION, s),
        "uri" => url::Url::parse(s).is_ok(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_formats() {
        assert!(check("date-time", &json!("2024-05-01T10:00:00Z")));
        assert!(check(
            "date-time",
            &json!("2024-05-01T10:00:00.123456+02:00")
        ));
        assert!(!check("date-time", &json!("yesterday")));
        assert!(check("date", &json!("2024-05-01")));
        assert!(!check("date", &json!("2024-13-01")));
        assert!(check("byte", &json!("aGVsbG8=")));
        assert!(!check("byte", &json!("not base64!")));
        assert!(check(
            "uuid",
            &json!("123e4567-e89b-42d3-a456-426614174000")
        ));
        assert!(check(
            "uuid4",
            &json!("123e4567-e89b-42d3-a456-426614174000")
        ));
        assert!(!check(
            "uuid5",
            &json!("123e4567-e89b-42d3-a456-426614174000")
        ));
        assert!(check("ipv4", &json!("10.0.0.1")));
        assert!(!check("ipv4", &json!("10.0.0.256")));
        assert!(check("cidr", &json!("10.0.0.0/8")));
        assert!(check("duration", &json!("1h30m")));
        assert!(!check("duration", &json!("soon")));
        assert!(check("int32", &json!(5)));
        assert!(!check("int32", &json!(5_000_000_000_i64)));
        assert!(check("uint32", &json!(-1)), "unknown formats are ignored");
        assert!(check("whatever", &json!("x")));
    }
}
