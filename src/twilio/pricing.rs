//! Pricing API response types (v1 phone-number prices, v2 voice prices) and the lookups the
//! operator needs (monthly fee by number type, per-minute inbound/outbound). Prices are decimals.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::NumberKind;
use super::wire;

/// Monthly price of one number type.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct NumberPrice {
    /// `local`, `toll free`, `mobile`, …
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub number_type: String,
    /// List price.
    #[serde(deserialize_with = "wire::decimal")]
    pub base_price: Decimal,
    /// This account's price.
    #[serde(deserialize_with = "wire::decimal")]
    pub current_price: Decimal,
}

/// Monthly number prices of a country (`GET /v1/PhoneNumbers/Countries/{IsoCountry}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct NumberPrices {
    /// Country name.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub country: String,
    /// ISO country.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub iso_country: String,
    /// Currency, e.g. `USD`.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub price_unit: String,
    /// Price per number type.
    #[serde(
        rename = "phone_number_prices",
        default,
        deserialize_with = "wire::vec_or_empty"
    )]
    pub prices: Vec<NumberPrice>,
}

fn same_type(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    norm(a) == norm(b)
}

impl NumberPrices {
    /// This account's monthly fee (`current_price`) for a number type.
    pub fn monthly_fee(&self, kind: NumberKind) -> Option<Decimal> {
        self.prices
            .iter()
            .find(|p| same_type(&p.number_type, kind.pricing_name()))
            .map(|p| p.current_price)
    }
}

/// Outbound per-minute price for a set of prefixes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OutboundPrefixPrice {
    /// Origination prefixes (`ALL`, `ROW` or digits).
    #[serde(default, deserialize_with = "wire::vec_or_empty")]
    pub origination_prefixes: Vec<String>,
    /// Destination prefixes (digits, no `+`).
    #[serde(default, deserialize_with = "wire::vec_or_empty")]
    pub destination_prefixes: Vec<String>,
    /// Description.
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    pub friendly_name: String,
    /// This account's price per minute.
    #[serde(deserialize_with = "wire::decimal")]
    pub current_price: Decimal,
}

/// Voice prices of a country (`GET /v2/Voice/Countries/{IsoCountry}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoicePrices {
    /// ISO country.
    pub iso_country: String,
    /// Currency.
    pub price_unit: String,
    /// Inbound per-minute price by number type (`current_price`).
    pub inbound: Vec<(String, Decimal)>,
    /// Outbound per-minute prices by prefix.
    pub outbound: Vec<OutboundPrefixPrice>,
}

impl VoicePrices {
    /// Inbound per-minute price for calls to a number of this type.
    pub fn inbound_for(&self, kind: NumberKind) -> Option<Decimal> {
        self.inbound
            .iter()
            .find(|(t, _)| same_type(t, kind.pricing_name()))
            .map(|(_, p)| *p)
    }

    /// The country's general outbound per-minute price: among entries originating from `ALL`
    /// (or any entry when none does), the one with the shortest destination prefix; ties → the
    /// first listed.
    pub fn outbound_default(&self) -> Option<Decimal> {
        let all: Vec<&OutboundPrefixPrice> = self
            .outbound
            .iter()
            .filter(|p| p.origination_prefixes.iter().any(|o| o == "ALL"))
            .collect();
        let pool: Vec<&OutboundPrefixPrice> = if all.is_empty() {
            self.outbound.iter().collect()
        } else {
            all
        };
        pool.into_iter()
            .min_by_key(|p| {
                p.destination_prefixes
                    .iter()
                    .map(|d| d.len())
                    .min()
                    .unwrap_or(usize::MAX)
            })
            .map(|p| p.current_price)
    }

    /// Outbound price for an E.164 destination: the entry with the longest matching destination
    /// prefix (origination `ALL` preferred), falling back to [`Self::outbound_default`].
    pub fn outbound_for(&self, destination: &str) -> Option<Decimal> {
        let digits = destination.trim_start_matches('+');
        let mut best: Option<(usize, bool, Decimal)> = None;
        for p in &self.outbound {
            let all = p.origination_prefixes.iter().any(|o| o == "ALL");
            for d in &p.destination_prefixes {
                if digits.starts_with(d.as_str()) {
                    let cand = (d.len(), all, p.current_price);
                    if best.is_none_or(|(l, a, _)| (cand.0, cand.1) > (l, a)) {
                        best = Some(cand);
                    }
                }
            }
        }
        best.map(|(_, _, p)| p).or_else(|| self.outbound_default())
    }
}

#[derive(Deserialize)]
pub(crate) struct InboundPriceWire {
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    number_type: String,
    #[serde(default, deserialize_with = "wire::opt_decimal")]
    current_price: Option<Decimal>,
}

#[derive(Deserialize)]
pub(crate) struct VoicePricesWire {
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    iso_country: String,
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    price_unit: String,
    #[serde(default, deserialize_with = "wire::vec_or_empty")]
    inbound_call_prices: Vec<InboundPriceWire>,
    #[serde(default, deserialize_with = "wire::vec_or_empty")]
    outbound_prefix_prices: Vec<OutboundPrefixPrice>,
}

impl From<VoicePricesWire> for VoicePrices {
    fn from(w: VoicePricesWire) -> Self {
        VoicePrices {
            iso_country: w.iso_country,
            price_unit: w.price_unit,
            inbound: w
                .inbound_call_prices
                .into_iter()
                .filter_map(|p| p.current_price.map(|c| (p.number_type, c)))
                .collect(),
            outbound: w.outbound_prefix_prices,
        }
    }
}

/// Outbound price from a set of origination prefixes to one destination number.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OutboundNumberPrice {
    /// Origination prefixes (`ALL`, `ROW` or digits).
    #[serde(default, deserialize_with = "wire::vec_or_empty")]
    pub origination_prefixes: Vec<String>,
    /// This account's price per minute.
    #[serde(deserialize_with = "wire::decimal")]
    pub current_price: Decimal,
}

/// Voice prices for one destination number (`GET /v2/Voice/Numbers/{DestinationNumber}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceNumberPrice {
    /// Destination (E.164).
    pub destination_number: String,
    /// Origination (E.164), when given.
    pub origination_number: Option<String>,
    /// ISO country of the destination.
    pub iso_country: String,
    /// Currency.
    pub price_unit: String,
    /// Outbound prices to the destination.
    pub outbound: Vec<OutboundNumberPrice>,
    /// Inbound `(number_type, per-minute price)` when the destination is this account's number.
    pub inbound: Option<(String, Decimal)>,
}

impl VoiceNumberPrice {
    /// Outbound price from `ALL` origins, else the first listed.
    pub fn outbound_price(&self) -> Option<Decimal> {
        self.outbound
            .iter()
            .find(|p| p.origination_prefixes.iter().any(|o| o == "ALL"))
            .or_else(|| self.outbound.first())
            .map(|p| p.current_price)
    }
}

#[derive(Deserialize)]
pub(crate) struct VoiceNumberPriceWire {
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    destination_number: String,
    #[serde(default, deserialize_with = "wire::opt_string")]
    origination_number: Option<String>,
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    iso_country: String,
    #[serde(default, deserialize_with = "wire::string_or_empty")]
    price_unit: String,
    #[serde(default, deserialize_with = "wire::vec_or_empty")]
    outbound_call_prices: Vec<OutboundNumberPrice>,
    #[serde(default)]
    inbound_call_price: Option<InboundPriceWire>,
}

impl From<VoiceNumberPriceWire> for VoiceNumberPrice {
    fn from(w: VoiceNumberPriceWire) -> Self {
        VoiceNumberPrice {
            destination_number: w.destination_number,
            origination_number: w.origination_number,
            iso_country: w.iso_country,
            price_unit: w.price_unit,
            outbound: w.outbound_call_prices,
            inbound: w
                .inbound_call_price
                .and_then(|p| p.current_price.map(|c| (p.number_type, c))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_prices_lookups() {
        let w: VoicePricesWire = serde_json::from_str(
            r#"{"country": "United States", "iso_country": "US", "price_unit": "USD",
            "inbound_call_prices": [{"number_type": "local", "base_price": "0.0085", "current_price": "0.0085"},
                                    {"number_type": "toll free", "base_price": "0.022", "current_price": "0.022"}],
            "outbound_prefix_prices": [
              {"origination_prefixes": ["ALL"], "destination_prefixes": ["1907"], "friendly_name": "Alaska", "base_price": "0.090", "current_price": "0.090"},
              {"origination_prefixes": ["ALL"], "destination_prefixes": ["1"], "friendly_name": "US", "base_price": "0.013", "current_price": "0.013"}]}"#,
        )
        .unwrap();
        let v = VoicePrices::from(w);
        assert_eq!(
            v.inbound_for(NumberKind::Local).unwrap().to_string(),
            "0.0085"
        );
        assert_eq!(
            v.inbound_for(NumberKind::TollFree).unwrap().to_string(),
            "0.022"
        );
        assert_eq!(v.inbound_for(NumberKind::Mobile), None);
        assert_eq!(v.outbound_default().unwrap().to_string(), "0.013");
        assert_eq!(v.outbound_for("+19075551234").unwrap().to_string(), "0.090");
        assert_eq!(v.outbound_for("+14155551234").unwrap().to_string(), "0.013");
    }

    #[test]
    fn number_prices_monthly_fee() {
        let p: NumberPrices = serde_json::from_str(
            r#"{"country": "United States", "iso_country": "US", "price_unit": "USD",
            "phone_number_prices": [{"number_type": "local", "base_price": "1.00", "current_price": "1.15"},
                                    {"number_type": "toll free", "base_price": "2.00", "current_price": "2.00"}]}"#,
        )
        .unwrap();
        assert_eq!(
            p.monthly_fee(NumberKind::Local).unwrap().to_string(),
            "1.15"
        );
        assert_eq!(
            p.monthly_fee(NumberKind::TollFree).unwrap().to_string(),
            "2.00"
        );
        assert_eq!(p.monthly_fee(NumberKind::Mobile), None);
    }
}
