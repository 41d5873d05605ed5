//! Keeps the account's Twilio calls per resync at the inventory list alone in the steady state.
//! The account itself is fetched (and the BringYourOwn balance read) only when something may
//! have changed: first sight, a new generation, other credentials (a rotated Secret), a previous
//! failure, or once per re-verification period. Otherwise the shared inventory snapshot is the
//! only call, and an authentication failure of that list is reported like a failed fetch.
//!
//! In memory only (one cache per `Context`), aged on the operator's injectable clock;
//! credentials are kept as a 64-bit fingerprint, never as values.

use crate::api::{Balance, TelephonyAccount};
use crate::clock::SharedClock;
use crate::reconcile::account::{Connected, recorded_connection, summaries_due};
use crate::twilio::Credentials;
use jiff::Timestamp;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

struct Verified {
    at: Timestamp,
    generation: Option<i64>,
    fingerprint: u64,
    connected: Connected,
    /// How many numbers the account managed when its balance was read (`None`: not noted).
    numbers: Option<u32>,
    /// When this process last wrote the account's inventory summary (`None`: not yet).
    summary_at: Option<Timestamp>,
}

/// The accounts whose connection was verified, by uid.
pub struct VerifiedAccounts {
    clock: SharedClock,
    entries: Mutex<HashMap<String, Verified>>,
}

/// A fingerprint of the credentials and the account acted on.
pub(crate) fn fingerprint(creds: &Credentials, account_sid: &str) -> u64 {
    let mut h = DefaultHasher::new();
    account_sid.hash(&mut h);
    match creds {
        Credentials::AuthToken {
            account_sid,
            auth_token,
        } => (0u8, account_sid, auth_token.expose()).hash(&mut h),
        Credentials::ApiKey {
            account_sid,
            key_sid,
            key_secret,
        } => (1u8, account_sid, key_sid, key_secret.expose()).hash(&mut h),
    }
    h.finish()
}

impl VerifiedAccounts {
    /// An empty cache aged on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The verified connection of account `uid`, if still valid for this generation and these
    /// credentials and younger than `max_age` on the operator's clock.
    pub(crate) fn lookup(
        &self,
        uid: &str,
        generation: Option<i64>,
        fingerprint: u64,
        max_age: Duration,
    ) -> Option<Connected> {
        let now = self.clock.now();
        let cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let v = cache.get(uid)?;
        let age = now.duration_since(v.at);
        let fresh = age >= jiff::SignedDuration::ZERO
            && jiff::SignedDuration::try_from(max_age).is_ok_and(|max| age < max);
        (v.generation == generation && v.fingerprint == fingerprint && fresh)
            .then(|| v.connected.clone())
    }

    /// For a process that has not verified `account` (uid `uid`) itself: the verification a
    /// previous process recorded in its status, if it still stands
    /// (`reconcile::account::recorded_connection`), remembered from the time it was made. Not
    /// when this process verified the account (other credentials since, a rotated Secret, or a
    /// new generation: asked again).
    pub(crate) fn recall_recorded(
        &self,
        uid: &str,
        account: &TelephonyAccount,
        account_sid: &str,
        fingerprint: u64,
        max_age: Duration,
    ) -> Option<Connected> {
        if self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(uid)
        {
            return None;
        }
        let max_age = jiff::SignedDuration::try_from(max_age).ok()?;
        let (connected, numbers) =
            recorded_connection(account, account_sid, self.clock.now(), max_age)?;
        let at = connected.verified_at?;
        let generation = account.metadata.generation;
        self.remember_at(uid, generation, fingerprint, connected.clone(), at, numbers);
        Some(connected)
    }

    /// Records a successful verification.
    pub(crate) fn remember(
        &self,
        uid: &str,
        generation: Option<i64>,
        fingerprint: u64,
        connected: Connected,
    ) {
        let at = connected.verified_at.unwrap_or_else(|| self.clock.now());
        self.remember_at(uid, generation, fingerprint, connected, at, None);
    }

    /// Records a verification made at `at` (a previous process's, from status), whose balance
    /// was read while the account managed `numbers` numbers.
    fn remember_at(
        &self,
        uid: &str,
        generation: Option<i64>,
        fingerprint: u64,
        connected: Connected,
        at: Timestamp,
        numbers: Option<u32>,
    ) {
        let mut cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let summary_at = cache.get(uid).and_then(|v| v.summary_at);
        cache.insert(
            uid.to_string(),
            Verified {
                at,
                generation,
                fingerprint,
                connected,
                numbers,
                summary_at,
            },
        );
    }

    /// Whether the balance of account `uid` should be read again now that it manages `numbers`
    /// numbers, `in_progress` of its PhoneNumbers still being worked on: buying or releasing
    /// numbers moves the balance, so another count calls for another read — when the account's
    /// summaries are due (`reconcile::account::summaries_due`: at once when none is in
    /// progress, every half minute while some are), so a balance is read when it is written.
    pub(crate) fn balance_stale(&self, uid: &str, numbers: u32, in_progress: usize) -> bool {
        let now = self.clock.now();
        let cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(uid).is_some_and(|v| {
            v.numbers != Some(numbers)
                && (v.numbers.is_none() || summaries_due(in_progress, v.summary_at, now))
        })
    }

    /// Records the balance of account `uid` as read while it managed `numbers` numbers.
    pub(crate) fn note_balance(&self, uid: &str, numbers: u32, balance: Option<Balance>) {
        let mut cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get_mut(uid) {
            v.numbers = Some(numbers);
            v.connected.balance = balance;
        }
    }

    /// When this process last wrote the inventory summary of account `uid` (`None`: not since it
    /// verified the account): while numbers change, the next summary (and balance) is due
    /// [`SUMMARY_EVERY_WHILE_NUMBERS_CHANGE`](crate::reconcile::account::SUMMARY_EVERY_WHILE_NUMBERS_CHANGE)
    /// after it.
    pub(crate) fn summary_written_at(&self, uid: &str) -> Option<Timestamp> {
        let cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(uid).and_then(|v| v.summary_at)
    }

    /// Records that the inventory summary of account `uid` was written now.
    pub(crate) fn note_summary_written(&self, uid: &str) {
        let now = self.clock.now();
        let mut cache = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get_mut(uid) {
            v.summary_at = Some(now);
        }
    }

    /// Forgets account `uid` (a failure, a deletion).
    pub(crate) fn forget(&self, uid: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uid);
    }
}
