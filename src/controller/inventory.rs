//! One inventory list per Twilio account per resync period, shared by every PhoneNumber (and the
//! TelephonyAccount) of that account. This is what keeps drift detection at O(accounts) Twilio
//! calls per resync instead of O(numbers): a PhoneNumber never lists or fetches its own number
//! during a resync, it looks itself up in the account's snapshot.
//!
//! Single-flight: concurrent callers for the same account wait on one in-flight paged list and
//! share its result. Purchases and releases made by the operator are noted in the snapshot
//! (`note_purchased` / `note_released`, O(1)) so it stays fresh without a new list.
//!
//! Searches: concurrent PhoneNumbers searching the same thing share one search result (a pool,
//! kept a few seconds) and each *reserves* the number it is about to buy, so two PhoneNumbers
//! never pick the same number and a pool of ~30 results serves ~30 purchases with one search.
//!
//! Ages are measured on the monotonic wall clock (`max_age` is a real duration, like the resync
//! period); `fetched_at` is the logical time of the list, from the operator's clock.

use crate::clock::{SharedClock, SystemClock};
use crate::twilio::{
    AvailableNumber, IncomingFilter, IncomingNumber, SearchQuery, TwilioError, TwilioPort,
};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Page size of inventory sweeps (Twilio's maximum).
pub const INVENTORY_PAGE_SIZE: u32 = 1000;

/// Changes the operator made since the list, applied on top of it.
#[derive(Debug, Default)]
struct Notes {
    added: HashMap<String, IncomingNumber>,
    removed: HashSet<String>,
}

/// The numbers a Twilio account owned at `fetched_at` (plus the operator's own purchases and
/// releases since).
#[derive(Debug)]
pub struct InventorySnapshot {
    /// The account listed.
    pub account_sid: String,
    /// Logical time of the list.
    pub fetched_at: Timestamp,
    listed: Vec<IncomingNumber>,
    index: HashMap<String, usize>,
    notes: RwLock<Notes>,
}

impl InventorySnapshot {
    /// A snapshot from a list (also used by tests and by pure-decision fixtures).
    pub fn new(
        account_sid: impl Into<String>,
        fetched_at: Timestamp,
        numbers: Vec<IncomingNumber>,
    ) -> Self {
        let index = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| (n.phone_number.clone(), i))
            .collect();
        Self {
            account_sid: account_sid.into(),
            fetched_at,
            listed: numbers,
            index,
            notes: RwLock::new(Notes::default()),
        }
    }

    /// The owned number `e164`, if the account holds it (a clone: notes may change concurrently).
    pub fn get(&self, e164: &str) -> Option<IncomingNumber> {
        let notes = self.notes.read().unwrap_or_else(|p| p.into_inner());
        if notes.removed.contains(e164) {
            return None;
        }
        if let Some(n) = notes.added.get(e164) {
            return Some(n.clone());
        }
        self.index
            .get(e164)
            .and_then(|&i| self.listed.get(i))
            .cloned()
    }

    /// Whether the account holds `e164`.
    pub fn contains(&self, e164: &str) -> bool {
        self.get(e164).is_some()
    }

    /// Every number the account holds (listed + noted purchases − noted releases).
    pub fn numbers(&self) -> Vec<IncomingNumber> {
        let notes = self.notes.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<IncomingNumber> = self
            .listed
            .iter()
            .filter(|n| {
                !notes.removed.contains(&n.phone_number)
                    && !notes.added.contains_key(&n.phone_number)
            })
            .cloned()
            .collect();
        out.extend(
            notes
                .added
                .values()
                .filter(|n| !notes.removed.contains(&n.phone_number))
                .cloned(),
        );
        out
    }

    /// How many numbers the account holds.
    pub fn len(&self) -> usize {
        self.numbers().len()
    }

    /// `true` when the account holds no number.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn note_purchased(&self, number: IncomingNumber) {
        let mut notes = self.notes.write().unwrap_or_else(|p| p.into_inner());
        notes.removed.remove(&number.phone_number);
        notes.added.insert(number.phone_number.clone(), number);
    }

    fn note_released(&self, e164: &str) {
        let mut notes = self.notes.write().unwrap_or_else(|p| p.into_inner());
        notes.added.remove(e164);
        notes.removed.insert(e164.to_string());
    }
}

#[derive(Default)]
struct Slot {
    current: Option<(Instant, Arc<InventorySnapshot>)>,
}

/// How long a number stays reserved for the PhoneNumber about to buy it.
pub const RESERVATION_TTL: Duration = Duration::from_secs(600);
/// How long a search result is shared before Twilio is searched again.
pub const SEARCH_POOL_TTL: Duration = Duration::from_secs(30);
/// A pool whose numbers are all reserved is searched again only after this long (reserved
/// numbers stay "available" at Twilio until bought, so an earlier search would return them again).
pub const SEARCH_RETRY_AFTER: Duration = Duration::from_secs(1);

type SearchSlot = Arc<tokio::sync::Mutex<Option<(Instant, Vec<AvailableNumber>)>>>;

/// What a shared search found for one PhoneNumber.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// Results not reserved by another PhoneNumber and not already owned.
    pub free: Vec<AvailableNumber>,
    /// Results Twilio returned before filtering (0: Twilio has none).
    pub total: usize,
}

/// Per-account inventory snapshots (see the module docs).
pub struct InventoryCache {
    clock: SharedClock,
    accounts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    lists: std::sync::atomic::AtomicU64,
    reservations: Mutex<HashMap<(String, String), (String, Instant)>>,
    searches: Mutex<HashMap<(String, String), SearchSlot>>,
}

impl Default for InventoryCache {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

impl std::fmt::Debug for InventoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InventoryCache")
            .field("lists", &self.lists_made())
            .finish_non_exhaustive()
    }
}

impl InventoryCache {
    /// A cache stamping `fetched_at` with `clock`.
    pub fn with_clock(clock: SharedClock) -> Self {
        Self {
            clock,
            accounts: Mutex::new(HashMap::new()),
            lists: Default::default(),
            reservations: Mutex::new(HashMap::new()),
            searches: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, account_sid: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(account_sid.to_string()).or_default().clone()
    }

    /// The account's inventory, listed (all pages) at most once per `max_age`. Concurrent callers
    /// share one in-flight list. An error is not cached.
    pub async fn snapshot<T: TwilioPort>(
        &self,
        api: &T,
        max_age: Duration,
    ) -> Result<Arc<InventorySnapshot>, TwilioError> {
        let slot = self.slot(api.account_sid());
        let mut guard = slot.lock().await;
        if let Some((at, snap)) = &guard.current
            && at.elapsed() < max_age
        {
            return Ok(snap.clone());
        }
        let filter = IncomingFilter {
            page_size: Some(INVENTORY_PAGE_SIZE),
            ..Default::default()
        };
        let numbers = api.list_incoming(&filter).await?;
        self.lists
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let snap = Arc::new(InventorySnapshot::new(
            api.account_sid(),
            self.clock.now(),
            numbers,
        ));
        guard.current = Some((Instant::now(), snap.clone()));
        Ok(snap)
    }

    /// The cached snapshot of an account, whatever its age, without calling Twilio.
    pub async fn cached(&self, account_sid: &str) -> Option<Arc<InventorySnapshot>> {
        let slot = self.slot(account_sid);
        let guard = slot.lock().await;
        guard.current.as_ref().map(|(_, s)| s.clone())
    }

    /// Forgets the account's snapshot: the next `snapshot` lists again.
    pub fn invalidate(&self, account_sid: &str) {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(account_sid);
    }

    fn current(&self, account_sid: &str) -> Option<Arc<InventorySnapshot>> {
        let slot = self.slot(account_sid);
        // A list in flight holds the lock; its result will include the change anyway.
        let guard = slot.try_lock().ok()?;
        guard.current.as_ref().map(|(_, s)| s.clone())
    }

    /// Records a number the operator just bought (or adopted) in the account's snapshot.
    pub fn note_purchased(&self, account_sid: &str, number: IncomingNumber) {
        if let Some(snap) = self.current(account_sid) {
            snap.note_purchased(number);
        }
    }

    /// Records a number the operator just released.
    pub fn note_released(&self, account_sid: &str, e164: &str) {
        if let Some(snap) = self.current(account_sid) {
            snap.note_released(e164);
        }
    }

    /// Reserves `e164` in the account for `owner` (a PhoneNumber uid). `false` when another owner
    /// holds a live reservation.
    pub fn reserve(&self, account_sid: &str, e164: &str, owner: &str) -> bool {
        let mut map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        let key = (account_sid.to_string(), e164.to_string());
        match map.get(&key) {
            Some((o, at)) if o != owner && at.elapsed() < RESERVATION_TTL => false,
            _ => {
                map.insert(key, (owner.to_string(), Instant::now()));
                true
            }
        }
    }

    /// Drops `owner`'s reservation of `e164` (the purchase was abandoned).
    pub fn unreserve(&self, account_sid: &str, e164: &str, owner: &str) {
        let mut map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        let key = (account_sid.to_string(), e164.to_string());
        if map.get(&key).is_some_and(|(o, _)| o == owner) {
            map.remove(&key);
        }
    }

    /// Whether someone other than `owner` holds a live reservation of `e164`.
    pub fn reserved_by_other(&self, account_sid: &str, e164: &str, owner: &str) -> bool {
        let map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(account_sid.to_string(), e164.to_string()))
            .is_some_and(|(o, at)| o != owner && at.elapsed() < RESERVATION_TTL)
    }

    /// Searches available numbers, sharing one Twilio search among concurrent PhoneNumbers with
    /// the same query: the pool is searched again when it is older than [`SEARCH_POOL_TTL`] or has
    /// no free number left for `owner`.
    pub async fn search<T: TwilioPort>(
        &self,
        api: &T,
        q: &SearchQuery,
        owner: &str,
    ) -> Result<SearchOutcome, TwilioError> {
        let account = api.account_sid().to_string();
        let slot = {
            let mut map = self.searches.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((account.clone(), format!("{q:?}")))
                .or_default()
                .clone()
        };
        let mut guard = slot.lock().await;
        let owned = self.current(&account);
        let free = |all: &[AvailableNumber]| -> Vec<AvailableNumber> {
            all.iter()
                .filter(|a| !self.reserved_by_other(&account, &a.phone_number, owner))
                .filter(|a| owned.as_ref().is_none_or(|s| !s.contains(&a.phone_number)))
                .cloned()
                .collect()
        };
        if let Some((at, all)) = guard.as_ref()
            && at.elapsed() < SEARCH_POOL_TTL
        {
            let f = free(all);
            // Everything reserved a moment ago: Twilio would answer the same; wait instead.
            if !f.is_empty() || at.elapsed() < SEARCH_RETRY_AFTER {
                return Ok(SearchOutcome {
                    free: f,
                    total: all.len(),
                });
            }
        }
        let all = api.search_available(q).await?;
        let out = SearchOutcome {
            free: free(&all),
            total: all.len(),
        };
        *guard = Some((Instant::now(), all));
        Ok(out)
    }

    /// Paged lists made since the cache was built (for tests and benchmarks).
    pub fn lists_made(&self) -> u64 {
        self.lists.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn number(e164: &str) -> IncomingNumber {
        serde_json::from_value(serde_json::json!({
            "sid": format!("PN{:0>32}", e164.trim_start_matches('+')),
            "account_sid": "AC00000000000000000000000000000001",
            "phone_number": e164,
            "friendly_name": e164,
        }))
        .unwrap()
    }

    #[test]
    fn snapshot_lookup_and_notes() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let snap = InventorySnapshot::new(
            "AC1",
            t,
            vec![number("+15550000001"), number("+15550000002")],
        );
        assert!(snap.contains("+15550000001"));
        assert!(!snap.contains("+15550000003"));
        snap.note_purchased(number("+15550000003"));
        snap.note_released("+15550000001");
        assert!(snap.contains("+15550000003"));
        assert!(!snap.contains("+15550000001"));
        let mut all: Vec<String> = snap.numbers().into_iter().map(|n| n.phone_number).collect();
        all.sort();
        assert_eq!(all, vec!["+15550000002", "+15550000003"]);
        assert_eq!(snap.len(), 2);
    }
}
