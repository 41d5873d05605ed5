//! One inventory list per Twilio account per resync period, shared by every PhoneNumber (and the
//! TelephonyAccount) of that account. This is what keeps drift detection at O(accounts) Twilio
//! calls per resync instead of O(numbers): a PhoneNumber never lists or fetches its own number
//! during a resync, it looks itself up in the account's snapshot.
//!
//! Single-flight: concurrent callers for the same account wait on one in-flight paged list and
//! share its result. Purchases and releases made by the operator are noted in the snapshot
//! (`note_purchased` / `note_released`, O(1)) so it stays fresh without a new list.
//!
//! Ages are measured on the monotonic wall clock (`max_age` is a real duration, like the resync
//! period); `fetched_at` is the logical time of the list, from the operator's clock.

use crate::clock::{SharedClock, SystemClock};
use crate::twilio::{AccountApi, IncomingFilter, IncomingNumber, TwilioError};
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

/// Per-account inventory snapshots (see the module docs).
pub struct InventoryCache {
    clock: SharedClock,
    accounts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    lists: std::sync::atomic::AtomicU64,
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
        }
    }

    fn slot(&self, account_sid: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(account_sid.to_string()).or_default().clone()
    }

    /// The account's inventory, listed (all pages) at most once per `max_age`. Concurrent callers
    /// share one in-flight list. An error is not cached.
    pub async fn snapshot(
        &self,
        api: &AccountApi,
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
