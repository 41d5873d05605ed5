//! Billing cycles of a Managed account: where the current cycle starts and ends, what it grants
//! (perCycle plus its top-ups), and rolling the ledger into the cycle that contains `now`.
//!
//! Rules:
//! - Cycles are `lengthDays` (default 28) days of 24 h, back to back from an origin: the spec's
//!   `startsAt` when set; otherwise the current status cycle's start once the ledger has one;
//!   otherwise the `anchor` the caller passes (the account's first-connect time). So the anchor
//!   only matters the first time; a ledger then keeps its own rhythm. Cycles extend backwards
//!   too (a `now` before `startsAt` falls in the cycle before it). All bounds are whole seconds.
//! - `granted` = perCycle + every top-up whose `at` is in `[start, end)`; a top-up id counts
//!   once (the first entry with that id wins).
//! - `roll`: while `now` is before the status cycle's end nothing moves (a clock that went
//!   backwards does not roll anything back). Once `now` ≥ end, the finished cycle is summarised
//!   into `history` (granted, spent = its settled charges, expired = granted − spent, never
//!   negative), plus one summary per cycle skipped entirely (operator down; nothing spent);
//!   `history` keeps the last 6, oldest first. Settled charges leave with their cycle; unused
//!   credits expire.
//! - Held charges are carried into the new cycle as Held, with their original `at`, and count
//!   against the new cycle's credits. A hold is an in-flight purchase or renewal whose outcome
//!   is unknown: settling it in the old cycle would charge a purchase that may still fail (never
//!   allowed), dropping it would let it succeed uncharged. Carried holds are admitted against the
//!   old cycle's balance and are not re-checked, so a new cycle can start with spent > granted;
//!   the balance then shows 0 and nothing new can be held until credits arrive.
//! - `roll` also refreshes `currency`, `granted`, `spent` and `balance` every time (top-ups can be
//!   added mid-cycle), so call it before every ledger operation.

use super::{LedgerError, recompute};
use crate::api::{ChargeState, CreditGrantSpec, CreditsStatus, CycleSummary};
use crate::billing::money::{format_money, parse_money};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rust_decimal::Decimal;
use std::collections::HashSet;

/// Cycle length when `billingCycle.lengthDays` is not set.
pub const DEFAULT_CYCLE_DAYS: u32 = 28;
/// How many past cycles `history` keeps.
pub const HISTORY_LEN: usize = 6;

/// One billing cycle, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Cycle {
    /// Whether `t` is in `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// `ts` truncated to whole seconds (what the API server keeps).
pub(crate) fn whole_seconds(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

fn from_seconds(s: i128) -> Timestamp {
    let clamped = s.clamp(
        i128::from(Timestamp::MIN.as_second()),
        i128::from(Timestamp::MAX.as_second()),
    );
    // In range by the clamp; `MAX` keeps the compiler happy without a panic path.
    i64::try_from(clamped)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Length of a cycle in seconds (`lengthDays`, default 28, at least 1 day).
pub fn cycle_length(spec: &CreditGrantSpec) -> SignedDuration {
    let days = spec
        .billing_cycle
        .as_ref()
        .and_then(|b| b.length_days)
        .unwrap_or(DEFAULT_CYCLE_DAYS)
        .max(1);
    SignedDuration::from_hours(i64::from(days) * 24)
}

/// The cycle of length `len` aligned on `origin` that contains `now`.
fn aligned(origin: Timestamp, len: SignedDuration, now: Timestamp) -> Cycle {
    let o = i128::from(whole_seconds(origin).as_second());
    let l = i128::from(len.as_secs().max(1));
    let k = (i128::from(now.as_second()) - o).div_euclid(l);
    Cycle {
        start: from_seconds(o + k * l),
        end: from_seconds(o + (k + 1) * l),
    }
}

/// The cycle containing `now`: from `billingCycle.startsAt`, or else from `anchor` (the
/// account's first-connect time), in steps of `lengthDays`.
pub fn cycle_bounds(spec: &CreditGrantSpec, anchor: Timestamp, now: Timestamp) -> Cycle {
    let origin = spec
        .billing_cycle
        .as_ref()
        .and_then(|b| b.starts_at.as_ref())
        .map(|t| t.0)
        .unwrap_or(anchor);
    aligned(origin, cycle_length(spec), now)
}

/// perCycle plus the top-ups whose `at` falls in `cycle` (each id counted once).
pub fn granted(spec: &CreditGrantSpec, cycle: Cycle) -> Result<Decimal, LedgerError> {
    let mut total =
        parse_money(&spec.credits.per_cycle).map_err(|source| LedgerError::InvalidSpec {
            field: "CreditGrant spec.credits.perCycle".into(),
            source,
        })?;
    let mut seen = HashSet::new();
    for t in &spec.credits.top_ups {
        if !seen.insert(t.id.as_str()) {
            continue;
        }
        let amount = parse_money(&t.amount).map_err(|source| LedgerError::InvalidSpec {
            field: format!("CreditGrant spec.credits.topUps[id={}].amount", t.id),
            source,
        })?;
        if cycle.contains(t.at.0) {
            total = total.checked_add(amount).ok_or(LedgerError::Overflow)?;
        }
    }
    Ok(total)
}

fn summary_of(
    spec: &CreditGrantSpec,
    c: Cycle,
    spent: Decimal,
) -> Result<CycleSummary, LedgerError> {
    let g = granted(spec, c)?;
    Ok(CycleSummary {
        start: Time(c.start),
        end: Time(c.end),
        granted: format_money(g),
        spent: format_money(spent),
        expired: format_money((g - spent).max(Decimal::ZERO)),
    })
}

/// Moves the ledger into the cycle containing `now` (see the module rules) and refreshes the
/// derived amounts. Idempotent: rolling twice with the same `now` changes nothing more.
pub fn roll(
    status: &CreditsStatus,
    spec: &CreditGrantSpec,
    anchor: Timestamp,
    now: Timestamp,
) -> Result<CreditsStatus, LedgerError> {
    let len = cycle_length(spec);
    let starts_at = spec
        .billing_cycle
        .as_ref()
        .and_then(|b| b.starts_at.as_ref())
        .map(|t| t.0);
    let origin = starts_at
        .or(status.cycle_start.as_ref().map(|t| t.0))
        .unwrap_or(anchor);
    let current = aligned(origin, len, now);

    let mut s = status.clone();
    let cycle = match (&status.cycle_start, &status.cycle_end) {
        (Some(start), Some(end)) if now < end.0 => Cycle {
            start: start.0,
            end: end.0,
        },
        (Some(start), Some(end)) => {
            let old = Cycle {
                start: start.0,
                end: end.0,
            };
            let mut settled = Decimal::ZERO;
            for c in status
                .charges
                .iter()
                .filter(|c| c.state == ChargeState::Settled)
            {
                let a = parse_money(&c.amount).map_err(|source| LedgerError::CorruptStatus {
                    field: format!("charges[key={}].amount", c.key),
                    source,
                })?;
                settled = settled.checked_add(a).ok_or(LedgerError::Overflow)?;
            }
            let mut summaries = vec![summary_of(spec, old, settled)?];
            summaries.extend(skipped_cycles(spec, origin, len, old.end, current.start)?);
            s.history.extend(summaries);
            let excess = s.history.len().saturating_sub(HISTORY_LEN);
            s.history.drain(..excess);
            // Keys settled in the finished cycle stay known for one more cycle, so a charge
            // replayed after a crash across the cycle end is not taken again.
            s.previous_cycle_keys = status
                .charges
                .iter()
                .filter(|c| c.state == ChargeState::Settled)
                .map(|c| c.key.clone())
                .collect();
            s.charges.retain(|c| c.state == ChargeState::Held);
            Cycle {
                // After a change of startsAt/lengthDays the aligned cycle may begin before the old
                // one ended; the new cycle then starts at the old end (no window counted twice).
                start: current.start.max(old.end),
                end: current.end,
            }
        }
        _ => current,
    };
    s.cycle_start = Some(Time(cycle.start));
    s.cycle_end = Some(Time(cycle.end));
    s.currency = spec.credits.currency.clone();
    s.granted = format_money(granted(spec, cycle)?);
    recompute(&mut s)?;
    Ok(s)
}

/// Summaries of the whole cycles in `[from, to)` nobody touched (at most `HISTORY_LEN`, the
/// latest), aligned on `origin`; the first one starts at `from` even when `from` is unaligned.
fn skipped_cycles(
    spec: &CreditGrantSpec,
    origin: Timestamp,
    len: SignedDuration,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<CycleSummary>, LedgerError> {
    let mut out = Vec::new();
    if to <= from {
        return Ok(out);
    }
    let l = i128::from(len.as_secs().max(1));
    // The windows are [from, b1), [b1, b2), ..., [bn, to) with b_i the aligned boundaries in
    // (from, to). Only the last HISTORY_LEN are kept, so start from there.
    let o = i128::from(whole_seconds(origin).as_second());
    let first_boundary_k = (i128::from(from.as_second()) - o).div_euclid(l) + 1;
    let last_k = (i128::from(to.as_second()) - o).div_euclid(l); // `to` is aligned: b_n == to
    let windows = (last_k - first_boundary_k + 1).max(0);
    let skip = (windows - HISTORY_LEN as i128).max(0);
    for j in skip..windows {
        let start = if j == 0 {
            from
        } else {
            from_seconds(o + (first_boundary_k + j - 1) * l)
        };
        let end = from_seconds(o + (first_boundary_k + j) * l).min(to);
        if start < end {
            out.push(summary_of(spec, Cycle { start, end }, Decimal::ZERO)?);
        }
    }
    Ok(out)
}
