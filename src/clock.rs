//! The one injectable clock. Every decision about time (renewals, grace, billing cycles, cache
//! ages) reads `Clock::now`, so tests and the sandbox can run 28 days in seconds.

use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Source of "now" for the operator, plus the conversion of a logical wait into a real one.
pub trait Clock: Send + Sync + 'static {
    /// The current logical time.
    fn now(&self) -> Timestamp;
    /// How long to really wait for `logical` to pass on this clock (used for requeues).
    fn real_duration(&self, logical: SignedDuration) -> Duration;
    /// How long to really wait until `at` (zero if it has passed).
    fn real_until(&self, at: Timestamp) -> Duration {
        self.real_duration(at.duration_since(self.now()))
    }
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

fn non_negative(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
    fn real_duration(&self, logical: SignedDuration) -> Duration {
        non_negative(logical)
    }
}

/// Time that runs `scale` times faster than the wall clock, from a starting point
/// (the sandbox's `--time-scale`).
#[derive(Debug, Clone)]
pub struct ScaledClock {
    origin_real: Instant,
    origin: Timestamp,
    scale: f64,
}

impl ScaledClock {
    /// A clock starting at `origin` and running `scale` times faster (scale ≥ 1 is typical;
    /// values ≤ 0 are treated as 1).
    pub fn new(origin: Timestamp, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Self {
            origin_real: Instant::now(),
            origin,
            scale,
        }
    }
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let real = self.origin_real.elapsed().as_secs_f64() * self.scale;
        let logical = SignedDuration::try_from_secs_f64(real).unwrap_or(SignedDuration::MAX);
        self.origin.checked_add(logical).unwrap_or(Timestamp::MAX)
    }
    fn real_duration(&self, logical: SignedDuration) -> Duration {
        non_negative(logical).div_f64(self.scale)
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }
    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
    pub fn advance(&self, d: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.checked_add(d).unwrap_or(Timestamp::MAX);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Manual time does not pass by itself: poll again soon.
    fn real_duration(&self, logical: SignedDuration) -> Duration {
        non_negative(logical).min(Duration::from_millis(200))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster_and_shrinks_waits() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = ScaledClock::new(start, 3600.0);
        assert!(clock.now() >= start);
        let wait = clock.real_duration(SignedDuration::from_hours(2));
        assert_eq!(wait, Duration::from_secs(2));
        assert_eq!(
            clock.real_duration(SignedDuration::from_secs(-5)),
            Duration::ZERO
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_hours(48));
        assert_eq!(
            clock.now(),
            "2026-01-03T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
