//! Twilio Pricing API answers (v1 number prices, v2 voice prices) cached per (account, country),
//! so pricing costs at most 2 Twilio calls per country per account per TTL — never per number.
//! Single-flight like the inventory: concurrent callers share one fetch. Errors are not cached.
//!
//! BringYourOwn numbers show these prices (`source: TwilioPricingAPI`); Managed numbers use the
//! platform's rate card instead and never reach this cache.

use crate::api::NumberType;
use crate::controller::conditions::{Reason, ReasonMessage};
use crate::reconcile::phone_number::{PriceQuote, PriceSource};
use crate::twilio::{AccountApi, NumberPrices, TwilioError, VoicePrices};
use jiff::Timestamp;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default time a country's prices are kept (prices change rarely).
pub const DEFAULT_PRICING_TTL: Duration = Duration::from_secs(24 * 3600);

/// The prices of one country for one account.
#[derive(Debug, Clone)]
pub struct CountryPrices {
    pub country: String,
    pub numbers: NumberPrices,
    pub voice: VoicePrices,
    /// Logical time of the fetch.
    pub fetched_at: Timestamp,
}

/// The prices of one number type, as shown in status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypePrices {
    pub currency: String,
    pub monthly_fee: Decimal,
    pub inbound_per_minute: Option<Decimal>,
    pub outbound_per_minute: Option<Decimal>,
    pub fetched_at: Timestamp,
}

/// Converts the CRD's number type to the client's (defined in the core, where decisions use it).
pub use telephony_core::twilio::kind_of;

/// The Managed price of `t` numbers in `country` from the rate card, or why there is none.
pub fn rate_card_quote(
    card: &crate::billing::RateCard,
    country: &str,
    t: NumberType,
) -> (Option<PriceQuote>, Option<ReasonMessage>) {
    match card.price_for(country, t) {
        Some(r) => (
            Some(PriceQuote {
                currency: r.currency,
                monthly_fee: r.monthly_fee,
                inbound_per_minute: Some(r.inbound_per_minute),
                outbound_per_minute: Some(r.outbound_per_minute),
                source: PriceSource::RateCard,
                fetched_at: None,
            }),
            None,
        ),
        None => (
            None,
            Some(ReasonMessage::new(
                Reason::NotOnRateCard,
                format!("the rate card has no {t} numbers in {country}"),
            )),
        ),
    }
}

/// The BringYourOwn price of `t` numbers from the Pricing API's answer, or why there is none.
pub fn pricing_api_quote(
    prices: &CountryPrices,
    country: &str,
    t: NumberType,
) -> (Option<PriceQuote>, Option<ReasonMessage>) {
    match prices.for_type(t) {
        Some(p) => (
            Some(PriceQuote {
                currency: p.currency,
                monthly_fee: p.monthly_fee,
                inbound_per_minute: p.inbound_per_minute,
                outbound_per_minute: p.outbound_per_minute,
                source: PriceSource::TwilioPricingApi,
                fetched_at: Some(p.fetched_at),
            }),
            None,
        ),
        None => (
            None,
            Some(ReasonMessage::new(
                Reason::PriceUnknown,
                format!("Twilio publishes no monthly price for {t} numbers in {country}"),
            )),
        ),
    }
}

impl CountryPrices {
    /// Prices of a number type; `None` when Twilio lists no monthly fee for it.
    pub fn for_type(&self, t: NumberType) -> Option<TypePrices> {
        let kind = kind_of(t);
        Some(TypePrices {
            currency: self.numbers.price_unit.clone(),
            monthly_fee: self.numbers.monthly_fee(kind)?,
            inbound_per_minute: self.voice.inbound_for(kind),
            outbound_per_minute: self.voice.outbound_default(),
            fetched_at: self.fetched_at,
        })
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Arc<CountryPrices>)>>>;

/// Per-(account, country) price cache (see the module docs).
#[derive(Default)]
pub struct PricingCache {
    slots: Mutex<HashMap<(String, String), Slot>>,
}

impl std::fmt::Debug for PricingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PricingCache").finish_non_exhaustive()
    }
}

impl PricingCache {
    /// The country's prices for the account, fetched (2 calls) at most once per `ttl`.
    pub async fn country(
        &self,
        api: &AccountApi,
        country: &str,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<Arc<CountryPrices>, TwilioError> {
        let key = (api.account_sid().to_string(), country.to_string());
        let slot = {
            let mut map = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some((at, prices)) = guard.as_ref()
            && at.elapsed() < ttl
        {
            return Ok(prices.clone());
        }
        let numbers = api.number_prices(country).await?;
        let voice = api.voice_prices(country).await?;
        let prices = Arc::new(CountryPrices {
            country: country.to_string(),
            numbers,
            voice,
            fetched_at: now,
        });
        *guard = Some((Instant::now(), prices.clone()));
        Ok(prices)
    }

    /// Forgets everything (e.g. after a credentials change).
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
