//! Small shared helpers: SID generation, Twilio's date and phone-number formats.

use chrono::{DateTime, Utc};
use rand::Rng;

/// A Twilio-style SID: the 2-letter `prefix` followed by 32 lowercase hex digits.
pub fn random_sid(prefix: &str) -> String {
    let mut rng = rand::rng();
    let a: u128 = rng.random();
    format!("{prefix}{a:032x}")
}

/// A random secret (auth token / API key secret): 32 lowercase hex digits.
pub(crate) fn random_secret() -> String {
    let mut rng = rand::rng();
    let a: u128 = rng.random();
    format!("{a:032x}")
}

/// RFC 2822 as Twilio writes it: `Thu, 30 Jul 2015 23:19:04 +0000`.
pub(crate) fn rfc2822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Whether `s` is an E.164 number (`+`, 7 to 15 digits, no leading zero).
pub(crate) fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Twilio's default friendly name: `(415) 555-0100` for NANP numbers, E.164 otherwise.
pub(crate) fn friendly_number(e164: &str) -> String {
    match e164.strip_prefix("+1") {
        Some(n) if n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &n[0..3], &n[3..6], &n[6..10])
        }
        _ => e164.to_string(),
    }
}

/// 64-bit mixing function (splitmix64 finaliser) for the deterministic inventory.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hash of a seed and a string key.
pub(crate) fn hash_str(seed: u64, key: &str) -> u64 {
    key.bytes().fold(mix(seed), |h, b| mix(h ^ u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_shape() {
        let s = random_sid("PN");
        assert_eq!(s.len(), 34);
        assert!(s.starts_with("PN"));
        assert!(
            s[2..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn formats() {
        assert_eq!(friendly_number("+14155550100"), "(415) 555-0100");
        assert_eq!(friendly_number("+4420794600"), "+4420794600");
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("14155550100"));
        assert!(!is_e164("+1415abc0100"));
        let t = DateTime::parse_from_rfc3339("2015-07-30T23:19:04Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc2822(t), "Thu, 30 Jul 2015 23:19:04 +0000");
    }
}
