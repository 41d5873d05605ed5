//! Keeps the account's Twilio calls per resync at the inventory list alone in the steady state.
//! The account itself is fetched (and the BringYourOwn balance read) only when something may
//! have changed: first sight, a new generation, other credentials (a rotated Secret), a previous
//! failure, or once per re-verification period. Otherwise the shared inventory snapshot is the
//! only call, and an authentication failure of that list is reported like a failed fetch.
//!
//! In memory only; credentials are kept as a 64-bit fingerprint, never as values.

use crate::reconcile::account::Connected;
use crate::twilio::Credentials;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

struct Verified {
    at: Instant,
    generation: Option<i64>,
    fingerprint: u64,
    connected: Connected,
}

static CACHE: LazyLock<Mutex<HashMap<String, Verified>>> = LazyLock::new(Default::default);

/// A fingerprint of the credentials and the account acted on.
pub(super) fn fingerprint(creds: &Credentials, account_sid: &str) -> u64 {
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

/// The verified connection of account `uid`, if still valid for this generation and these
/// credentials and younger than `max_age`.
pub(super) fn lookup(
    uid: &str,
    generation: Option<i64>,
    fingerprint: u64,
    max_age: Duration,
) -> Option<Connected> {
    let cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let v = cache.get(uid)?;
    (v.generation == generation && v.fingerprint == fingerprint && v.at.elapsed() < max_age)
        .then(|| v.connected.clone())
}

/// Records a successful verification.
pub(super) fn remember(uid: &str, generation: Option<i64>, fingerprint: u64, connected: Connected) {
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.insert(
        uid.to_string(),
        Verified {
            at: Instant::now(),
            generation,
            fingerprint,
            connected,
        },
    );
}

/// Forgets account `uid` (a failure, a deletion).
pub(super) fn forget(uid: &str) {
    CACHE.lock().unwrap_or_else(|p| p.into_inner()).remove(uid);
}
