//! Rate card: the built-in card, YAML loading and validation.

use super::dec;
use crate::api::NumberType;
use crate::billing::rate_card::{DEFAULT_RATE_CARD_YAML, RateCard, RateCardError};

#[test]
fn built_in_card_has_the_platform_us_prices() {
    let card = RateCard::default();
    let local = card.price_for("US", NumberType::Local).unwrap();
    assert_eq!(local.currency, "USD");
    assert_eq!(local.monthly_fee, dec("1.15"));
    assert_eq!(local.outbound_per_minute, dec("0.0945"));
    assert_eq!(local.inbound_per_minute, dec("0.0085"));
    let tf = card.price_for("US", NumberType::TollFree).unwrap();
    assert_eq!(tf.monthly_fee, dec("2.15"));
    assert_eq!(tf.inbound_per_minute, dec("0.022"));
    assert_eq!(tf.outbound_per_minute, dec("0.0945"));
    let mobile = card.price_for("US", NumberType::Mobile).unwrap();
    assert_eq!(mobile.monthly_fee, dec("1.15"));
}

#[test]
fn built_in_card_covers_a_few_countries() {
    let card = RateCard::default();
    for c in ["US", "CA", "GB", "DE", "AU"] {
        assert!(card.price_for(c, NumberType::Local).is_some(), "{c} Local");
        assert!(
            card.price_for(c, NumberType::TollFree).is_some(),
            "{c} TollFree"
        );
    }
    // Lower case is accepted; unknown countries and unoffered types are None.
    assert_eq!(
        card.price_for("gb", NumberType::Local),
        card.price_for("GB", NumberType::Local)
    );
    assert!(card.price_for("FR", NumberType::Local).is_none());
    assert!(card.price_for("CA", NumberType::Mobile).is_none());
    assert_eq!(card.offers().len(), 14);
    assert_eq!(RateCard::from_yaml(DEFAULT_RATE_CARD_YAML).unwrap(), card);
}

#[test]
fn loads_a_card_from_a_file() {
    let dir = std::env::temp_dir().join(format!("billing-rate-card-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("card.yaml");
    std::fs::write(
        &path,
        "countries:\n  FR:\n    currency: EUR\n    inboundPerMinute: \"0.01\"\n    outboundPerMinute: \"0.10\"\n    numbers:\n      Local: {monthlyFee: \"1.00\"}\n",
    )
    .unwrap();
    let card = RateCard::from_file(&path).unwrap();
    let p = card.price_for("FR", NumberType::Local).unwrap();
    assert_eq!((p.currency.as_str(), p.monthly_fee), ("EUR", dec("1.00")));
    assert!(card.price_for("US", NumberType::Local).is_none());
    let missing = RateCard::from_file(dir.join("nope.yaml")).unwrap_err();
    assert!(matches!(missing, RateCardError::Io { .. }), "{missing}");
    assert!(missing.to_string().contains("nope.yaml"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn card_with(local: &str) -> String {
    format!(
        "countries:\n  US:\n    currency: USD\n    inboundPerMinute: \"0.0085\"\n    outboundPerMinute: \"0.0945\"\n    numbers:\n      Local:\n{local}"
    )
}

#[test]
fn refuses_bad_money_naming_the_entry() {
    let e = RateCard::from_yaml(&card_with("        monthlyFee: \"-1.15\"\n")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("countries.US.numbers.Local.monthlyFee"),
        "{msg}"
    );
    assert!(msg.contains("negative"), "{msg}");

    let e = RateCard::from_yaml(&card_with(
        "        monthlyFee: \"1.15\"\n        inboundPerMinute: \"1e-3\"\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("countries.US.numbers.Local.inboundPerMinute"),
        "{e}"
    );

    let e = RateCard::from_yaml(&card_with("        monthlyFee: \"\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("monthlyFee") && e.contains("empty"), "{e}");
}

#[test]
fn unquoted_numbers_are_read_as_their_text() {
    // A YAML float-looking scalar is kept as the exact text it was written as, never via f64.
    let card = RateCard::from_yaml(&card_with("        monthlyFee: 1.15\n")).unwrap();
    assert_eq!(
        card.price_for("US", NumberType::Local).unwrap().monthly_fee,
        dec("1.15")
    );
}

#[test]
fn refuses_bad_shapes_and_codes() {
    let cases = [
        ("countries: {}\n", "countries"),
        (
            "countries:\n  usa:\n    currency: USD\n    numbers:\n      Local: {monthlyFee: \"1\", inboundPerMinute: \"0\", outboundPerMinute: \"0\"}\n",
            "countries.usa",
        ),
        (
            "countries:\n  US:\n    currency: dollars\n    numbers:\n      Local: {monthlyFee: \"1\", inboundPerMinute: \"0\", outboundPerMinute: \"0\"}\n",
            "countries.US.currency",
        ),
        (
            "countries:\n  US:\n    currency: USD\n    numbers: {}\n",
            "countries.US.numbers",
        ),
        (
            "countries:\n  US:\n    currency: USD\n    numbers:\n      Local: {monthlyFee: \"1\", outboundPerMinute: \"0\"}\n",
            "countries.US.numbers.Local.inboundPerMinute",
        ),
    ];
    for (yaml, entry) in cases {
        let e = RateCard::from_yaml(yaml).unwrap_err().to_string();
        assert!(e.contains(entry), "{yaml}: {e}");
    }
    // Typos and unknown types are syntax errors, not silently ignored.
    for yaml in [
        "countries:\n  US:\n    currency: USD\n    numbers:\n      Local: {monthlyFe: \"1\"}\n",
        "countries:\n  US:\n    currency: USD\n    numbers:\n      Landline: {monthlyFee: \"1\"}\n",
        "not yaml: [",
    ] {
        assert!(
            matches!(RateCard::from_yaml(yaml), Err(RateCardError::Syntax(_))),
            "{yaml}"
        );
    }
}
