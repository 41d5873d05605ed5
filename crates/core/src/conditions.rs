//! Condition, time and money helpers shared by both controllers (and the pure decisions).
//!
//! Conditions follow `metav1.Condition` and kstatus: one entry per type, `lastTransitionTime`
//! only moves when the status flips, so a status rewritten with the same facts is byte-identical
//! (and the controllers can skip the write). Pure functions only.

use crate::api::condition::{READY, RECONCILING, STALLED};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use rust_decimal::Decimal;

/// A Kubernetes `Time` for `ts`, truncated to whole seconds (what the API server keeps), so
/// statuses compare equal after a round trip.
pub fn time(ts: jiff::Timestamp) -> Time {
    let secs = ts.as_second();
    Time(jiff::Timestamp::from_second(secs).unwrap_or(ts))
}

/// The `jiff::Timestamp` inside a Kubernetes `Time`.
pub fn timestamp(t: &Time) -> jiff::Timestamp {
    t.0
}

/// Sets condition `type_` (inserting it if absent). `lastTransitionTime` is kept when the status
/// does not change; reason, message and observedGeneration are always updated.
pub fn set_condition(
    conds: &mut Vec<Condition>,
    type_: &str,
    status: bool,
    reason: impl std::borrow::Borrow<Reason>,
    message: &str,
    observed_generation: Option<i64>,
    now: jiff::Timestamp,
) {
    let status_str = if status { "True" } else { "False" };
    // Kubernetes requires a non-empty CamelCase reason and caps the message at 32768 bytes.
    let reason = reason.borrow().as_str();
    let reason = if reason.is_empty() { "Unknown" } else { reason };
    let message = truncate(message, 32_000);
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == type_) {
        if c.status != status_str {
            c.status = status_str.to_string();
            c.last_transition_time = time(now);
        }
        c.reason = reason.to_string();
        c.message = message;
        c.observed_generation = observed_generation;
    } else {
        conds.push(Condition {
            type_: type_.to_string(),
            status: status_str.to_string(),
            reason: reason.to_string(),
            message,
            observed_generation,
            last_transition_time: time(now),
        });
    }
}

/// Removes condition `type_` if present (kstatus prefers absent `Reconciling`/`Stalled` over False).
pub fn remove_condition(conds: &mut Vec<Condition>, type_: &str) {
    conds.retain(|c| c.type_ != type_);
}

/// The condition of type `type_`, if present.
pub fn get_condition<'a>(conds: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.type_ == type_)
}

/// Whether condition `type_` is present with status `True`.
pub fn condition_is_true(conds: &[Condition], type_: &str) -> bool {
    get_condition(conds, type_).is_some_and(|c| c.status == "True")
}

pub use crate::reason::{Reason, ReasonMessage};

/// The kstatus summary of a reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    /// Everything is as declared: Ready=True, no Reconciling, no Stalled.
    Ready { reason: Reason, message: String },
    /// Work in progress: Ready=False, Reconciling=True.
    Progressing(ReasonMessage),
    /// Needs a person: Ready=False, Stalled=True.
    Stalled(ReasonMessage),
}

/// Writes `Ready`, `Reconciling` and `Stalled` from one summary (kstatus): Reconciling and Stalled
/// are removed when they do not apply.
pub fn kstatus(
    conds: &mut Vec<Condition>,
    summary: &Summary,
    generation: Option<i64>,
    now: jiff::Timestamp,
) {
    match summary {
        Summary::Ready { reason, message } => {
            set_condition(conds, READY, true, reason, message, generation, now);
            remove_condition(conds, RECONCILING);
            remove_condition(conds, STALLED);
        }
        Summary::Progressing(rm) => not_ready(conds, rm, RECONCILING, STALLED, generation, now),
        Summary::Stalled(rm) => not_ready(conds, rm, STALLED, RECONCILING, generation, now),
    }
}

/// Ready=False and `present`=True with the same reason and message; `absent` removed.
fn not_ready(
    conds: &mut Vec<Condition>,
    rm: &ReasonMessage,
    present: &str,
    absent: &str,
    generation: Option<i64>,
    now: jiff::Timestamp,
) {
    for (type_, status) in [(READY, false), (present, true)] {
        set_condition(
            conds,
            type_,
            status,
            &rm.reason,
            &rm.message,
            generation,
            now,
        );
    }
    remove_condition(conds, absent);
}

/// A money amount as the API's decimal string: at least two decimals, no trailing zeros beyond
/// that, never exponent notation (`1.15`, `25.00`, `0.0945`).
pub fn money(amount: Decimal) -> String {
    let mut d = amount.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

/// A money amount with its currency, for messages (`1.15 USD`).
pub fn money_with_currency(amount: Decimal, currency: &str) -> String {
    format!("{} {}", money(amount), currency)
}

/// Parses a decimal string from the API (`"25.00"`); `None` when malformed.
pub fn parse_money(s: &str) -> Option<Decimal> {
    s.trim().parse::<Decimal>().ok()
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let mut conds = Vec::new();
        set_condition(
            &mut conds,
            READY,
            false,
            Reason::Connecting,
            "a",
            Some(1),
            ts("2026-01-01T00:00:00Z"),
        );
        set_condition(
            &mut conds,
            READY,
            false,
            Reason::parse("Other"),
            "b",
            Some(2),
            ts("2026-01-02T00:00:00Z"),
        );
        let c = get_condition(&conds, READY).unwrap();
        assert_eq!(c.last_transition_time, time(ts("2026-01-01T00:00:00Z")));
        assert_eq!(
            (c.reason.as_str(), c.message.as_str(), c.observed_generation),
            ("Other", "b", Some(2))
        );
        set_condition(
            &mut conds,
            READY,
            true,
            Reason::Connected,
            "ok",
            Some(2),
            ts("2026-01-03T00:00:00.5Z"),
        );
        let c = get_condition(&conds, READY).unwrap();
        assert_eq!(c.last_transition_time, time(ts("2026-01-03T00:00:00Z")));
        assert!(condition_is_true(&conds, READY));
        assert_eq!(conds.len(), 1);
    }

    #[test]
    fn kstatus_keeps_only_relevant_conditions() {
        let now = ts("2026-01-01T00:00:00Z");
        let mut conds = Vec::new();
        kstatus(
            &mut conds,
            &Summary::Stalled(ReasonMessage::new(Reason::parse("X"), "y")),
            Some(1),
            now,
        );
        assert!(condition_is_true(&conds, STALLED));
        assert!(!condition_is_true(&conds, READY));
        kstatus(
            &mut conds,
            &Summary::Progressing(ReasonMessage::new(Reason::parse("P"), "q")),
            Some(1),
            now,
        );
        assert!(get_condition(&conds, STALLED).is_none());
        assert!(condition_is_true(&conds, RECONCILING));
        kstatus(
            &mut conds,
            &Summary::Ready {
                reason: Reason::parse("Ok"),
                message: "".into(),
            },
            Some(1),
            now,
        );
        assert_eq!(conds.len(), 1);
        assert!(condition_is_true(&conds, READY));
    }

    #[test]
    fn money_formatting() {
        assert_eq!(money(Decimal::new(115, 2)), "1.15");
        assert_eq!(money(Decimal::new(25, 0)), "25.00");
        assert_eq!(money(Decimal::new(945, 4)), "0.0945");
        assert_eq!(money(Decimal::new(2500, 2)), "25.00");
        assert_eq!(money(Decimal::ZERO), "0.00");
        assert_eq!(parse_money(" 1.5 "), Some(Decimal::new(15, 1)));
        assert_eq!(parse_money("abc"), None);
    }
}
