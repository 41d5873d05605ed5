//! Checks the schema cannot make: a supported search country, exactly one of `number`/`search`
//! (when a schema without CEL let both through), money strings that parse, an E.164 number with a
//! known country. Each failure is a `Stalled` reason plus a message saying what to fix.

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
