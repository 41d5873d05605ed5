//! 100 Managed numbers due at the same instant, credits for 60: a pure simulation of the
//! PhoneNumber controller's renewal (decide → hold → settle → write the number's status, or
//! → enter grace on InsufficientCredits) with the steps of all numbers interleaved in a random
//! order, a crash at a random point (in-memory progress lost, persistent state kept), a restart
//! that reconciles every number again, and a replay of every ledger operation. Exactly 60 are
//! renewed, 40 enter grace, the balance never goes below zero and nothing is charged twice.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use proptest::prelude::*;
use rust_decimal::Decimal;
use telephony_operator::api::{
    ChargeKind, ChargeState, CreditGrantSpec, CreditsSpec, CreditsStatus, TopUp,
};
use telephony_operator::billing::ledger::{self, HoldOutcome, LedgerError};
use telephony_operator::billing::renewal::{
    PERIOD_DAYS, RenewalDecision, RenewalInput, RenewalPhase, decide, due_at, grace_deadline,
};
use telephony_operator::billing::{charge_key, parse_money};

const N: usize = 100;
const FEE: &str = "1.15";

/// What a PhoneNumber's status persists about renewal.
#[derive(Debug, Clone, PartialEq)]
struct PnStatus {
    uid: String,
    period: u32,
    phase: RenewalPhase,
    grace_deadline: Option<Timestamp>,
    released: bool,
}

/// In-memory progress of one reconcile (lost in a crash).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Start,
    Held { period: u32 },
    Settled { period: u32 },
    Refused { due: Timestamp },
    Done,
}

struct Sim {
    purchased_at: Timestamp,
    anchor: Timestamp,
    now: Timestamp,
    spec: CreditGrantSpec,
    ledger: CreditsStatus,
    pns: Vec<PnStatus>,
    stages: Vec<Stage>,
}

fn fee() -> Decimal {
    parse_money(FEE).unwrap()
}

impl Sim {
    fn new() -> Self {
        let purchased_at: Timestamp = "2026-03-10T09:30:00Z".parse().unwrap();
        // The account connected a day before the purchases; the renewal (purchase + 28 d) falls
        // in the second cycle, which grants exactly 60 renewals.
        let anchor = purchased_at - SignedDuration::from_hours(24);
        let spec = CreditGrantSpec {
            credits: CreditsSpec {
                per_cycle: "69.00".into(),
                currency: "USD".into(),
                top_ups: vec![],
            },
            billing_cycle: None,
        };
        let now = due_at(purchased_at, 1);
        let ledger = ledger::roll(&CreditsStatus::default(), &spec, anchor, anchor).unwrap();
        let mut sim = Self {
            purchased_at,
            anchor,
            now,
            spec,
            ledger,
            pns: (0..N)
                .map(|i| PnStatus {
                    uid: format!("0000-{i:04}"),
                    period: 1,
                    phase: RenewalPhase::Active,
                    grace_deadline: None,
                    released: false,
                })
                .collect(),
            stages: vec![Stage::Start; N],
        };
        sim.roll();
        sim
    }

    fn roll(&mut self) {
        self.ledger = ledger::roll(&self.ledger, &self.spec, self.anchor, self.now).unwrap();
        let balance = parse_money(&self.ledger.balance).unwrap();
        assert!(balance >= Decimal::ZERO);
    }

    fn input(&self, i: usize) -> RenewalInput {
        let p = &self.pns[i];
        RenewalInput {
            purchased_at: self.purchased_at,
            current_period: p.period,
            auto_renew: true,
            phase: p.phase,
            grace_deadline: p.grace_deadline,
            period_days: PERIOD_DAYS,
        }
    }

    /// One atomic step of number `i`'s reconcile (one write, to the ledger or to the number).
    fn step(&mut self, i: usize) {
        self.roll();
        match self.stages[i] {
            Stage::Done => {}
            Stage::Start => {
                if self.pns[i].released {
                    self.stages[i] = Stage::Done;
                    return;
                }
                match decide(&self.input(i), self.now) {
                    RenewalDecision::RenewNow { period, due } => {
                        let key = charge_key(&self.pns[i].uid, period);
                        match ledger::hold(
                            &self.ledger,
                            &key,
                            &format!("pn-{i}"),
                            fee(),
                            ChargeKind::Renewal,
                            self.now,
                        ) {
                            Ok((s, _)) => {
                                self.ledger = s;
                                self.stages[i] = Stage::Held { period };
                            }
                            Err(LedgerError::InsufficientCredits { balance, .. }) => {
                                assert!(balance < fee());
                                self.stages[i] = Stage::Refused { due };
                            }
                            Err(e) => panic!("hold: {e}"),
                        }
                    }
                    RenewalDecision::NotDue { .. } => {
                        self.pns[i].phase = RenewalPhase::Active;
                        self.pns[i].grace_deadline = None;
                        self.stages[i] = Stage::Done;
                    }
                    RenewalDecision::StillInGrace { .. } => self.stages[i] = Stage::Done,
                    RenewalDecision::EnterGrace { .. } => {
                        panic!("auto-renew numbers enter grace only on refusal")
                    }
                    RenewalDecision::Lapse => {
                        self.pns[i].released = true;
                        self.stages[i] = Stage::Done;
                    }
                }
            }
            Stage::Held { period } => {
                let key = charge_key(&self.pns[i].uid, period);
                let (s, _) =
                    ledger::settle(&self.ledger, &key, &format!("+1500555{i:04}")).unwrap();
                self.ledger = s;
                self.stages[i] = Stage::Settled { period };
            }
            Stage::Settled { period } => {
                let p = &mut self.pns[i];
                p.period = period;
                p.phase = RenewalPhase::Active;
                p.grace_deadline = None;
                self.stages[i] = Stage::Done;
            }
            Stage::Refused { due } => {
                let p = &mut self.pns[i];
                if p.phase == RenewalPhase::Active {
                    p.phase = RenewalPhase::GracePeriod;
                    p.grace_deadline = Some(grace_deadline(due));
                }
                self.stages[i] = Stage::Done;
            }
        }
    }

    /// A restart: in-memory progress is gone; every number is reconciled again to the end.
    fn restart_and_reconcile_all(&mut self, order: &[usize]) {
        self.stages = vec![Stage::Start; N];
        for &i in order {
            while self.stages[i] != Stage::Done {
                self.step(i);
            }
        }
    }

    fn renewed(&self) -> usize {
        self.pns
            .iter()
            .filter(|p| p.period == 2 && p.phase == RenewalPhase::Active)
            .count()
    }

    fn in_grace(&self) -> usize {
        self.pns
            .iter()
            .filter(|p| p.phase == RenewalPhase::GracePeriod && !p.released)
            .count()
    }

    fn assert_ledger(&self, settled: usize) {
        let s = &self.ledger;
        assert_eq!(s.charges.len(), settled, "one charge per renewed number");
        assert!(s.charges.iter().all(|c| c.state == ChargeState::Settled));
        let mut keys: Vec<_> = s.charges.iter().map(|c| c.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), settled, "a key charged twice");
        assert_eq!(
            parse_money(&s.spent).unwrap(),
            fee() * Decimal::from(settled)
        );
        assert!(parse_money(&s.balance).unwrap() >= Decimal::ZERO);
    }
}

fn order_and_crash() -> impl Strategy<Value = (Vec<usize>, usize, Vec<usize>)> {
    // Each number appears 3 times: its steps, interleaved at random with everyone else's.
    let steps: Vec<usize> = (0..N).flat_map(|i| [i, i, i]).collect();
    (
        Just(steps).prop_shuffle(),
        0..=3 * N,
        Just((0..N).collect::<Vec<_>>()).prop_shuffle(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn hundred_due_at_once_with_credit_for_sixty((steps, crash_at, restart_order) in order_and_crash()) {
        let mut sim = Sim::new();
        let due = due_at(sim.purchased_at, 1);
        prop_assert_eq!(sim.now, due);
        // Run until the crash.
        for &i in &steps[..crash_at] {
            sim.step(i);
        }
        // Restart: every number reconciled again, in another random order.
        sim.restart_and_reconcile_all(&restart_order);
        prop_assert_eq!(sim.renewed(), 60);
        prop_assert_eq!(sim.in_grace(), 40);
        prop_assert!(sim.pns.iter().filter(|p| p.phase == RenewalPhase::GracePeriod)
            .all(|p| p.grace_deadline == Some(due + SignedDuration::from_hours(48))));
        sim.assert_ledger(60);
        prop_assert_eq!(sim.ledger.balance.as_str(), "0.00");
        let snapshot = sim.ledger.clone();

        // Another restart: reconciling everything again changes nothing.
        sim.restart_and_reconcile_all(&restart_order);
        prop_assert_eq!(&sim.ledger, &snapshot);
        // Replaying every ledger operation of the burst: no double charge.
        for p in sim.pns.clone() {
            let key = charge_key(&p.uid, 2);
            match ledger::hold(&sim.ledger, &key, "pn", fee(), ChargeKind::Renewal, sim.now) {
                Ok((s, outcome)) => {
                    prop_assert_eq!(outcome, HoldOutcome::AlreadySettled);
                    prop_assert_eq!(&s, &snapshot);
                }
                Err(LedgerError::InsufficientCredits { .. }) => prop_assert_eq!(p.period, 1),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
            let (s, changed) = ledger::settle(&sim.ledger, &key, "+15005550006").unwrap();
            prop_assert!(!changed);
            let (s, changed) = ledger::release_hold(&s, &key).unwrap();
            prop_assert!(!changed);
            prop_assert_eq!(&s, &snapshot);
        }
    }
}

#[test]
fn grace_then_top_up_renews_ten_and_lapses_thirty() {
    let mut sim = Sim::new();
    let order: Vec<usize> = (0..N).rev().collect();
    sim.restart_and_reconcile_all(&order);
    assert_eq!((sim.renewed(), sim.in_grace()), (60, 40));
    let due = due_at(sim.purchased_at, 1);
    let deadline = due + SignedDuration::from_hours(48);

    // 47 h in: still short, still in grace.
    sim.now = due + SignedDuration::from_hours(47);
    sim.restart_and_reconcile_all(&order);
    assert_eq!((sim.renewed(), sim.in_grace()), (60, 40));

    // A top-up worth ten renewals; one second before the deadline ten more are renewed.
    sim.spec.credits.top_ups.push(TopUp {
        id: "rcpt-1".into(),
        amount: "11.50".into(),
        at: Time(sim.now),
    });
    sim.now = deadline - SignedDuration::from_secs(1);
    sim.restart_and_reconcile_all(&order);
    assert_eq!((sim.renewed(), sim.in_grace()), (70, 30));
    sim.assert_ledger(70);
    assert_eq!(sim.ledger.balance, "0.00");
    // Renewed late, their next due date is still purchase + 2×28 days.
    for p in sim.pns.iter().filter(|p| p.period == 2) {
        let i = RenewalInput {
            purchased_at: sim.purchased_at,
            current_period: p.period,
            auto_renew: true,
            phase: p.phase,
            grace_deadline: p.grace_deadline,
            period_days: PERIOD_DAYS,
        };
        assert_eq!(
            decide(&i, sim.now),
            RenewalDecision::NotDue {
                next_check: due_at(sim.purchased_at, 2)
            }
        );
    }

    // At the deadline exactly, the other thirty lapse; nothing more is charged.
    sim.now = deadline;
    sim.restart_and_reconcile_all(&order);
    assert_eq!(sim.pns.iter().filter(|p| p.released).count(), 30);
    assert_eq!(sim.renewed(), 70);
    sim.assert_ledger(70);
}
