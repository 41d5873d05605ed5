//! Property tests of the billing time arithmetic: credits cycles (`ledger::cycle_bounds`, `roll`
//! across spec changes), the renewal timeline (`renewal::decide`) and Twilio's BringYourOwn
//! billing dates (`twilio_next_billing_date`).

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use proptest::prelude::*;
use telephony_operator::api::{BillingCycleSpec, CreditGrantSpec, CreditsSpec, CreditsStatus};
use telephony_operator::billing::ledger::{self, HISTORY_LEN};
use telephony_operator::billing::renewal::{
    GRACE, PERIOD_DAYS, RenewalDecision, RenewalInput, RenewalPhase, decide, due_at,
};
use telephony_operator::billing::twilio_next_billing_date;

/// Seconds between 2000-01-01 and 2100-01-01.
fn instant() -> impl Strategy<Value = Timestamp> {
    (946_684_800i64..4_102_444_800).prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn spec(starts_at: Option<Timestamp>, length_days: Option<u32>) -> CreditGrantSpec {
    CreditGrantSpec {
        credits: CreditsSpec {
            per_cycle: "10".into(),
            currency: "USD".into(),
            top_ups: vec![],
        },
        billing_cycle: Some(BillingCycleSpec {
            starts_at: starts_at.map(Time),
            length_days,
        }),
    }
}

proptest! {
    #[test]
    fn a_cycle_contains_now_and_is_aligned(
        origin in instant(), now in instant(), days in prop::option::of(1u32..=366), use_starts_at: bool,
    ) {
        let s = spec(use_starts_at.then_some(origin), days);
        let c = ledger::cycle_bounds(&s, origin, now);
        let len = i64::from(days.unwrap_or(28)) * 86_400;
        prop_assert!(c.contains(now));
        prop_assert_eq!(c.end.as_second() - c.start.as_second(), len);
        prop_assert_eq!((c.start.as_second() - origin.as_second()).rem_euclid(len), 0);
    }

    #[test]
    fn rolling_through_spec_changes_keeps_cycles_contiguous(
        origin in instant(),
        steps in prop::collection::vec((0i64..(90 * 86_400), prop::option::of(1u32..60), any::<bool>()), 1..25),
    ) {
        let mut now = origin;
        let mut s = spec(None, None);
        let mut st = ledger::roll(&CreditsStatus::default(), &s, origin, now).unwrap();
        for (advance, days, move_start) in steps {
            now += SignedDuration::from_secs(advance);
            s.billing_cycle = Some(BillingCycleSpec {
                starts_at: move_start.then(|| Time(now - SignedDuration::from_secs(advance / 2))),
                length_days: days,
            });
            let before = st.clone();
            st = ledger::roll(&st, &s, origin, now).unwrap();
            let (start, end) = (st.cycle_start.clone().unwrap().0, st.cycle_end.clone().unwrap().0);
            prop_assert!(start <= now && now < end, "{start} {now} {end}");
            prop_assert!(st.history.len() <= HISTORY_LEN);
            prop_assert!(st.history.windows(2).all(|w| w[0].end == w[1].start && w[0].start < w[0].end));
            if st.cycle_start != before.cycle_start {
                // The new cycle starts where the history ends: no window counted twice or lost.
                prop_assert_eq!(&st.history.last().unwrap().end, st.cycle_start.as_ref().unwrap());
                prop_assert!(start >= before.cycle_end.clone().unwrap().0);
            }
        }
    }

    #[test]
    fn renewal_timeline_boundaries(
        purchased in instant(), period in 1u32..40, auto: bool, offset in -200_000i64..400_000,
    ) {
        let due = due_at(purchased, period);
        let now = due + SignedDuration::from_secs(offset);
        let active = RenewalInput {
            purchased_at: purchased, current_period: period, auto_renew: auto,
            phase: RenewalPhase::Active, grace_deadline: None, period_days: PERIOD_DAYS,
        };
        let d = decide(&active, now);
        if now < due {
            prop_assert_eq!(d, RenewalDecision::NotDue { next_check: due });
        } else if auto {
            prop_assert_eq!(d, RenewalDecision::RenewNow { period: period + 1, due });
        } else {
            prop_assert_eq!(d, RenewalDecision::EnterGrace { due, deadline: due + GRACE });
        }
        let grace = RenewalInput { phase: RenewalPhase::GracePeriod, grace_deadline: Some(due + GRACE), ..active };
        let d = decide(&grace, now);
        if now < due {
            prop_assert_eq!(d, RenewalDecision::NotDue { next_check: due });
        } else if now >= due + GRACE {
            prop_assert_eq!(d, RenewalDecision::Lapse);
        } else if auto {
            prop_assert_eq!(d, RenewalDecision::RenewNow { period: period + 1, due });
        } else {
            prop_assert_eq!(d, RenewalDecision::StillInGrace { deadline: due + GRACE });
        }
    }

    #[test]
    fn twilio_billing_dates_follow_the_month_end_rule(purchased in instant(), later in 0i64..(3 * 365 * 86_400)) {
        let now = purchased + SignedDuration::from_secs(later);
        let next = twilio_next_billing_date(purchased, now);
        prop_assert!(next > now);
        let p = purchased.to_zoned(TimeZone::UTC);
        let n = next.to_zoned(TimeZone::UTC);
        // Same time of day; at most a month after now; never on a later day than the purchase's.
        prop_assert_eq!(n.time(), p.time());
        prop_assert!(next <= now.to_zoned(TimeZone::UTC).checked_add(1.month()).unwrap().timestamp() + SignedDuration::from_hours(24));
        prop_assert!(n.day() <= p.day());
        // The day is the purchase day, or a month end when the purchase day does not exist, or
        // a day carried from an earlier month end (an anchor only ever moves down, to 28..=30).
        prop_assert!(n.day() == p.day() || n.day() >= 28);
        // The one before `next` (asked just before it) is a month earlier, on a day not smaller.
        let prev = twilio_next_billing_date(purchased, next - SignedDuration::from_secs(1));
        prop_assert_eq!(prev, next);
        let after = twilio_next_billing_date(purchased, next);
        let a = after.to_zoned(TimeZone::UTC);
        prop_assert!(a.day() <= n.day());
        prop_assert_eq!((a.year() * 12 + i16::from(a.month())) - (n.year() * 12 + i16::from(n.month())), 1);
    }
}
