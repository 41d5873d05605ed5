//! Pure decisions for a `PhoneNumber`: given the object (spec, status, generation), what the
//! account allows, what Twilio was observed to hold (inventory snapshot entry, a targeted lookup,
//! a search result, prices) and `now`, decide the next action and the status to write.
//!
//! The controller drives a loop: observe → `decide` → perform the one action → add its outcome to
//! the observations → `decide` again, until the action is `Wait`. Every fact the decision lacks is
//! asked for as an action (`Search`, `Lookup`), so the shell never guesses what to fetch.
//!
//! Modules: `validate` (what the schema cannot check), `config` (desired Twilio configuration and
//! its diff), `renewal` (Managed 28-day cycle, BringYourOwn billing date), `status` (condition and
//! status builders), `decide` (purchase path), `active` (drift, config sync, renewal), `cleanup`
//! (deletion).

pub mod active;
pub mod claimed;
pub mod cleanup;
pub mod config;
pub mod decide;
pub mod recover;
pub mod renewal;
pub mod status;
pub mod summary;
pub mod validate;

#[cfg(test)]
mod tests;

pub use cleanup::{CleanupAction, CleanupObserved, decide_cleanup};
pub use decide::decide;
pub use recover::{attempt_sent, refusal_of};
pub use summary::PhoneNumberSummary;

use crate::api::AccountMode;
use crate::conditions::ReasonMessage;
use crate::twilio::{AvailableNumber, IncomingNumber, NumberConfig, SearchQuery};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;

/// Buys of one intent sent to Twilio without a number to show for it before the operator gives
/// up (each attempt is claimed by a status write first, so this also bounds buys after
/// conflicts). An attempt whose buy was never sent (a crash right after the intent was written)
/// does not count.
pub const MAX_PURCHASE_ATTEMPTS: u32 = 5;

/// How long a recorded purchase attempt is presumed in flight (another replica, or a request
/// Twilio may still process after a timeout) before the number is bought again.
pub const DEFAULT_INTENT_SETTLE: SignedDuration = SignedDuration::from_secs(60);

/// What the referenced TelephonyAccount allows.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountView {
    /// No TelephonyAccount of that name in the PhoneNumber's namespace.
    Missing,
    /// The account exists but numbers cannot act through it. `transient`: it is still
    /// connecting, no person needs to act. `first_look_due`: the operator has not looked at
    /// the account yet; a number without a status of its own waits silently until then
    /// (`crate::reconcile::account::NotUsable::first_look_due`).
    NotUsable {
        why: ReasonMessage,
        transient: bool,
        first_look_due: Option<Timestamp>,
    },
    /// Numbers may act through it.
    Usable {
        mode: AccountMode,
        account_sid: String,
    },
}

/// Whether the account holds the number, and how fresh that knowledge is.
#[derive(Debug, Clone, PartialEq)]
pub struct Ownership {
    /// The number as Twilio holds it, or `None` when the account does not hold it.
    pub number: Option<IncomingNumber>,
    /// When this was observed (list time of a snapshot, or time of a lookup / buy).
    pub as_of: Timestamp,
    /// `true` for a targeted lookup (or a buy response) made in this reconcile; `false` for the
    /// shared inventory snapshot (up to one resync period old).
    pub targeted: bool,
}

/// Where a price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    TwilioPricingApi,
    RateCard,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::TwilioPricingApi => "TwilioPricingAPI",
            PriceSource::RateCard => "RateCard",
        }
    }
}

/// The prices of the number (or of the number about to be bought).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceQuote {
    pub currency: String,
    pub monthly_fee: Decimal,
    pub inbound_per_minute: Option<Decimal>,
    pub outbound_per_minute: Option<Decimal>,
    pub source: PriceSource,
    pub fetched_at: Option<Timestamp>,
}

/// How the last buy of this reconcile ended, when it did not return a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuyFailure {
    /// Twilio refused (definite: nothing was bought).
    Refused { code: Option<u32>, message: String },
    /// The credits hold was refused (Managed): nothing was held, nothing bought.
    NoCredits { message: String },
}

/// How a renewal charge ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalOutcome {
    /// Period `period` is paid.
    Renewed { period: u32 },
    /// The credits refused (or no price): the number enters its grace period.
    Refused(ReasonMessage),
}

/// Everything observed before a decision. Fields left `None` were not observed.
#[derive(Debug, Clone)]
pub struct Observed {
    pub now: Timestamp,
    pub account: AccountView,
    /// Ownership of the number the decision is about (spec.number, the intent's number or the
    /// bought number).
    pub owned: Option<Ownership>,
    /// Result of `Search` (numbers reserved by other PhoneNumbers already removed).
    pub search: Option<Vec<AvailableNumber>>,
    /// Twilio did return numbers, but other PhoneNumbers are buying all of them: search again
    /// shortly instead of reporting "no numbers".
    pub search_contended: bool,
    /// Prices for the number's country and type (BringYourOwn: Pricing API; Managed: rate card).
    pub price: Option<PriceQuote>,
    /// Why `price` is missing (not listed for this country/type, Pricing API refused).
    pub price_problem: Option<ReasonMessage>,
    /// Who else already claims the number (`PhoneNumber "x" of this namespace`, or another
    /// namespace's PhoneNumber over the same Twilio account, unnamed): the number is refused.
    pub claimed_by: Option<String>,
    /// Numbers other PhoneNumbers of the account claim (a search skips them).
    pub claimed_numbers: claimed::ClaimedNumbers,
    /// Numbers whose recorded claim (one per Twilio account and number, taken before any intent
    /// or adoption) another PhoneNumber holds: whatever the account shows, they are not this
    /// object's, so an intent for one is abandoned.
    pub claimed_elsewhere: Vec<String>,
    pub buy_failure: Option<BuyFailure>,
    /// The buy of the recorded attempt was sent in this reconcile and its outcome is unknown (a
    /// timeout, a dropped connection): the attempt counts (see `PurchaseIntent::buy_sent`).
    pub buy_sent: bool,
    /// Managed: the account's credits balance (granted − spent, holds included) as its status
    /// shows it. A purchase it cannot pay for is refused without recording an intent.
    pub credits_balance: Option<Decimal>,
    /// Twilio refused a call for good (credentials refused, permanent search error): the object
    /// is Stalled with this reason until something changes.
    pub refusal: Option<ReasonMessage>,
    /// A configuration update Twilio refused.
    pub sync_failure: Option<ReasonMessage>,
    pub renewal: Option<RenewalOutcome>,
    /// The number was released at Twilio in this reconcile (lapse).
    pub released: bool,
    /// See [`DEFAULT_INTENT_SETTLE`].
    pub intent_settle: SignedDuration,
    /// The hold this PhoneNumber took its number over from (its account held it after another
    /// PhoneNumber was deleted: `crate::reconcile::quarantine`).
    pub held: Option<crate::api::HeldNumber>,
}

impl Observed {
    /// Observations with only the time and the account known.
    pub fn new(now: Timestamp, account: AccountView) -> Self {
        Self {
            now,
            account,
            owned: None,
            search: None,
            search_contended: false,
            price: None,
            price_problem: None,
            claimed_by: None,
            claimed_numbers: Default::default(),
            claimed_elsewhere: Vec::new(),
            buy_failure: None,
            buy_sent: false,
            credits_balance: None,
            refusal: None,
            sync_failure: None,
            renewal: None,
            released: false,
            intent_settle: DEFAULT_INTENT_SETTLE,
            held: None,
        }
    }
}

/// The one thing to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing at Twilio: write the status if it changed, look again at `requeue_at`.
    Wait,
    /// The account's first verdict is pending and this number has no status yet: write
    /// nothing (the object still reads as not reconciled: observedGeneration -1), look again at
    /// `requeue_at`; the account's first status write wakes it sooner.
    AwaitAccountFirstLook,
    /// Search available numbers (one call), then decide again.
    Search(SearchQuery),
    /// Look the number up in the account (one `list_incoming` with a PhoneNumber filter).
    Lookup { number: String },
    /// Write the status (phase Purchasing + intent) with the read resourceVersion, then (Managed)
    /// hold `charge`, then buy `number`. A conflict on the write ends the reconcile: no buy.
    RecordIntent {
        number: String,
        charge: Option<Decimal>,
    },
    /// Same as `RecordIntent` for a later attempt of the recorded intent (attempts + 1 when the
    /// last attempt's buy was sent, the same attempt again when it never was).
    RetryBuy {
        number: String,
        charge: Option<Decimal>,
    },
    /// The account holds the number: (Managed, `settle`) settle the purchase charge, then write
    /// the status (Active, intent cleared).
    Confirm {
        number: IncomingNumber,
        settle: bool,
        adopted: bool,
    },
    /// The purchase definitely failed: (Managed, `release_hold`) drop the hold, then write the
    /// status (intent cleared).
    Abandon { release_hold: bool },
    /// Update the number at Twilio with `diff`, then decide again.
    SyncConfig { sid: String, diff: NumberConfig },
    /// Charge renewal period `period` (hold + settle, key per period), then decide again.
    Renew {
        period: u32,
        amount: Decimal,
        due: Timestamp,
    },
    /// Grace is over: release the number at Twilio (404 is fine), then decide again.
    Lapse { sid: String },
}

pub use crate::reason::{Event, EventType};

/// A decision: the action, the status to write (before the action for `RecordIntent`/`RetryBuy`,
/// after it for `Confirm`/`Abandon`, as is for `Wait`; fact-gathering actions carry the status as
/// read), the next deadline to look again at (the controller also looks every resync period), and
/// an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub status: crate::api::PhoneNumberStatus,
    pub requeue_at: Option<Timestamp>,
    pub event: Option<Event>,
}
