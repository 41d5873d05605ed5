//! One inventory list per Twilio account per resync period, shared by every PhoneNumber (and the
//! TelephonyAccount) of that account. This is what keeps drift detection at O(accounts) Twilio
//! calls per resync instead of O(numbers): a PhoneNumber never lists or fetches its own number
//! during a resync, it looks itself up in the account's snapshot.
//!
//! Single-flight: concurrent callers for the same account wait on one in-flight paged list and
//! share its result. Purchases and releases made by the operator are noted in the snapshot
//! (`note_purchased` / `note_released`, O(1)) so it stays fresh without a new list; a note made
//! while a list is in flight is applied to that list's result too (never dropped).
//!
//! Searches: concurrent PhoneNumbers searching the same thing share one search result (a pool,
//! kept a few seconds) and each *reserves* the number it is about to buy, so two PhoneNumbers
//! never pick the same number and a pool of ~30 results serves ~30 purchases with one search.
//!
//! Ages are measured on the monotonic wall clock (`max_age` is a real duration, like the resync
//! period); `fetched_at` is the logical time the list started, from the operator's clock (only a
//! list that started after a purchase completed can prove the number gone).

use crate::clock::{SharedClock, SystemClock};
use crate::twilio::{
    AvailableNumber, Capabilities, ConfigField, IncomingFilter, IncomingNumber, NumberConfig,
    SearchQuery, TwilioError, TwilioPort,
};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Page size of inventory sweeps (Twilio's maximum).
pub const INVENTORY_PAGE_SIZE: u32 = 1000;

/// An owned number as a snapshot keeps it: the fields of [`IncomingNumber`] without its inline
/// table of every configuration field (one `Option<String>` per field, most of them unset), only
/// the fields Twilio set, and without the account SID when it is the snapshot's own. A snapshot
/// holds every number of its account for a resync period (10,000 numbers: ~170 bytes each here
/// against ~600 as `IncomingNumber`); [`Entry::to_number`] gives back the exact `IncomingNumber`.
#[derive(Debug)]
struct Entry {
    sid: Box<str>,
    phone_number: Box<str>,
    /// `None`: the snapshot's account.
    account_sid: Option<Box<str>>,
    capabilities: Capabilities,
    status: Option<Box<str>>,
    number_type: Option<Box<str>>,
    date_created: Option<Timestamp>,
    date_updated: Option<Timestamp>,
    address_requirements: Option<Box<str>>,
    /// The set configuration fields (`Some("")` kept as `""`), in table order.
    config: Box<[(ConfigField, Box<str>)]>,
}

impl Entry {
    fn new(n: IncomingNumber, account_sid: &str) -> Self {
        let config = n
            .config
            .iter()
            .map(|(f, v)| (f, Box::from(v)))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Self {
            sid: n.sid.into_boxed_str(),
            phone_number: n.phone_number.into_boxed_str(),
            account_sid: (n.account_sid != account_sid).then(|| n.account_sid.into_boxed_str()),
            capabilities: n.capabilities,
            status: n.status.map(String::into_boxed_str),
            number_type: n.number_type.map(String::into_boxed_str),
            date_created: n.date_created,
            date_updated: n.date_updated,
            address_requirements: n.address_requirements.map(String::into_boxed_str),
            config,
        }
    }

    fn to_number(&self, account_sid: &str) -> IncomingNumber {
        let text = |s: &Option<Box<str>>| s.as_deref().map(str::to_owned);
        IncomingNumber {
            sid: self.sid.to_string(),
            account_sid: self
                .account_sid
                .as_deref()
                .unwrap_or(account_sid)
                .to_owned(),
            phone_number: self.phone_number.to_string(),
            capabilities: self.capabilities,
            status: text(&self.status),
            number_type: text(&self.number_type),
            date_created: self.date_created,
            date_updated: self.date_updated,
            address_requirements: text(&self.address_requirements),
            config: NumberConfig::from_fn(|f| {
                self.config
                    .iter()
                    .find(|(g, _)| *g == f)
                    .map(|(_, v)| v.to_string())
            }),
        }
    }
}

/// Changes the operator made since the list, applied on top of it (B-trees: no table to double
/// while 10,000 purchases are noted).
#[derive(Debug, Default)]
struct Notes {
    added: BTreeMap<Box<str>, Entry>,
    removed: BTreeSet<Box<str>>,
}

/// The numbers a Twilio account owned at `fetched_at` (plus the operator's own purchases and
/// releases since).
#[derive(Debug)]
pub struct InventorySnapshot {
    /// The account listed.
    pub account_sid: String,
    /// Logical time the list started (it includes every number bought before then).
    pub fetched_at: Timestamp,
    /// As listed, sorted by number (stable: of two listings of one number, the later counts).
    listed: Vec<Entry>,
    notes: RwLock<Notes>,
}

impl InventorySnapshot {
    /// A snapshot from a list (also used by tests and by pure-decision fixtures).
    pub fn new(
        account_sid: impl Into<String>,
        fetched_at: Timestamp,
        numbers: Vec<IncomingNumber>,
    ) -> Self {
        let account_sid = account_sid.into();
        let listed: Vec<Entry> = numbers
            .into_iter()
            .map(|n| Entry::new(n, &account_sid))
            .collect();
        Self::from_entries(account_sid, fetched_at, listed)
    }

    fn from_entries(account_sid: String, fetched_at: Timestamp, mut listed: Vec<Entry>) -> Self {
        // Stable: of two listings of one number, the later stays last.
        listed.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        listed.shrink_to_fit();
        Self {
            account_sid,
            fetched_at,
            listed,
            notes: RwLock::new(Notes::default()),
        }
    }

    /// The listed entry of `e164` (the last listing of it).
    fn listed(&self, e164: &str) -> Option<&Entry> {
        let end = self.listed.partition_point(|n| &*n.phone_number <= e164);
        end.checked_sub(1)
            .and_then(|i| self.listed.get(i))
            .filter(|n| &*n.phone_number == e164)
    }

    /// The owned number `e164`, if the account holds it (a clone: notes may change concurrently).
    pub fn get(&self, e164: &str) -> Option<IncomingNumber> {
        let notes = self.notes.read().unwrap_or_else(|p| p.into_inner());
        if notes.removed.contains(e164) {
            return None;
        }
        notes
            .added
            .get(e164)
            .or_else(|| self.listed(e164))
            .map(|n| n.to_number(&self.account_sid))
    }

    /// Whether the account holds `e164`.
    pub fn contains(&self, e164: &str) -> bool {
        let notes = self.notes.read().unwrap_or_else(|p| p.into_inner());
        !notes.removed.contains(e164)
            && (notes.added.contains_key(e164) || self.listed(e164).is_some())
    }

    /// Every number the account holds (listed + noted purchases − noted releases).
    pub fn numbers(&self) -> Vec<IncomingNumber> {
        let mut out = Vec::new();
        self.for_each_held(|n| out.push(n.to_number(&self.account_sid)));
        out
    }

    /// The E.164 of every number the account holds (what [`Self::numbers`] would give, without
    /// a full `IncomingNumber` per number: ~600 bytes each, 10,000 at once for a summary).
    pub fn phone_numbers(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_held(|n| out.push(n.phone_number.to_string()));
        out
    }

    /// Calls `f` with every entry the account holds: the listed ones not changed since, then
    /// the noted purchases.
    fn for_each_held(&self, mut f: impl FnMut(&Entry)) {
        let notes = self.notes.read().unwrap_or_else(|p| p.into_inner());
        self.listed
            .iter()
            .filter(|n| {
                !notes.removed.contains(&n.phone_number)
                    && !notes.added.contains_key(&n.phone_number)
            })
            .for_each(&mut f);
        notes
            .added
            .values()
            .filter(|n| !notes.removed.contains(&n.phone_number))
            .for_each(f);
    }

    /// How many numbers the account holds.
    pub fn len(&self) -> usize {
        let mut count = 0;
        self.for_each_held(|_| count += 1);
        count
    }

    /// `true` when the account holds no number.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn note_purchased(&self, number: IncomingNumber) {
        let entry = Entry::new(number, &self.account_sid);
        let mut notes = self.notes.write().unwrap_or_else(|p| p.into_inner());
        notes.removed.remove(&entry.phone_number);
        notes.added.insert(entry.phone_number.clone(), entry);
    }

    fn note_released(&self, e164: &str) {
        let mut notes = self.notes.write().unwrap_or_else(|p| p.into_inner());
        notes.added.remove(e164);
        notes.removed.insert(e164.into());
    }
}

/// A change the operator made while a list was in flight, applied to that list's result.
#[derive(Debug, Clone)]
enum Note {
    Purchased(Box<IncomingNumber>),
    Released(String),
}

impl Note {
    fn apply(&self, snap: &InventorySnapshot) {
        match self {
            Note::Purchased(n) => snap.note_purchased((**n).clone()),
            Note::Released(e164) => snap.note_released(e164),
        }
    }
}

/// The snapshot of an account and the changes noted while a list is in flight. Never held
/// across an await, so a note never waits for (or is dropped because of) a list.
#[derive(Default)]
struct Current {
    snapshot: Option<(Instant, Arc<InventorySnapshot>)>,
    /// A list is in flight: notes are also kept here for its result.
    listing: bool,
    pending: Vec<Note>,
}

#[derive(Default)]
struct Slot {
    /// Single-flight: one list per account at a time (held across the list).
    flight: tokio::sync::Mutex<()>,
    current: Mutex<Current>,
}

impl Slot {
    fn current(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, note: Note) {
        let mut cur = self.current();
        if let Some((_, snap)) = &cur.snapshot {
            note.apply(snap);
        }
        if cur.listing {
            cur.pending.push(note);
        }
    }
}

/// How long a number stays reserved for the PhoneNumber about to buy it.
pub const RESERVATION_TTL: Duration = Duration::from_secs(600);
/// How long a search result is shared before Twilio is searched again.
pub const SEARCH_POOL_TTL: Duration = Duration::from_secs(30);
/// A pool whose numbers are all reserved is searched again only after this long (reserved
/// numbers stay "available" at Twilio until bought, so an earlier search would return them again).
pub const SEARCH_RETRY_AFTER: Duration = Duration::from_secs(1);

type SearchSlot = Arc<tokio::sync::Mutex<Option<(Instant, Vec<AvailableNumber>)>>>;

/// The maps of search pools, reservations and recent sales drop their expired entries whenever
/// they reach a multiple of this size (a pass over the map now and then, not on every insert).
const PRUNE_EVERY: usize = 1024;

/// Whether a pool nobody is searching now still holds results young enough to be offered.
fn slot_is_fresh(slot: &SearchSlot) -> bool {
    slot.try_lock()
        .map(|pool| {
            pool.as_ref()
                .is_some_and(|(at, _)| at.elapsed() < SEARCH_POOL_TTL)
        })
        .unwrap_or(true)
}

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
    accounts: Mutex<HashMap<String, Arc<Slot>>>,
    lists: std::sync::atomic::AtomicU64,
    /// By number alone: a number for sale is the same number whichever Twilio account buys it,
    /// so PhoneNumbers of two accounts never race for one search result either.
    reservations: Mutex<HashMap<String, (String, Instant)>>,
    searches: Mutex<HashMap<(String, String), SearchSlot>>,
    /// Numbers bought (or adopted) through any account in the last [`SEARCH_POOL_TTL`]: a search
    /// pool of another account, listed before, still offers them; they are left out instead of
    /// being tried (a refused buy, a lookup and a claim each).
    sold: Mutex<HashMap<String, Instant>>,
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
            sold: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, account_sid: &str) -> Arc<Slot> {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(account_sid.to_string()).or_default().clone()
    }

    /// The account's inventory, listed (all pages) at most once per `max_age`. Concurrent callers
    /// share one in-flight list. An error is not cached.
    ///
    /// `fetched_at` is when the list *started*: a number bought before that is in the list, and
    /// only such a list can prove a number gone. Purchases and releases noted while the list is
    /// in flight are applied to its result, so a snapshot always includes what was just bought.
    pub async fn snapshot<T: TwilioPort>(
        &self,
        api: &T,
        max_age: Duration,
    ) -> Result<Arc<InventorySnapshot>, TwilioError> {
        let slot = self.slot(api.account_sid());
        let fresh = |slot: &Slot| {
            slot.current()
                .snapshot
                .as_ref()
                .filter(|(at, _)| at.elapsed() < max_age)
                .map(|(_, s)| s.clone())
        };
        if let Some(snap) = fresh(&slot) {
            return Ok(snap);
        }
        let _flight = slot.flight.lock().await;
        // Someone else listed while we waited.
        if let Some(snap) = fresh(&slot) {
            return Ok(snap);
        }
        let started = self.clock.now();
        {
            let mut cur = slot.current();
            cur.listing = true;
            cur.pending.clear();
        }
        let filter = IncomingFilter {
            page_size: Some(INVENTORY_PAGE_SIZE),
            ..Default::default()
        };
        // Each page is made compact as it arrives: the decoded numbers of a 10,000-number account
        // (~9 MB) are never held at once.
        let account_sid = api.account_sid().to_string();
        let mut entries = Vec::new();
        let listed = api
            .list_incoming_pages(&filter, |page| {
                entries.extend(page.into_iter().map(|n| Entry::new(n, &account_sid)));
            })
            .await;
        let mut cur = slot.current();
        cur.listing = false;
        let pending = std::mem::take(&mut cur.pending);
        listed?;
        self.lists
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let snap = Arc::new(InventorySnapshot::from_entries(
            account_sid,
            started,
            entries,
        ));
        for note in &pending {
            note.apply(&snap);
        }
        cur.snapshot = Some((Instant::now(), snap.clone()));
        Ok(snap)
    }

    /// The cached snapshot of an account, whatever its age, without calling Twilio.
    pub async fn cached(&self, account_sid: &str) -> Option<Arc<InventorySnapshot>> {
        self.current(account_sid)
    }

    /// Forgets the account's snapshot: the next `snapshot` lists again.
    pub fn invalidate(&self, account_sid: &str) {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(account_sid);
    }

    fn current(&self, account_sid: &str) -> Option<Arc<InventorySnapshot>> {
        let slot = self.slot(account_sid);
        let cur = slot.current();
        cur.snapshot.as_ref().map(|(_, s)| s.clone())
    }

    /// Records a number the operator just bought (or adopted, or updated) in the account's
    /// snapshot, and in the result of a list in flight. Never dropped.
    pub fn note_purchased(&self, account_sid: &str, number: IncomingNumber) {
        {
            let mut sold = self.sold.lock().unwrap_or_else(|p| p.into_inner());
            sold.insert(number.phone_number.clone(), Instant::now());
            // Forget what no pool can still offer (now and then, not on every purchase).
            if sold.len().is_multiple_of(PRUNE_EVERY) {
                sold.retain(|_, at| at.elapsed() < SEARCH_POOL_TTL);
            }
        }
        self.slot(account_sid)
            .note(Note::Purchased(Box::new(number)));
    }

    /// Records a number the operator just released (same rules as `note_purchased`).
    pub fn note_released(&self, account_sid: &str, e164: &str) {
        self.slot(account_sid)
            .note(Note::Released(e164.to_string()));
    }

    /// Reserves `e164` for `owner` (a PhoneNumber uid), whichever account it buys through.
    /// `false` when another owner holds a live reservation.
    pub fn reserve(&self, _account_sid: &str, e164: &str, owner: &str) -> bool {
        let mut map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        let key = e164.to_string();
        match map.get(&key) {
            Some((o, at)) if o != owner && at.elapsed() < RESERVATION_TTL => false,
            _ => {
                if map.len().is_multiple_of(PRUNE_EVERY) {
                    // Reservations of purchases that were never recorded nor abandoned (the
                    // object was deleted meanwhile, the process lost leadership) expire here.
                    map.retain(|_, (_, at)| at.elapsed() < RESERVATION_TTL);
                }
                map.insert(key, (owner.to_string(), Instant::now()));
                true
            }
        }
    }

    /// Drops `owner`'s reservation of `e164` (the purchase was abandoned).
    pub fn unreserve(&self, _account_sid: &str, e164: &str, owner: &str) {
        let mut map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(e164).is_some_and(|(o, _)| o == owner) {
            map.remove(e164);
        }
    }

    /// Drops every reservation `owner` holds: its purchase is recorded (the number is in its
    /// status, which is what other PhoneNumbers see from then on) or the object is gone. A
    /// PhoneNumber re-created for the same number proceeds at once.
    pub fn unreserve_all(&self, owner: &str) {
        let mut map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (o, _)| o != owner);
    }

    /// Reservations currently held (live or expired), for tests.
    pub fn reservations(&self) -> usize {
        let map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        map.len()
    }

    /// Whether someone other than `owner` holds a live reservation of `e164`.
    pub fn reserved_by_other(&self, _account_sid: &str, e164: &str, owner: &str) -> bool {
        let map = self.reservations.lock().unwrap_or_else(|p| p.into_inner());
        map.get(e164)
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
            let key = (account.clone(), format!("{q:?}"));
            if !map.contains_key(&key) && map.len().is_multiple_of(PRUNE_EVERY) {
                // One pool per account and query ever asked: forget the pools nobody uses now
                // and that are too old to answer from.
                map.retain(|_, slot| Arc::strong_count(slot) > 1 || slot_is_fresh(slot));
            }
            map.entry(key).or_default().clone()
        };
        let mut guard = slot.lock().await;
        let owned = self.current(&account);
        let free = |all: &[AvailableNumber]| -> Vec<AvailableNumber> {
            let sold = self.sold.lock().unwrap_or_else(|p| p.into_inner());
            all.iter()
                .filter(|a| {
                    sold.get(&a.phone_number)
                        .is_none_or(|at| at.elapsed() >= SEARCH_POOL_TTL)
                })
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

    #[test]
    fn a_number_reserved_through_one_account_is_reserved_for_every_other() {
        let cache = InventoryCache::default();
        assert!(cache.reserve("AC-a", "+14155550100", "uid-1"));
        // A PhoneNumber of another Twilio account found the same number for sale: not its turn.
        assert!(!cache.reserve("AC-b", "+14155550100", "uid-2"));
        assert!(cache.reserved_by_other("AC-b", "+14155550100", "uid-2"));
        assert!(!cache.reserved_by_other("AC-a", "+14155550100", "uid-1"));
        cache.unreserve("AC-a", "+14155550100", "uid-1");
        assert!(cache.reserve("AC-b", "+14155550100", "uid-2"));
    }

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
        let mut e164 = snap.phone_numbers();
        e164.sort();
        all.sort();
        assert_eq!(e164, all, "phone_numbers() is numbers() without the rest");
        assert_eq!(snap.len(), all.len());
        assert_eq!(all, vec!["+15550000002", "+15550000003"]);
        assert_eq!(snap.len(), 2);
    }

    /// Every field of a listed number comes back as listed: set, empty (`""`), unset, and an
    /// account SID other than the snapshot's.
    #[test]
    fn a_snapshot_gives_back_every_field_as_listed() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let full: IncomingNumber = serde_json::from_value(serde_json::json!({
            "sid": "PN00000000000000000000000000000001",
            "account_sid": "AC00000000000000000000000000000001",
            "phone_number": "+15550000001",
            "friendly_name": "front desk",
            "capabilities": {"voice": true, "sms": true, "mms": false, "fax": false},
            "status": "in-use",
            "type": "local",
            "date_created": "Thu, 01 Jan 2026 00:00:00 +0000",
            "date_updated": "Fri, 02 Jan 2026 00:00:00 +0000",
            "address_requirements": "none",
            "voice_url": "https://example.com/voice",
            "voice_method": "POST",
            "sms_url": "",
        }))
        .unwrap();
        assert!(full.date_created.is_some() && full.config.get(ConfigField::VoiceUrl).is_some());
        let mut other = number("+15550000002");
        other.account_sid = "AC00000000000000000000000000000009".into();
        let bare = number("+15550000003");
        let snap = InventorySnapshot::new(
            "AC00000000000000000000000000000001",
            t,
            vec![bare.clone(), full.clone(), other.clone()],
        );
        assert_eq!(snap.get("+15550000001"), Some(full.clone()));
        assert_eq!(snap.get("+15550000002"), Some(other.clone()));
        assert_eq!(snap.get("+15550000003"), Some(bare.clone()));
        let mut all = snap.numbers();
        all.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        assert_eq!(all, vec![full.clone(), other, bare]);
        // A noted purchase comes back the same way.
        let mut updated = full.clone();
        updated.config = updated.config.with(ConfigField::FriendlyName, "lobby");
        snap.note_purchased(updated.clone());
        assert_eq!(snap.get("+15550000001"), Some(updated));
        assert_ne!(snap.get("+15550000001"), Some(full));
    }

    /// Of two listings of one number (a page boundary moving under the list), the later counts.
    #[test]
    fn the_later_of_two_listings_of_a_number_counts() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let first = number("+15550000001");
        let mut second = first.clone();
        second.status = Some("in-use".into());
        let snap = InventorySnapshot::new(
            "AC00000000000000000000000000000001",
            t,
            vec![
                number("+15550000002"),
                first,
                number("+15550000000"),
                second.clone(),
            ],
        );
        assert_eq!(snap.get("+15550000001"), Some(second));
        assert!(snap.contains("+15550000000") && snap.contains("+15550000002"));
        assert!(!snap.contains("+15550000003") && !snap.contains("+1555"));
    }

    /// A Twilio account whose inventory list waits until told to answer (and the clock moves
    /// meanwhile).
    struct SlowList {
        started: tokio::sync::Notify,
        answer: tokio::sync::Notify,
        clock: crate::clock::ManualClock,
    }

    impl TwilioPort for SlowList {
        fn account_sid(&self) -> &str {
            "AC1"
        }
        async fn search_available(
            &self,
            _q: &SearchQuery,
        ) -> Result<Vec<AvailableNumber>, TwilioError> {
            Ok(Vec::new())
        }
        async fn buy(
            &self,
            req: &crate::twilio::PurchaseRequest,
        ) -> Result<IncomingNumber, TwilioError> {
            Ok(number(
                req.phone_number.as_deref().unwrap_or("+15550000000"),
            ))
        }
        async fn list_incoming(
            &self,
            _filter: &IncomingFilter,
        ) -> Result<Vec<IncomingNumber>, TwilioError> {
            self.started.notify_one();
            self.answer.notified().await;
            self.clock.advance(jiff::SignedDuration::from_millis(700));
            Ok(vec![number("+15550000001")])
        }
        async fn update_incoming(
            &self,
            _sid: &str,
            _config: &crate::twilio::NumberConfig,
        ) -> Result<IncomingNumber, TwilioError> {
            Ok(number("+15550000000"))
        }
        async fn release(&self, _sid: &str) -> Result<(), TwilioError> {
            Ok(())
        }
    }

    /// A Twilio account that offers the same numbers for sale as every other.
    struct ForSale(&'static str);

    impl TwilioPort for ForSale {
        fn account_sid(&self) -> &str {
            self.0
        }
        async fn search_available(
            &self,
            _q: &SearchQuery,
        ) -> Result<Vec<AvailableNumber>, TwilioError> {
            Ok(["+15550000001", "+15550000002"]
                .iter()
                .map(|n| serde_json::from_value(serde_json::json!({"phone_number": n})).unwrap())
                .collect())
        }
        async fn buy(
            &self,
            req: &crate::twilio::PurchaseRequest,
        ) -> Result<IncomingNumber, TwilioError> {
            Ok(number(req.phone_number.as_deref().unwrap_or_default()))
        }
        async fn list_incoming(
            &self,
            _filter: &IncomingFilter,
        ) -> Result<Vec<IncomingNumber>, TwilioError> {
            Ok(Vec::new())
        }
        async fn update_incoming(
            &self,
            _sid: &str,
            _config: &crate::twilio::NumberConfig,
        ) -> Result<IncomingNumber, TwilioError> {
            Ok(number("+15550000000"))
        }
        async fn release(&self, _sid: &str) -> Result<(), TwilioError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_number_bought_through_one_account_leaves_every_search_pool() {
        let cache = InventoryCache::default();
        let q = SearchQuery::default();
        let free = |o: &SearchOutcome| -> Vec<String> {
            o.free.iter().map(|a| a.phone_number.clone()).collect()
        };
        let b = cache.search(&ForSale("AC-b"), &q, "uid-b").await.unwrap();
        assert_eq!(free(&b), ["+15550000001", "+15550000002"]);
        // Bought through another account; B's pool (still fresh) no longer offers it.
        cache.note_purchased("AC-a", number("+15550000001"));
        let b = cache.search(&ForSale("AC-b"), &q, "uid-b").await.unwrap();
        assert_eq!(free(&b), ["+15550000002"]);
    }

    #[tokio::test]
    async fn search_pools_too_old_to_answer_from_are_forgotten() {
        let cache = InventoryCache::default();
        let long_ago = Instant::now()
            .checked_sub(SEARCH_POOL_TTL * 2)
            .expect("the monotonic clock started long enough ago");
        {
            let mut map = cache.searches.lock().unwrap();
            for i in 0..PRUNE_EVERY {
                let pool = Arc::new(tokio::sync::Mutex::new(Some((long_ago, Vec::new()))));
                map.insert(("AC-b".into(), format!("query {i}")), pool);
            }
            // One pool still fresh: kept.
            let fresh = Arc::new(tokio::sync::Mutex::new(Some((Instant::now(), Vec::new()))));
            map.insert(("AC-b".into(), "fresh".into()), fresh);
        }
        // Inserting at a multiple of PRUNE_EVERY + 1 does not prune; make it a multiple.
        cache
            .searches
            .lock()
            .unwrap()
            .remove(&("AC-b".into(), "query 0".into()));
        cache
            .search(&ForSale("AC-b"), &SearchQuery::default(), "uid-b")
            .await
            .unwrap();
        let left: Vec<String> = cache
            .searches
            .lock()
            .unwrap()
            .keys()
            .map(|k| k.1.clone())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.contains(&"fresh".to_string()));
    }

    #[test]
    fn expired_reservations_are_forgotten() {
        let cache = InventoryCache::default();
        let long_ago = Instant::now()
            .checked_sub(RESERVATION_TTL * 2)
            .expect("the monotonic clock started long enough ago");
        {
            let mut map = cache.reservations.lock().unwrap();
            for i in 0..PRUNE_EVERY {
                map.insert(format!("+1555{i:07}"), ("gone".into(), long_ago));
            }
        }
        assert!(cache.reserve("AC-a", "+14155550100", "uid-1"));
        assert_eq!(cache.reservations(), 1);
    }

    #[tokio::test]
    async fn notes_made_while_a_list_is_in_flight_are_in_its_result() {
        let t: Timestamp = "2026-01-01T00:00:00.100Z".parse().unwrap();
        let clock = crate::clock::ManualClock::new(t);
        let cache = Arc::new(InventoryCache::with_clock(Arc::new(clock.clone())));
        let port = Arc::new(SlowList {
            started: Default::default(),
            answer: Default::default(),
            clock,
        });
        // An earlier snapshot, so the note has somewhere to go now as well.
        let listing = tokio::spawn({
            let (cache, port) = (cache.clone(), port.clone());
            async move { cache.snapshot(&*port, Duration::ZERO).await }
        });
        port.started.notified().await;
        // Bought (and one released) while the list is in flight: the notes never wait for it.
        cache.note_purchased("AC1", number("+15550000009"));
        cache.note_released("AC1", "+15550000001");
        port.answer.notify_one();
        let snap = listing.await.unwrap().unwrap();
        assert!(
            snap.contains("+15550000009"),
            "what was just bought is in the snapshot"
        );
        assert!(
            !snap.contains("+15550000001"),
            "what was just released is not"
        );
        assert_eq!(snap.fetched_at, t, "stamped with the time the list started");
        // Later notes still reach the installed snapshot.
        cache.note_purchased("AC1", number("+15550000010"));
        assert!(cache.cached("AC1").await.unwrap().contains("+15550000010"));
    }
}
