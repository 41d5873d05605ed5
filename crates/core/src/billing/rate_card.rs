//! The Managed rate card: what the platform charges Managed accounts per number type and country
//! (operator configuration). The built-in card is `default-rate-card.yaml` next to this file,
//! embedded at compile time so users can copy it; a custom card is loaded from YAML and validated
//! entry by entry (every error names the entry, e.g. `countries.US.numbers.Local.monthlyFee`).

use super::money::{MoneyError, parse_money};
use crate::api::NumberType;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::LazyLock;

/// The built-in rate card, as shipped in `crates/core/src/billing/default-rate-card.yaml`.
pub const DEFAULT_RATE_CARD_YAML: &str = include_str!("default-rate-card.yaml");

/// Prices of one number type in one country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePrices {
    /// ISO 4217 currency of every amount here.
    pub currency: String,
    /// Charged at purchase and at every 28-day renewal.
    pub monthly_fee: Decimal,
    pub inbound_per_minute: Decimal,
    pub outbound_per_minute: Decimal,
}

/// The platform's prices for Managed accounts, by ISO country and number type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCard {
    countries: BTreeMap<String, CountryRates>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CountryRates {
    currency: String,
    numbers: BTreeMap<NumberTypeKey, TypeRates>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TypeRates {
    monthly_fee: Decimal,
    inbound_per_minute: Decimal,
    outbound_per_minute: Decimal,
}

/// `NumberType` is not `Ord`; the card keys types by this.
type NumberTypeKey = u8;

fn type_key(t: NumberType) -> NumberTypeKey {
    match t {
        NumberType::Local => 0,
        NumberType::TollFree => 1,
        NumberType::Mobile => 2,
    }
}

fn type_name(k: NumberTypeKey) -> NumberType {
    match k {
        0 => NumberType::Local,
        1 => NumberType::TollFree,
        _ => NumberType::Mobile,
    }
}

/// Why a rate card was refused.
#[derive(Debug, thiserror::Error)]
pub enum RateCardError {
    /// The file could not be read.
    #[error("cannot read rate card {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML of the expected shape (unknown field, wrong type, ...).
    #[error("rate card is not valid YAML of the expected shape: {0}")]
    Syntax(String),
    /// An amount is not a non-negative decimal string.
    #[error("rate card entry {entry}: {source}")]
    Money {
        entry: String,
        #[source]
        source: MoneyError,
    },
    /// Any other invalid entry (country or currency code, empty country, ...).
    #[error("rate card entry {entry}: {message}")]
    Invalid { entry: String, message: String },
}

/// The YAML shape (see `default-rate-card.yaml`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CardFile {
    countries: BTreeMap<String, CountryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CountryFile {
    currency: String,
    #[serde(default)]
    inbound_per_minute: Option<String>,
    #[serde(default)]
    outbound_per_minute: Option<String>,
    numbers: HashMap<NumberType, TypeFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TypeFile {
    monthly_fee: String,
    #[serde(default)]
    inbound_per_minute: Option<String>,
    #[serde(default)]
    outbound_per_minute: Option<String>,
}

static DEFAULT_CARD: LazyLock<RateCard> = LazyLock::new(|| {
    // The embedded card is a compile-time constant checked by a unit test, not input.
    #[allow(clippy::expect_used)]
    RateCard::from_yaml(DEFAULT_RATE_CARD_YAML).expect("the built-in rate card is valid")
});

impl Default for RateCard {
    /// The built-in card (`DEFAULT_RATE_CARD_YAML`).
    fn default() -> Self {
        DEFAULT_CARD.clone()
    }
}

fn money(entry: String, s: &str) -> Result<Decimal, RateCardError> {
    parse_money(s).map_err(|source| RateCardError::Money { entry, source })
}

fn is_upper_code(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase())
}

impl RateCard {
    /// Parses and validates a rate card in the format of `default-rate-card.yaml`.
    pub fn from_yaml(yaml: &str) -> Result<Self, RateCardError> {
        let file: CardFile =
            serde_saphyr::from_str(yaml).map_err(|e| RateCardError::Syntax(e.to_string()))?;
        if file.countries.is_empty() {
            return Err(RateCardError::Invalid {
                entry: "countries".into(),
                message: "no country; a rate card needs at least one".into(),
            });
        }
        let mut countries = BTreeMap::new();
        for (code, c) in file.countries {
            let at = format!("countries.{code}");
            if !is_upper_code(&code, 2) {
                return Err(RateCardError::Invalid {
                    entry: at,
                    message: "country must be an ISO 3166-1 alpha-2 code in capitals (US, GB)"
                        .into(),
                });
            }
            if !is_upper_code(&c.currency, 3) {
                return Err(RateCardError::Invalid {
                    entry: format!("{at}.currency"),
                    message: format!(
                        "{:?} is not an ISO 4217 currency code in capitals (USD)",
                        c.currency
                    ),
                });
            }
            if c.numbers.is_empty() {
                return Err(RateCardError::Invalid {
                    entry: format!("{at}.numbers"),
                    message: "no number type; list at least one of Local, TollFree, Mobile".into(),
                });
            }
            let inbound = c
                .inbound_per_minute
                .as_deref()
                .map(|s| money(format!("{at}.inboundPerMinute"), s))
                .transpose()?;
            let outbound = c
                .outbound_per_minute
                .as_deref()
                .map(|s| money(format!("{at}.outboundPerMinute"), s))
                .transpose()?;
            let mut numbers = BTreeMap::new();
            let mut types: Vec<(NumberType, TypeFile)> = c.numbers.into_iter().collect();
            types.sort_by_key(|(t, _)| type_key(*t));
            for (t, n) in types {
                let at = format!("{at}.numbers.{t}");
                let monthly_fee = money(format!("{at}.monthlyFee"), &n.monthly_fee)?;
                let inbound_per_minute = match n.inbound_per_minute.as_deref() {
                    Some(s) => money(format!("{at}.inboundPerMinute"), s)?,
                    None => inbound.ok_or_else(|| RateCardError::Invalid {
                        entry: format!("{at}.inboundPerMinute"),
                        message: "missing here and on the country".into(),
                    })?,
                };
                let outbound_per_minute = match n.outbound_per_minute.as_deref() {
                    Some(s) => money(format!("{at}.outboundPerMinute"), s)?,
                    None => outbound.ok_or_else(|| RateCardError::Invalid {
                        entry: format!("{at}.outboundPerMinute"),
                        message: "missing here and on the country".into(),
                    })?,
                };
                numbers.insert(
                    type_key(t),
                    TypeRates {
                        monthly_fee,
                        inbound_per_minute,
                        outbound_per_minute,
                    },
                );
            }
            countries.insert(
                code,
                CountryRates {
                    currency: c.currency,
                    numbers,
                },
            );
        }
        Ok(Self { countries })
    }

    /// Reads and validates a rate card file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RateCardError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| RateCardError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// Prices of `t` numbers in `country` (ISO alpha-2, case-insensitive), or `None` when the
    /// card does not offer that type there.
    pub fn price_for(&self, country: &str, t: NumberType) -> Option<RatePrices> {
        let c = self.countries.get(&country.to_ascii_uppercase())?;
        let r = c.numbers.get(&type_key(t))?;
        Some(RatePrices {
            currency: c.currency.clone(),
            monthly_fee: r.monthly_fee,
            inbound_per_minute: r.inbound_per_minute,
            outbound_per_minute: r.outbound_per_minute,
        })
    }

    /// Every (country, type) the card prices, in a stable order.
    pub fn offers(&self) -> Vec<(String, NumberType)> {
        self.countries
            .iter()
            .flat_map(|(code, c)| c.numbers.keys().map(|k| (code.clone(), type_name(*k))))
            .collect()
    }
}
