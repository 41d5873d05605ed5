//! Property tests of the credits ledger (`billing::ledger`): random interleavings of holds,
//! settles, releases, top-ups, cycle rolls and crashes (an operation replayed, or a hold whose
//! settle never happens), checking after every step that the balance never goes below zero, a
//! key is charged at most once per cycle, spent is the sum of the charges, settled charges never
//! disappear within a cycle and nothing is refunded.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use telephony_operator::api::{
    ChargeKind, ChargeState, CreditGrantSpec, CreditsSpec, CreditsStatus, TopUp,
};
use telephony_operator::billing::ledger::{self, Cycle, HoldOutcome, LedgerError};
use telephony_operator::billing::{charge_key, parse_money};

#[derive(Debug, Clone)]
enum Op {
    /// Hold only (the settle may come later, or never: a crash).
    Hold { pn: u8, period: u8, cents: u16 },
    /// Settle one of the keys seen so far.
    Settle { pick: usize },
    /// Release one of the keys seen so far (a failed purchase, or a no-op on a settled key).
    Release { pick: usize },
    /// A whole purchase: hold → buy → settle, or hold → failure → release; with `crash`, the
    /// process dies after the hold and the second half never runs.
    Purchase {
        pn: u8,
        period: u8,
        cents: u16,
        fails: bool,
        crash: bool,
    },
    /// A top-up made now.
    TopUp { cents: u32 },
    /// Time passes (possibly across one or more cycle ends).
    Advance { secs: u32 },
    /// The previous operation is applied again (a retry after a lost write acknowledgement).
    Replay,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, 1u8..4, 0u16..400).prop_map(|(pn, period, cents)| Op::Hold { pn, period, cents }),
        3 => any::<usize>().prop_map(|pick| Op::Settle { pick }),
        2 => any::<usize>().prop_map(|pick| Op::Release { pick }),
        4 => (0u8..8, 1u8..4, 0u16..400, any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(pn, period, cents, fails, crash)| Op::Purchase { pn, period, cents, fails, crash }),
        1 => (0u32..1500).prop_map(|cents| Op::TopUp { cents }),
        2 => (0u32..(40 * 86_400)).prop_map(|secs| Op::Advance { secs }),
        2 => Just(Op::Replay),
    ]
}

fn cents(c: impl Into<i64>) -> Decimal {
    Decimal::new(c.into(), 2)
}

fn key(pn: u8, period: u8) -> String {
    charge_key(&format!("uid-{pn}"), u32::from(period))
}

struct World {
    spec: CreditGrantSpec,
    anchor: Timestamp,
    now: Timestamp,
    status: CreditsStatus,
    keys: Vec<String>,
    /// Keys settled in the current cycle, with their amount (the model).
    settled: HashMap<String, String>,
    /// Keys that went Held → Settled in the current cycle (each at most once).
    settled_once: HashSet<String>,
    cycle_start: Option<Time>,
    top_up_seq: u32,
}

impl World {
    fn new(per_cycle_cents: u32) -> Self {
        let anchor: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        Self {
            spec: CreditGrantSpec {
                credits: CreditsSpec {
                    per_cycle: telephony_operator::billing::format_money(cents(per_cycle_cents)),
                    currency: "USD".into(),
                    top_ups: vec![],
                },
                billing_cycle: None,
            },
            anchor,
            now: anchor,
            status: CreditsStatus::default(),
            keys: vec![],
            settled: HashMap::new(),
            settled_once: HashSet::new(),
            cycle_start: None,
            top_up_seq: 0,
        }
    }

    fn pick(&self, i: usize) -> Option<String> {
        (!self.keys.is_empty()).then(|| self.keys[i % self.keys.len()].clone())
    }

    /// What every controller call does first: roll the cycle (and refresh the grant).
    fn roll(&mut self) -> Result<(), TestCaseError> {
        let before = self.status.clone();
        self.status = ledger::roll(&self.status, &self.spec, self.anchor, self.now)
            .map_err(|e| TestCaseError::fail(format!("roll: {e}")))?;
        if self.status.cycle_start != self.cycle_start {
            // A new cycle: the model starts over; what was Held is carried, still Held.
            let carried: Vec<_> = before
                .charges
                .iter()
                .filter(|c| c.state == ChargeState::Held)
                .collect();
            prop_assert_eq!(self.status.charges.len(), carried.len());
            for c in carried {
                prop_assert!(
                    self.status.charges.iter().any(|n| n == c),
                    "hold {} lost at roll",
                    c.key
                );
            }
            self.settled.clear();
            self.settled_once.clear();
            self.cycle_start = self.status.cycle_start.clone();
        }
        Ok(())
    }

    fn hold(&mut self, k: &str, c: u16) -> Result<Option<HoldOutcome>, TestCaseError> {
        self.roll()?;
        let amount = cents(c);
        let before =
            ledger::totals(&self.status).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match ledger::hold(
            &self.status,
            k,
            "pn",
            amount,
            ChargeKind::Purchase,
            self.now,
        ) {
            Ok((s, outcome)) => {
                match outcome {
                    HoldOutcome::Held => {
                        prop_assert!(
                            before.granted - before.spent >= amount,
                            "hold beyond the balance"
                        );
                        prop_assert!(
                            !self.settled.contains_key(k),
                            "{} charged twice in a cycle",
                            k
                        );
                        if !self.keys.iter().any(|x| x == k) {
                            self.keys.push(k.to_string());
                        }
                    }
                    HoldOutcome::AlreadyHeld | HoldOutcome::AlreadySettled => {
                        prop_assert_eq!(&s, &self.status, "an idempotent hold changed the ledger");
                    }
                }
                self.status = s;
                Ok(Some(outcome))
            }
            Err(LedgerError::InsufficientCredits { balance, needed }) => {
                prop_assert_eq!(needed, amount);
                prop_assert!(before.granted - before.spent < amount);
                prop_assert_eq!(balance, (before.granted - before.spent).max(Decimal::ZERO));
                prop_assert!(!self.status.charges.iter().any(|c| c.key == k));
                Ok(None)
            }
            Err(e) => Err(TestCaseError::fail(format!("hold: {e}"))),
        }
    }

    fn settle(&mut self, k: &str) -> Result<(), TestCaseError> {
        self.roll()?;
        let was_held =
            ledger::find_charge(&self.status, k).map(|c| c.state) == Some(ChargeState::Held);
        let (s, changed) = ledger::settle(&self.status, k, "+15005550006")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(changed, was_held);
        if changed {
            prop_assert!(
                self.settled_once.insert(k.to_string()),
                "{} settled twice in a cycle",
                k
            );
            let amount = ledger::find_charge(&s, k)
                .map(|c| c.amount.clone())
                .unwrap_or_default();
            self.settled.insert(k.to_string(), amount);
        } else {
            prop_assert_eq!(&s, &self.status);
        }
        self.status = s;
        Ok(())
    }

    fn release(&mut self, k: &str) -> Result<(), TestCaseError> {
        self.roll()?;
        let was_held =
            ledger::find_charge(&self.status, k).map(|c| c.state) == Some(ChargeState::Held);
        let (s, changed) = ledger::release_hold(&self.status, k)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(changed, was_held);
        prop_assert!(ledger::find_charge(&s, k).is_none_or(|c| c.state == ChargeState::Settled));
        self.status = s;
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Hold { pn, period, cents } => {
                self.hold(&key(pn, period), cents)?;
            }
            Op::Settle { pick } => {
                if let Some(k) = self.pick(pick) {
                    self.settle(&k)?;
                }
            }
            Op::Release { pick } => {
                if let Some(k) = self.pick(pick) {
                    self.release(&k)?;
                }
            }
            Op::Purchase {
                pn,
                period,
                cents,
                fails,
                crash,
            } => {
                let k = key(pn, period);
                // A retry of an earlier purchase of this key finds it held or settled and goes on
                // with the second half, exactly like the controller after a restart.
                if let Some(outcome) = self.hold(&k, cents)?
                    && !crash
                {
                    match (outcome, fails) {
                        (HoldOutcome::AlreadySettled, _) | (_, false) => self.settle(&k)?,
                        (_, true) => self.release(&k)?,
                    }
                }
            }
            Op::TopUp { cents: c } => {
                self.top_up_seq += 1;
                self.spec.credits.top_ups.push(TopUp {
                    id: format!("rcpt-{}", self.top_up_seq),
                    amount: telephony_operator::billing::format_money(cents(c)),
                    at: Time(self.now),
                });
                self.roll()?;
            }
            Op::Advance { secs } => {
                self.now += SignedDuration::from_secs(i64::from(secs));
                self.roll()?;
            }
            Op::Replay => {}
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let s = &self.status;
        let t = ledger::totals(s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let money = |x: &str| parse_money(x).map_err(|e| TestCaseError::fail(e.to_string()));
        // Balance never below zero, and exactly max(0, granted − spent).
        prop_assert!(money(&s.balance)? >= Decimal::ZERO);
        prop_assert_eq!(money(&s.balance)?, (t.granted - t.spent).max(Decimal::ZERO));
        // Spent is the sum of the charges (held and settled).
        let sum: Decimal = s
            .charges
            .iter()
            .map(|c| parse_money(&c.amount).unwrap())
            .sum();
        prop_assert_eq!(money(&s.spent)?, sum);
        // Granted is perCycle + this cycle's top-ups.
        let cycle = Cycle {
            start: s.cycle_start.clone().unwrap().0,
            end: s.cycle_end.clone().unwrap().0,
        };
        prop_assert!(cycle.contains(self.now));
        prop_assert_eq!(
            money(&s.granted)?,
            ledger::granted(&self.spec, cycle).unwrap()
        );
        // A key is charged at most once.
        let mut seen = HashSet::new();
        for c in &s.charges {
            prop_assert!(seen.insert(c.key.as_str()), "{} twice in charges", c.key);
        }
        // Settled charges never disappear (or change) within a cycle.
        for (k, amount) in &self.settled {
            let c = ledger::find_charge(s, k);
            prop_assert!(
                c.is_some_and(|c| c.state == ChargeState::Settled && &c.amount == amount),
                "settled {} lost",
                k
            );
        }
        // Holds are only admitted within the balance, so granted − spent ≥ 0 unless holds were
        // carried from the last cycle (held then, maybe settled since).
        let carried: Decimal = s
            .charges
            .iter()
            .filter(|c| c.at.0 < cycle.start)
            .map(|c| parse_money(&c.amount).unwrap())
            .sum();
        prop_assert!(
            t.granted + carried >= t.spent,
            "more spent than granted + carried holds"
        );
        // History: at most 6, contiguous, ending where this cycle starts.
        prop_assert!(s.history.len() <= ledger::HISTORY_LEN);
        prop_assert!(s.history.windows(2).all(|w| w[0].end == w[1].start));
        if let Some(last) = s.history.last() {
            prop_assert!(last.end.0 <= cycle.start);
            prop_assert!(money(&last.expired)? >= Decimal::ZERO);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn ledger_invariants_hold_under_any_interleaving(
        per_cycle in 0u32..2000,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut w = World::new(per_cycle);
        w.roll()?;
        w.check()?;
        let mut previous: Option<&Op> = None;
        for op in &ops {
            let settled_before = ledger::totals(&w.status).unwrap().settled;
            let cycle_before = w.status.cycle_start.clone();
            match op {
                Op::Replay => {
                    if let Some(p) = previous.filter(|p| !matches!(p, Op::Advance { .. } | Op::TopUp { .. })) {
                        let before = w.status.clone();
                        w.apply(p)?;
                        // Replaying a ledger operation at the same instant changes nothing.
                        prop_assert_eq!(&w.status, &before, "replay of {:?} changed the ledger", p);
                    }
                }
                other => {
                    w.apply(other)?;
                    previous = Some(other);
                }
            }
            w.check()?;
            // No refunds: within a cycle the settled total never decreases.
            if w.status.cycle_start == cycle_before {
                prop_assert!(ledger::totals(&w.status).unwrap().settled >= settled_before, "refund after {:?}", op);
            }
        }
    }

    #[test]
    fn replaying_a_whole_history_charges_nothing_more(
        per_cycle in 0u32..2000,
        ops in prop::collection::vec(op(), 1..60),
    ) {
        // Run the operations, then replay every hold/settle/release again at the same instant
        // (a restarted operator redoing everything it is unsure of): nothing changes.
        // All within one cycle: across a cycle end the settled keys are gone with their cycle
        // (CreditsStatus keeps no keys of past cycles, so a replay there would be a new charge).
        let mut w = World::new(per_cycle);
        w.roll()?;
        for op in ops.iter().filter(|o| !matches!(o, Op::Advance { .. })) {
            w.apply(op)?;
        }
        let before = w.status.clone();
        for op in ops.iter().filter(|o| !matches!(o, Op::Advance { .. })) {
            match *op {
                Op::Hold { pn, period, cents } | Op::Purchase { pn, period, cents, .. } => {
                    let k = key(pn, period);
                    let existed = ledger::find_charge(&w.status, &k).is_some();
                    let outcome = w.hold(&k, cents)?;
                    if existed {
                        prop_assert!(matches!(outcome, Some(HoldOutcome::AlreadyHeld | HoldOutcome::AlreadySettled)));
                    } else if outcome == Some(HoldOutcome::Held) {
                        // Was released (a failed purchase) or refused for credits then (top-ups came
                        // since): a legitimate new hold, not a replay; take it back out so the
                        // comparison below is about replays only.
                        w.release(&k)?;
                    }
                }
                _ => {}
            }
            w.check()?;
        }
        prop_assert_eq!(&w.status, &before);
    }
}
