//! Checks the schema cannot make: a supported search country, exactly one of `number`/`search`
//! (when a schema without CEL let both through), money strings that parse, an E.164 number with a
//! known country, webhook URLs Twilio accepts. Each failure is a `Stalled` reason plus a message
//! saying what to fix.

use crate::api::{NumberType, PhoneNumberSpec};
use crate::conditions::ReasonMessage;
use crate::reason::Reason;
use rust_decimal::Decimal;

/// ISO 3166-1 alpha-2 countries in which Twilio sells phone numbers (the operator refuses to
/// search elsewhere, so a typo such as `UK` is reported instead of returning nothing forever).
pub const SUPPORTED_COUNTRIES: &[&str] = &[
    "AR", "AT", "AU", "BE", "BG", "BR", "CA", "CH", "CL", "CO", "CZ", "DE", "DK", "DO", "EE", "ES",
    "FI", "FR", "GB", "GR", "HK", "HR", "HU", "ID", "IE", "IL", "IS", "IT", "JP", "KE", "LT", "LU",
    "LV", "MX", "MY", "NL", "NO", "NZ", "PA", "PE", "PH", "PL", "PR", "PT", "RO", "SE", "SG", "SI",
    "SK", "TH", "TN", "US", "ZA",
];

/// Whether numbers can be searched in `country`.
pub fn is_supported_country(country: &str) -> bool {
    SUPPORTED_COUNTRIES.contains(&country)
}

/// Calling-code prefixes of the supported countries (longest match wins; `+1` is US unless a
/// Canadian or Puerto Rican area code says otherwise).
const CALLING_CODES: &[(&str, &str)] = &[
    ("+1787", "PR"),
    ("+1939", "PR"),
    ("+1809", "DO"),
    ("+1829", "DO"),
    ("+1849", "DO"),
    ("+1204", "CA"),
    ("+1226", "CA"),
    ("+1236", "CA"),
    ("+1249", "CA"),
    ("+1250", "CA"),
    ("+1289", "CA"),
    ("+1306", "CA"),
    ("+1343", "CA"),
    ("+1365", "CA"),
    ("+1403", "CA"),
    ("+1416", "CA"),
    ("+1418", "CA"),
    ("+1431", "CA"),
    ("+1437", "CA"),
    ("+1438", "CA"),
    ("+1450", "CA"),
    ("+1506", "CA"),
    ("+1514", "CA"),
    ("+1519", "CA"),
    ("+1548", "CA"),
    ("+1579", "CA"),
    ("+1581", "CA"),
    ("+1587", "CA"),
    ("+1604", "CA"),
    ("+1613", "CA"),
    ("+1639", "CA"),
    ("+1647", "CA"),
    ("+1672", "CA"),
    ("+1705", "CA"),
    ("+1709", "CA"),
    ("+1778", "CA"),
    ("+1780", "CA"),
    ("+1782", "CA"),
    ("+1807", "CA"),
    ("+1819", "CA"),
    ("+1825", "CA"),
    ("+1867", "CA"),
    ("+1873", "CA"),
    ("+1902", "CA"),
    ("+1905", "CA"),
    ("+1", "US"),
    ("+20", "EG"),
    ("+27", "ZA"),
    ("+30", "GR"),
    ("+31", "NL"),
    ("+32", "BE"),
    ("+33", "FR"),
    ("+34", "ES"),
    ("+351", "PT"),
    ("+352", "LU"),
    ("+353", "IE"),
    ("+354", "IS"),
    ("+358", "FI"),
    ("+359", "BG"),
    ("+36", "HU"),
    ("+370", "LT"),
    ("+371", "LV"),
    ("+372", "EE"),
    ("+385", "HR"),
    ("+386", "SI"),
    ("+39", "IT"),
    ("+40", "RO"),
    ("+41", "CH"),
    ("+420", "CZ"),
    ("+421", "SK"),
    ("+43", "AT"),
    ("+44", "GB"),
    ("+45", "DK"),
    ("+46", "SE"),
    ("+47", "NO"),
    ("+48", "PL"),
    ("+49", "DE"),
    ("+507", "PA"),
    ("+51", "PE"),
    ("+52", "MX"),
    ("+54", "AR"),
    ("+55", "BR"),
    ("+56", "CL"),
    ("+57", "CO"),
    ("+60", "MY"),
    ("+61", "AU"),
    ("+62", "ID"),
    ("+63", "PH"),
    ("+64", "NZ"),
    ("+65", "SG"),
    ("+66", "TH"),
    ("+81", "JP"),
    ("+852", "HK"),
    ("+216", "TN"),
    ("+254", "KE"),
    ("+972", "IL"),
];

/// North American toll-free area codes.
const NANP_TOLL_FREE: &[&str] = &["800", "833", "844", "855", "866", "877", "888"];

/// Whether `s` is an E.164 number (`+`, 7–15 digits, no leading zero).
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The country and (best guess) type of an E.164 number, from its calling code.
pub fn country_of(e164: &str) -> Option<(&'static str, NumberType)> {
    let country = CALLING_CODES
        .iter()
        .filter(|(prefix, _)| e164.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, c)| *c)?;
    let toll_free =
        e164.starts_with("+1") && NANP_TOLL_FREE.iter().any(|ac| e164[2..].starts_with(ac));
    Some((
        country,
        if toll_free {
            NumberType::TollFree
        } else {
            NumberType::Local
        },
    ))
}

/// Parses a money string of the API (`"1.15"`); rejects negatives, exponents and garbage.
pub fn parse_money(s: &str) -> Option<Decimal> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    t.parse::<Decimal>().ok().filter(|d| !d.is_sign_negative())
}

/// Longest webhook URL accepted, in characters (the schema's `maxLength`).
pub const MAX_WEBHOOK_URL_LEN: usize = 2048;

/// The webhook-URL rule of the CRD schema (CEL `matches`, RE2 syntax that the Rust `regex`
/// crate reads the same way): `http://` or `https://`, optional userinfo, a host (DNS name of
/// letters, digits and hyphens, or a bracketed IPv6 literal), an optional port 1–65535, then an
/// optional path, query or fragment of printable ASCII other than the space, with valid percent
/// escapes. Everything else (controls, bidi controls, whitespace, any non-ASCII character) does
/// not match. [`check_webhook_url`] accepts exactly the strings this matches, minus what a regular
/// expression cannot check (label and host lengths, IPv4/IPv6 literals).
pub const WEBHOOK_URL_PATTERN: &str = concat!(
    r"^https?://",
    r"(([-A-Za-z0-9._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*@)?",
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)",
    r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
    r"([/?#]([!-$&-~]|%[0-9A-Fa-f]{2})*)?$",
);

/// The message of the schema's webhook-URL rule (what `kubectl apply` prints).
pub const WEBHOOK_URL_MESSAGE: &str = "must be an absolute http:// or https:// URL with a host, of printable ASCII only (no spaces, control or bidirectional characters: percent-encode anything else, and write an internationalized host in its punycode form, xn--...), with valid % escapes and a port from 1 to 65535";

/// The CRD validation rule of every webhook URL field (next to `maxLength`
/// [`MAX_WEBHOOK_URL_LEN`]): [`WEBHOOK_URL_PATTERN`] with [`WEBHOOK_URL_MESSAGE`].
pub fn webhook_url_rule() -> kube_core::Rule {
    kube_core::Rule::new(format!("self.matches(r\"{WEBHOOK_URL_PATTERN}\")"))
        .message(WEBHOOK_URL_MESSAGE)
        .reason(kube_core::Reason::FieldValueInvalid)
}

/// The webhook URL fields of the spec, by their path, with their values.
pub fn webhook_urls(spec: &PhoneNumberSpec) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    if let Some(v) = &spec.voice {
        for (path, url) in [
            ("spec.voice.url", &v.url),
            ("spec.voice.fallbackUrl", &v.fallback_url),
            ("spec.voice.statusCallback", &v.status_callback),
        ] {
            if let Some(u) = url {
                out.push((path, u.as_str()));
            }
        }
    }
    if let Some(m) = &spec.sms {
        for (path, url) in [
            ("spec.sms.url", &m.url),
            ("spec.sms.fallbackUrl", &m.fallback_url),
        ] {
            if let Some(u) = url {
                out.push((path, u.as_str()));
            }
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Userinfo characters (RFC 3986 unreserved, sub-delims and `:`), `%` escapes checked apart.
fn is_userinfo_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&b)
}

/// Every `%` starts a two-hex-digit escape; the position (in bytes) of the first that does not.
fn bad_escape(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| {
        b[i] == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// Checks a DNS host name: labels of letters, digits and hyphens (1–63 characters, no hyphen
/// first or last), at most 253 characters; a name whose last label is all digits must be an
/// IPv4 address (URL parsers read it as one).
fn check_dns_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("has no host: write it as https://host/path".into());
    }
    if host.len() > 253 {
        return Err(format!(
            "has a host of {} characters; a DNS name has at most 253",
            host.len()
        ));
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(
                "has an empty label in its host (two dots in a row, or a dot first or last)".into(),
            );
        }
        if label.len() > 63 {
            return Err(format!(
                "has a host label of {} characters; a DNS label has at most 63",
                label.len()
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("has a host that is not a DNS name: use letters, digits, hyphens and dots (an internationalized name in its punycode form, xn--…), or a bracketed IPv6 address".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a host label that starts or ends with a hyphen".into());
        }
    }
    let last = host.rsplit('.').next().unwrap_or(host);
    if last.bytes().all(|b| b.is_ascii_digit()) && host.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(
            "has a host that reads as an IPv4 address but is not a valid one (four numbers 0–255)"
                .into(),
        );
    }
    Ok(())
}

/// Whether `url` is a webhook URL Twilio accepts: an absolute `http://` or `https://` URL with a
/// host, printable ASCII only (no control characters — C0, DEL, C1 —, no bidirectional controls,
/// no whitespace, nothing else outside ASCII: percent-encode it, or write an internationalized
/// host in punycode), valid `%` escapes, a port 1–65535, at most [`MAX_WEBHOOK_URL_LEN`]
/// characters. The error says what is wrong without repeating the URL (it may be huge, carry
/// credentials in its userinfo, or hold characters that garble a terminal).
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    let len = url.chars().count();
    if len > MAX_WEBHOOK_URL_LEN {
        return Err(format!(
            "is {len} characters long; Twilio accepts at most {MAX_WEBHOOK_URL_LEN}"
        ));
    }
    for (i, c) in url.chars().enumerate() {
        let at = i + 1;
        let u = c as u32;
        let what = if c.is_control() {
            "a control character"
        } else if is_bidi_control(c) {
            "a bidirectional control character"
        } else if c.is_whitespace() {
            "whitespace"
        } else if !c.is_ascii() {
            return Err(format!(
                "contains the non-ASCII character U+{u:04X} at character {at}: percent-encode it in the path or query, and write an internationalized host in its punycode form (xn--…)"
            ));
        } else {
            continue;
        };
        return Err(format!(
            "contains {what} (U+{u:04X}) at character {at}: remove it (percent-encode it if it is really meant)"
        ));
    }
    // Printable ASCII from here on: byte offsets are character offsets.
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Err("is not an absolute http:// or https:// URL (lowercase scheme)".into());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, hp)) => {
            if !userinfo.bytes().all(|b| is_userinfo_char(b) || b == b'%')
                || bad_escape(userinfo).is_some()
            {
                return Err(
                    "has a user name or password with characters that must be percent-encoded"
                        .into(),
                );
            }
            hp
        }
        None => authority,
    };
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err("has an IPv6 host without its closing ]".into());
        };
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            || addr.parse::<std::net::Ipv6Addr>().is_err()
        {
            return Err("has a bracketed host that is not a valid IPv6 address".into());
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => {
                    return Err("has characters between its IPv6 host and the port or path".into());
                }
            },
        };
        (None, port)
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(host_port), None),
        }
    };
    if let Some(h) = host {
        check_dns_host(h)?;
    }
    if let Some(p) = port {
        let ok = !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && !p.starts_with('0')
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
        if !ok {
            return Err("has a port that is not a number from 1 to 65535".into());
        }
    }
    if let Some(i) = bad_escape(tail) {
        return Err(format!(
            "has a % at character {} that does not start an escape of two hex digits (write a literal % as %25)",
            url.len() - tail.len() + i + 1
        ));
    }
    Ok(())
}

/// What the spec asks for, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The price guard, parsed.
    pub max_monthly_price: Option<Decimal>,
}

fn stalled(reason: Reason, message: String) -> ReasonMessage {
    ReasonMessage::new(reason, message)
}

/// Validates what the schema cannot (or what a server without CEL let through).
pub fn validate(spec: &PhoneNumberSpec) -> Result<Validated, ReasonMessage> {
    match (&spec.number, &spec.search) {
        (Some(_), Some(_)) => {
            return Err(stalled(
                Reason::InvalidSelection,
                "both spec.number and spec.search are set: keep exactly one (a number to buy or adopt, or a search)".into(),
            ));
        }
        (None, None) => {
            return Err(stalled(
                Reason::InvalidSelection,
                "neither spec.number nor spec.search is set: set exactly one (a number to buy or adopt, or a search)".into(),
            ));
        }
        (Some(n), None) => {
            if !is_e164(n) {
                return Err(stalled(
                    Reason::InvalidNumber,
                    format!(
                        "spec.number {n:?} is not an E.164 number: write it as + country code and digits, e.g. +14155550123"
                    ),
                ));
            }
        }
        (None, Some(s)) => {
            if !is_supported_country(&s.country) {
                return Err(stalled(
                    Reason::UnsupportedCountry,
                    format!(
                        "spec.search.country {:?} is not a country where numbers can be bought; use an ISO 3166-1 alpha-2 code such as US, CA, GB (supported: {})",
                        s.country,
                        SUPPORTED_COUNTRIES.join(", ")
                    ),
                ));
            }
            if s.area_code.is_some() && !matches!(s.country.as_str(), "US" | "CA") {
                return Err(stalled(
                    Reason::InvalidSearch,
                    format!(
                        "spec.search.areaCode only applies to US and CA numbers, not {}: remove it or use inLocality",
                        s.country
                    ),
                ));
            }
            if let Some(near) = &s.near_number
                && !is_e164(near)
            {
                return Err(stalled(
                    Reason::InvalidSearch,
                    format!("spec.search.nearNumber {near:?} is not an E.164 number"),
                ));
            }
        }
    }
    for (path, url) in webhook_urls(spec) {
        if let Err(problem) = check_webhook_url(url) {
            return Err(stalled(
                Reason::InvalidWebhookUrl,
                format!(
                    "{path} {problem}; it is not sent to Twilio until fixed (an absolute http(s) URL with a host, printable ASCII, at most {MAX_WEBHOOK_URL_LEN} characters)"
                ),
            ));
        }
    }
    let max_monthly_price = match &spec.max_monthly_price {
        None => None,
        Some(s) => Some(parse_money(s).ok_or_else(|| {
            stalled(
                Reason::InvalidPrice,
                format!("spec.maxMonthlyPrice {s:?} is not a non-negative decimal amount such as \"2.00\""),
            )
        })?),
    };
    Ok(Validated { max_monthly_price })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_and_country() {
        assert!(is_e164("+14155550123"));
        assert!(!is_e164("14155550123"));
        assert!(!is_e164("+0415555"));
        assert!(!is_e164("+1415555012345678"));
        assert_eq!(country_of("+14155550123"), Some(("US", NumberType::Local)));
        assert_eq!(
            country_of("+18005550123"),
            Some(("US", NumberType::TollFree))
        );
        assert_eq!(country_of("+14165550123"), Some(("CA", NumberType::Local)));
        assert_eq!(country_of("+442071234567"), Some(("GB", NumberType::Local)));
        assert_eq!(country_of("+9991234567"), None);
    }

    fn url_problem(url: &str) -> String {
        check_webhook_url(url).expect_err(url)
    }

    #[test]
    fn good_webhook_urls() {
        for url in [
            "https://agents.acme.example/voice",
            "http://acme.example",
            "https://acme.example/",
            "https://acme.example:8443/twilio/voice",
            "http://acme.example:1/",
            "http://acme.example:65535/",
            "https://acme.example/v?tenant=acme&x=%20y#frag",
            "https://acme.example/p/a-t_h.~!$&'()*+,;=:@/%E2%9C%93",
            "https://xn--bcher-kva.example/voice",
            "https://user:p%40ss@acme.example/voice",
            "https://192.0.2.10/voice",
            "https://[2001:db8::1]:8443/voice",
            "https://[::ffff:192.0.2.1]/",
            "https://a/",
            "https://xn--80ak6aa92e.xn--p1ai/?q",
        ] {
            assert_eq!(check_webhook_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn webhook_url_length_boundary() {
        let base = "https://acme.example/";
        let at_limit = format!("{base}{}", "a".repeat(MAX_WEBHOOK_URL_LEN - base.len()));
        assert_eq!(at_limit.chars().count(), 2048);
        assert_eq!(check_webhook_url(&at_limit), Ok(()));
        let over = format!("{at_limit}a");
        assert!(
            url_problem(&over).contains("2049 characters"),
            "{}",
            url_problem(&over)
        );
        let mib = format!("{base}{}", "a".repeat(1 << 20));
        let p = url_problem(&mib);
        assert!(p.contains("at most 2048") && p.len() < 200, "{p}");
    }

    #[test]
    fn webhook_urls_with_control_bidi_or_whitespace_characters() {
        for (url, what) in [
            (
                "https://acme.example/voice\r\nX-Injected: 1",
                "control character (U+000D)",
            ),
            ("https://acme.example/voice\n", "control character (U+000A)"),
            ("https://acme.example/\0voice", "control character (U+0000)"),
            ("https://acme.example/\tvoice", "control character (U+0009)"),
            ("https://acme.example/\u{7f}", "control character (U+007F)"),
            ("https://acme.example/\u{85}", "control character (U+0085)"),
            ("https://acme.example/\u{9f}", "control character (U+009F)"),
            (
                "https://acme.example/\u{202E}eciov",
                "bidirectional control character (U+202E)",
            ),
            (
                "https://acme.example/\u{200E}",
                "bidirectional control character (U+200E)",
            ),
            (
                "https://acme.example/\u{200F}",
                "bidirectional control character (U+200F)",
            ),
            (
                "https://acme.example/\u{202A}",
                "bidirectional control character (U+202A)",
            ),
            (
                "https://acme.example/\u{2066}",
                "bidirectional control character (U+2066)",
            ),
            (
                "https://acme.example/\u{2069}",
                "bidirectional control character (U+2069)",
            ),
            ("https://acme.example/a b", "whitespace (U+0020)"),
            (" https://acme.example/", "whitespace (U+0020)"),
            ("https://acme.example/\u{a0}", "whitespace (U+00A0)"),
            ("https://acme.example/\u{2028}", "whitespace (U+2028)"),
            ("https://acme.example/\u{3000}", "whitespace (U+3000)"),
        ] {
            let p = url_problem(url);
            assert!(p.contains(what), "{url:?}: {p}");
            assert!(!p.contains("acme.example"), "the URL is not repeated: {p}");
        }
        assert!(url_problem("https://acme.example/\u{202E}").contains("at character 22"));
    }

    #[test]
    fn webhook_urls_that_are_not_absolute_http_urls_with_a_host() {
        for (url, what) in [
            ("ftp://acme.example/voice", "not an absolute http"),
            ("acme.example/voice", "not an absolute http"),
            ("/voice", "not an absolute http"),
            ("HTTPS://acme.example/", "not an absolute http"),
            ("https:/acme.example/", "not an absolute http"),
            ("https://", "no host"),
            ("https:///voice", "no host"),
            ("https://?x", "no host"),
            ("https://user@/voice", "no host"),
            ("https://acme..example/", "empty label"),
            ("https://acme.example./", "empty label"),
            ("https://-acme.example/", "hyphen"),
            ("https://acme_x.example/", "not a DNS name"),
            ("https://bücher.example/", "non-ASCII character U+00FC"),
            ("https://acme.example/café", "non-ASCII character U+00E9"),
            ("https://acme.example:0/", "port"),
            ("https://acme.example:65536/", "port"),
            ("https://acme.example:08080/", "port"),
            ("https://acme.example:/", "port"),
            ("https://acme.example:http/", "port"),
            ("https://[2001:db8::1/", "closing ]"),
            ("https://[1::2::3]/", "not a valid IPv6"),
            ("https://[]/", "not a valid IPv6"),
            ("https://[::1]x/", "between its IPv6 host"),
            ("https://999.0.2.1/", "IPv4"),
            ("https://1.2.3/", "IPv4"),
            ("https://a@b@acme.example/", "user name or password"),
            ("https://acme.example/100%", "% at character 25"),
            ("https://acme.example/%zz", "escape"),
        ] {
            let p = url_problem(url);
            assert!(p.contains(what), "{url:?}: {p}");
        }
        let long_label = format!("https://{}.example/", "a".repeat(64));
        assert!(url_problem(&long_label).contains("at most 63"));
        let long_host = format!("https://{}a/", "a.".repeat(127));
        assert!(url_problem(&long_host).contains("at most 253"));
    }

    #[test]
    fn every_webhook_url_field_is_checked_and_stalls() {
        for path in [
            "voice.url",
            "voice.fallbackUrl",
            "voice.statusCallback",
            "sms.url",
            "sms.fallbackUrl",
        ] {
            let (group, field) = path.split_once('.').unwrap();
            let spec: PhoneNumberSpec = serde_json::from_value(serde_json::json!({
                "accountRef": {"name": "a"},
                "number": "+14155550100",
                group: {field: "https://acme.example/x\r\ny"},
            }))
            .unwrap();
            let why = validate(&spec).expect_err(path);
            assert_eq!(why.reason, Reason::InvalidWebhookUrl);
            assert!(
                why.message
                    .starts_with(&format!("spec.{path} contains a control character")),
                "{}",
                why.message
            );
            assert_eq!(
                Reason::InvalidWebhookUrl.transient(),
                Some(false),
                "needs a person"
            );
        }
        let ok: PhoneNumberSpec = serde_json::from_value(serde_json::json!({
            "accountRef": {"name": "a"},
            "number": "+14155550100",
            "voice": {"url": "https://acme.example/v", "fallbackUrl": "https://acme.example:8443/f", "statusCallback": "http://[::1]/s"},
            "sms": {"url": "https://xn--bcher-kva.example/s?x=1", "fallbackUrl": "https://acme.example/f#x"},
        }))
        .unwrap();
        assert!(validate(&ok).is_ok());
    }

    #[test]
    fn money_parsing_rejects_negative_and_garbage() {
        assert_eq!(parse_money("1.15"), Some(Decimal::new(115, 2)));
        assert_eq!(parse_money("-1"), None);
        assert_eq!(parse_money("1e3"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money(""), None);
        assert_eq!(parse_money("1.2.3"), None);
    }
}
