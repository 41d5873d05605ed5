//! Configuration of the simulator: seed accounts, fault injection and behaviour settings.
//!
//! Everything that the real Twilio does not document precisely (UNCONFIRMED in the API notes) is a
//! setting here, so tests can pin either behaviour.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Whole configuration of a [`crate::Simulator`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Main accounts present at start (each gets a test SID/token pair as well).
    pub accounts: Vec<SeedAccount>,
    /// Faults injected from the start; change them later with `Simulator::set_faults`.
    pub faults: FaultConfig,
    /// Behaviour switches and prices.
    pub settings: SimSettings,
    /// Seed of the random generator used for fault decisions and for the generated number
    /// inventory (same seed: same inventory, same fault sequence for the same request order).
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            faults: FaultConfig::default(),
            settings: SimSettings::default(),
            seed: 0x5eed_7e1e_f0e5,
        }
    }
}

/// A main (top-level) account present at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedAccount {
    /// `AC` + 32 hex.
    pub sid: String,
    /// The account's Auth Token (never logged or dumped by the simulator).
    pub auth_token: String,
    pub friendly_name: String,
    /// Balance in USD.
    pub balance: Decimal,
    /// `Full` or `Trial`.
    pub account_type: String,
}

/// Faults injected on Twilio API paths (never on `/_sim/...`). Rates are probabilities in 0..=1,
/// drawn independently per request from the seeded generator, in this order: dropped connection,
/// 429, 5xx; commit-then-fail applies only to successful `IncomingPhoneNumbers` purchases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Fixed latency added to every API request.
    pub latency_ms: u64,
    /// Uniform random extra latency in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Probability of a 503 with code 20503 (request not executed).
    pub error_5xx_rate: f64,
    /// Probability of a 429 with code 20429 (request not executed).
    pub rate_429: f64,
    /// `Retry-After` header value sent with injected 429s, if any.
    pub retry_after_secs: Option<u64>,
    /// Probability that the connection is closed without any response (request not executed).
    pub drop_connection_rate: f64,
    /// Probability that a successful purchase is committed and then reported as failed (see
    /// [`SimSettings::commit_then_fail`] for how it fails).
    pub commit_then_fail_rate: f64,
}

/// What a second purchase of a number the same account already owns does (UNCONFIRMED at Twilio).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnedNumberRebuy {
    /// 400 with code 21422 (number not available).
    #[default]
    Error21422,
    /// 201 and the sent fields are applied as an update (behaviour observed in 2019).
    ActAsUpdate,
}

/// Order in which searches (and `AreaCode` purchases) walk the generated stock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SearchOrder {
    /// Each search starts at a point drawn from the seeded generator: results vary between
    /// requests (as at Twilio), concurrent buyers rarely collide, and the cost of a search does
    /// not grow with the numbers already bought.
    #[default]
    Rotating,
    /// Always the same order: the same search gives the same first free numbers.
    Fixed,
}

/// How a commit-then-fail fault reports the (committed) purchase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommitFailMode {
    /// Close the connection without a response.
    #[default]
    DropConnection,
    /// Answer 500 with code 20500.
    Error500,
}

/// Behaviour switches and prices.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// Maximum numbers returned by an AvailablePhoneNumbers search (Twilio: about 30).
    pub search_cap: usize,
    /// Order of search results.
    pub search_order: SearchOrder,
    /// Days a released number stays out of the inventory (nobody can buy it) before it returns.
    pub quarantine_days: u32,
    /// Second purchase of a number the account already owns.
    pub owned_number_rebuy: OwnedNumberRebuy,
    /// US/CA area codes with no available numbers for every account (test accounts always see
    /// 533 as empty, per Twilio's magic values).
    pub empty_area_codes: Vec<u16>,
    /// ISO countries whose numbers need a `BundleSid` to be bought (21649 otherwise).
    pub bundle_required_countries: Vec<String>,
    /// `Balance.json` of a subaccount reports the parent's balance (true) or 404/20404 (false).
    pub subaccount_balance_from_parent: bool,
    /// Deduct the monthly fee from the paying (main) account's balance at purchase.
    pub charge_on_purchase: bool,
    /// Charge each owned number's monthly fee on its renewal dates when the clock moves
    /// (`Simulator::advance_time`, `Simulator::bill_due_numbers`).
    pub monthly_billing: bool,
    /// Suspend the paying account when a renewal charge takes its balance to zero or below.
    pub suspend_at_zero_balance: bool,
    /// How a commit-then-fail fault fails.
    pub commit_then_fail: CommitFailMode,
    /// Maximum subaccounts per main account (Twilio default 1000).
    pub max_subaccounts: usize,
    /// Concurrent API requests allowed per account (the credentials' account, parent and
    /// subaccounts counted apart); beyond it 429/20429, not executed. `None`: unlimited. Twilio's
    /// real limit is unpublished (about 100 is cited).
    pub max_concurrent_requests: Option<usize>,
    /// Trial accounts may own only one number (second purchase: 400/21404).
    pub trial_single_number: bool,
    /// Prices by country.
    pub prices: Vec<CountryPrices>,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            search_cap: 30,
            search_order: SearchOrder::Rotating,
            quarantine_days: 10,
            owned_number_rebuy: OwnedNumberRebuy::Error21422,
            empty_area_codes: vec![533],
            bundle_required_countries: vec!["DE".to_string()],
            subaccount_balance_from_parent: true,
            charge_on_purchase: true,
            monthly_billing: true,
            suspend_at_zero_balance: false,
            commit_then_fail: CommitFailMode::DropConnection,
            max_subaccounts: 1000,
            max_concurrent_requests: None,
            trial_single_number: true,
            prices: default_prices(),
        }
    }
}

impl SimSettings {
    /// Prices of one country (ISO alpha-2, case-insensitive).
    pub fn prices_for(&self, iso: &str) -> Option<&CountryPrices> {
        self.prices
            .iter()
            .find(|p| p.iso_country.eq_ignore_ascii_case(iso))
    }
}

/// Number and voice prices of one country, in `price_unit`.
#[derive(Debug, Clone, PartialEq)]
pub struct CountryPrices {
    pub iso_country: String,
    pub country: String,
    pub price_unit: String,
    /// Monthly fee by number type (`local`, `toll free`, `mobile`).
    pub monthly: Vec<(String, Decimal)>,
    /// Inbound per-minute by number type.
    pub inbound_per_minute: Vec<(String, Decimal)>,
    /// Outbound per-minute: (destination prefixes, friendly name, price).
    pub outbound: Vec<(Vec<String>, String, Decimal)>,
}

impl CountryPrices {
    /// Monthly fee of a number type (`local`, `toll free`, `mobile`).
    pub fn monthly_fee(&self, number_type: &str) -> Option<Decimal> {
        self.monthly
            .iter()
            .find(|(t, _)| t == number_type)
            .map(|(_, p)| *p)
    }
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn country_prices(
    iso: &str,
    name: &str,
    monthly: &[(&str, &str)],
    inbound: &[(&str, &str)],
    outbound: &[(&[&str], &str, &str)],
) -> CountryPrices {
    CountryPrices {
        iso_country: iso.into(),
        country: name.into(),
        price_unit: "USD".into(),
        monthly: monthly
            .iter()
            .map(|(t, p)| ((*t).to_string(), d(p)))
            .collect(),
        inbound_per_minute: inbound
            .iter()
            .map(|(t, p)| ((*t).to_string(), d(p)))
            .collect(),
        outbound: outbound
            .iter()
            .map(|(pre, name, p)| {
                (
                    pre.iter().map(|s| (*s).to_string()).collect(),
                    (*name).to_string(),
                    d(p),
                )
            })
            .collect(),
    }
}

/// Realistic default price table (USD) for the generated countries.
pub fn default_prices() -> Vec<CountryPrices> {
    vec![
        country_prices(
            "US",
            "United States",
            &[("local", "1.15"), ("toll free", "2.15"), ("mobile", "1.15")],
            &[
                ("local", "0.0085"),
                ("toll free", "0.022"),
                ("mobile", "0.0085"),
            ],
            &[
                (
                    &["1"],
                    "Programmable Outbound Minute - United States & Canada",
                    "0.0140",
                ),
                (
                    &["1907"],
                    "Programmable Outbound Minute - United States - Alaska",
                    "0.0900",
                ),
            ],
        ),
        country_prices(
            "CA",
            "Canada",
            &[("local", "1.15"), ("toll free", "2.15")],
            &[("local", "0.0085"), ("toll free", "0.022")],
            &[(
                &["1"],
                "Programmable Outbound Minute - United States & Canada",
                "0.0140",
            )],
        ),
        country_prices(
            "GB",
            "United Kingdom",
            &[("local", "1.15"), ("toll free", "2.00"), ("mobile", "1.15")],
            &[
                ("local", "0.0100"),
                ("toll free", "0.0575"),
                ("mobile", "0.0100"),
            ],
            &[
                (
                    &["44"],
                    "Programmable Outbound Minute - United Kingdom",
                    "0.0158",
                ),
                (
                    &["447"],
                    "Programmable Outbound Minute - United Kingdom - Mobile",
                    "0.0375",
                ),
            ],
        ),
        country_prices(
            "DE",
            "Germany",
            &[
                ("local", "1.15"),
                ("toll free", "17.00"),
                ("mobile", "17.00"),
            ],
            &[
                ("local", "0.0100"),
                ("toll free", "0.0650"),
                ("mobile", "0.0100"),
            ],
            &[
                (&["49"], "Programmable Outbound Minute - Germany", "0.0261"),
                (
                    &["4915", "4916", "4917"],
                    "Programmable Outbound Minute - Germany - Mobile",
                    "0.1184",
                ),
            ],
        ),
        country_prices(
            "AU",
            "Australia",
            &[
                ("local", "3.00"),
                ("toll free", "16.00"),
                ("mobile", "6.50"),
            ],
            &[
                ("local", "0.0100"),
                ("toll free", "0.0400"),
                ("mobile", "0.0100"),
            ],
            &[
                (
                    &["61"],
                    "Programmable Outbound Minute - Australia",
                    "0.0240",
                ),
                (
                    &["614"],
                    "Programmable Outbound Minute - Australia - Mobile",
                    "0.0650",
                ),
            ],
        ),
    ]
}
