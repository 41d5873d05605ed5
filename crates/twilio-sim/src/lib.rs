//! A stateful stand-in for Twilio's REST API (v2010 accounts and phone numbers, Pricing v1/v2),
//! for tests, benchmarks and the operator's sandbox. It exists because the real service is paid,
//! rate-limited and unreachable from CI; it follows `shared/reference/twilio-api-notes.md` and
//! Twilio's OpenAPI, and makes every UNCONFIRMED behaviour a setting.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use twilio_sim::{SimConfig, Simulator};
//! let sim = Simulator::new(SimConfig::default());
//! let acct = sim.add_account("acme");
//! let server = sim.serve("127.0.0.1:0".parse().unwrap()).await?;
//! println!("{} {}", server.base_url(), acct.sid);
//! # Ok(()) }
//! ```

mod api;
mod auth;
mod billing;
mod config;
mod error;
mod geo;
mod http;
mod inventory;
mod model;
mod routes;
mod server;
mod sim;
mod standalone;
mod state;
mod util;

pub use config::{
    CommitFailMode, CountryPrices, FaultConfig, OwnedNumberRebuy, SearchOrder, SeedAccount,
    SimConfig, SimSettings, default_prices,
};
pub use error::ApiError;
pub use model::{Capabilities, Counters, FaultCounts, OwnedNumber, PurchaseRecord};
pub use routes::ROUTE_TEMPLATES;
pub use server::SimServer;
pub use sim::Simulator;
pub use standalone::run_standalone;
pub use util::random_sid;
