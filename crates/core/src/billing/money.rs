//! Money as text: the API carries amounts as decimal strings (`"1.15"`, `"0.0945"`); this module
//! is the one place they are parsed into `rust_decimal::Decimal` and formatted back, so no float
//! ever touches an amount and every malformed value gets the same clear error.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Why a money string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing (or only blanks) where an amount was expected.
    #[error("amount is empty")]
    Empty,
    /// A minus sign: credits, prices and charges are never negative.
    #[error("amount {0:?} is negative; amounts are never negative")]
    Negative(String),
    /// Anything but digits with an optional `.` and fraction (exponents, commas, `+`, `.5`, `1.`).
    #[error(
        "amount {0:?} is not a plain decimal number (digits with an optional fraction, like \"1.15\")"
    )]
    Malformed(String),
    /// More digits than a `Decimal` holds (28 significant digits).
    #[error("amount {0:?} has too many digits")]
    TooLarge(String),
}

/// Parses a non-negative decimal amount: `digits[.digits]`, surrounding blanks ignored.
///
/// Refused: empty, negative (`"-1"`, `"-0"`), exponents (`"1e3"`), signs (`"+1"`), thousands
/// separators (`"1,000"`), missing digits on either side of the point (`".5"`, `"1."`),
/// `NaN`/`inf`.
pub fn parse_money(s: &str) -> Result<Decimal, MoneyError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(MoneyError::Empty);
    }
    if let Some(rest) = t.strip_prefix('-') {
        // A negative number is reported as such only when the rest is a number; "-abc" is malformed.
        return Err(if is_plain_decimal(rest) {
            MoneyError::Negative(t.to_string())
        } else {
            MoneyError::Malformed(t.to_string())
        });
    }
    if !is_plain_decimal(t) {
        return Err(MoneyError::Malformed(t.to_string()));
    }
    Decimal::from_str_exact(t)
        .or_else(|_| {
            // from_str_exact refuses values whose scale it would have to round; plain from_str
            // rounds them. Either way a value Decimal cannot hold is "too large".
            Decimal::from_str(t).map_err(|_| MoneyError::TooLarge(t.to_string()))
        })
        .and_then(|d| {
            if d.is_sign_negative() && !d.is_zero() {
                Err(MoneyError::Negative(t.to_string()))
            } else {
                Ok(d)
            }
        })
}

fn is_plain_decimal(t: &str) -> bool {
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Formats an amount with at least two decimals and no trailing zeros beyond them:
/// `1.15` → `"1.15"`, `1` → `"1.00"`, `0.0945` → `"0.0945"`, `2.500` → `"2.50"`.
pub fn format_money(d: Decimal) -> String {
    let mut n = d.normalize();
    if n.scale() < 2 {
        n.rescale(2);
    }
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(parse_money("1.15").unwrap(), dec("1.15"));
        assert_eq!(parse_money("0.0945").unwrap(), dec("0.0945"));
        assert_eq!(parse_money(" 25 ").unwrap(), dec("25"));
        assert_eq!(parse_money("0").unwrap(), Decimal::ZERO);
        assert_eq!(parse_money("000123.400").unwrap(), dec("123.4"));
    }

    #[test]
    fn refuses_what_is_not_money() {
        assert_eq!(parse_money(""), Err(MoneyError::Empty));
        assert_eq!(parse_money("   "), Err(MoneyError::Empty));
        assert_eq!(
            parse_money("-1.00"),
            Err(MoneyError::Negative("-1.00".into()))
        );
        assert_eq!(parse_money("-0"), Err(MoneyError::Negative("-0".into())));
        for bad in [
            "1e3", "1E3", "+1", ".5", "1.", "1,000", "NaN", "inf", "1.2.3", "--1", "-x", "0x10",
            "1 000", "١",
        ] {
            assert!(
                matches!(parse_money(bad), Err(MoneyError::Malformed(_))),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            parse_money("123456789012345678901234567890123"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn errors_name_the_value() {
        let e = parse_money("1e3").unwrap_err().to_string();
        assert!(e.contains("\"1e3\""), "{e}");
        let e = parse_money("-2").unwrap_err().to_string();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn formats_with_at_least_two_decimals() {
        assert_eq!(format_money(dec("1.15")), "1.15");
        assert_eq!(format_money(dec("1")), "1.00");
        assert_eq!(format_money(dec("0.0945")), "0.0945");
        assert_eq!(format_money(dec("2.500")), "2.50");
        assert_eq!(format_money(dec("0.0")), "0.00");
        assert_eq!(format_money(dec("1000000")), "1000000.00");
    }

    #[test]
    fn round_trips() {
        for s in ["1.15", "0.0945", "0.00", "12.30", "999999999999.123456"] {
            assert_eq!(format_money(parse_money(s).unwrap()), s);
        }
    }
}
