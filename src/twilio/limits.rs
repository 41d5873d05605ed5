//! Per-account admission: a concurrency cap (semaphore) and a rate limit (token bucket), keyed by
//! the account SID a request acts for, so one busy account cannot starve the others and no account
//! exceeds what Twilio tolerates (notes §9).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Limits of one account.
pub(crate) struct AccountLimiter {
    concurrency: Arc<Semaphore>,
    bucket: Option<Mutex<Bucket>>,
}

struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl AccountLimiter {
    fn new(concurrency: usize, rate_per_sec: f64) -> Self {
        let bucket = (rate_per_sec.is_finite() && rate_per_sec > 0.0).then(|| {
            let capacity = rate_per_sec.max(1.0);
            Mutex::new(Bucket {
                rate: rate_per_sec,
                capacity,
                tokens: capacity,
                last: Instant::now(),
            })
        });
        AccountLimiter {
            concurrency: Arc::new(Semaphore::new(concurrency.max(1))),
            bucket,
        }
    }

    /// Waits for a rate token (if rate-limited), then for a concurrency slot. The slot is held
    /// until the returned permit is dropped.
    pub(crate) async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        if let Some(wait) = self.reserve_token(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        // The semaphore is never closed, so `acquire_owned` only fails if it were.
        self.concurrency.clone().acquire_owned().await.ok()
    }

    /// Takes one token; returns how long to wait until it is really available. Tokens may go
    /// negative: callers queue in arrival order without polling.
    fn reserve_token(&self, now: Instant) -> Option<Duration> {
        let bucket = self.bucket.as_ref()?;
        let mut b = match bucket.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.last = b.last.max(now);
        b.tokens = (b.tokens + elapsed * b.rate).min(b.capacity);
        b.tokens -= 1.0;
        if b.tokens >= 0.0 {
            None
        } else {
            Some(Duration::from_secs_f64(-b.tokens / b.rate))
        }
    }
}

/// All accounts' limiters.
pub(crate) struct Limiters {
    concurrency: usize,
    rate_per_sec: f64,
    by_account: Mutex<HashMap<String, Arc<AccountLimiter>>>,
}

impl Limiters {
    pub(crate) fn new(concurrency: usize, rate_per_sec: f64) -> Self {
        Limiters {
            concurrency,
            rate_per_sec,
            by_account: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn for_account(&self, account_sid: &str) -> Arc<AccountLimiter> {
        let mut map = match self.by_account.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(l) = map.get(account_sid) {
            return l.clone();
        }
        let l = Arc::new(AccountLimiter::new(self.concurrency, self.rate_per_sec));
        map.insert(account_sid.to_owned(), l.clone());
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_spaces_tokens_after_burst() {
        let l = AccountLimiter::new(1, 2.0);
        let t0 = l.bucket.as_ref().unwrap().lock().unwrap().last;
        // capacity 2: two immediate tokens, then the third waits 0.5 s, the fourth 1 s.
        assert_eq!(l.reserve_token(t0), None);
        assert_eq!(l.reserve_token(t0), None);
        assert_eq!(l.reserve_token(t0), Some(Duration::from_millis(500)));
        assert_eq!(l.reserve_token(t0), Some(Duration::from_millis(1000)));
        // 1 s later the debt (-2) is paid back to 0: the next token still waits 0.5 s.
        assert_eq!(
            l.reserve_token(t0 + Duration::from_secs(1)),
            Some(Duration::from_millis(500))
        );
        assert_eq!(l.reserve_token(t0 + Duration::from_secs(10)), None);
        assert!(AccountLimiter::new(1, 0.0).reserve_token(t0).is_none());
    }

    #[tokio::test]
    async fn concurrency_cap_per_account() {
        let ls = Limiters::new(2, 0.0);
        let a = ls.for_account("AC1");
        let p1 = a.admit().await.unwrap();
        let _p2 = a.admit().await.unwrap();
        assert_eq!(a.concurrency.available_permits(), 0);
        // Another account is independent.
        let b = ls.for_account("AC2");
        assert_eq!(b.concurrency.available_permits(), 2);
        drop(p1);
        assert_eq!(ls.for_account("AC1").concurrency.available_permits(), 1);
    }
}
