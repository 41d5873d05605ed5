//! A number the PhoneNumber holds (status.sid set): drift against the inventory (configuration
//! put back, a number released outside reported as NumberLost and never re-bought), prices in
//! status, and renewal (Managed 28-day cycle with grace and lapse; BringYourOwn billing date).

use super::config::{diff, field_names};
use super::decide::Ctx;
use super::renewal;
use super::status::{micro, micro_ts};
use super::status::{ready, set_config_synced, set_purchased, set_renewal_due, stalled};
use super::{Action, Decision, Event, RenewalOutcome};
use crate::api::{AccountMode, Phase, PhoneNumberStatus, RenewalPolicy};
use crate::conditions::ReasonMessage;
use crate::reason::Reason;
use jiff::Timestamp;

/// The status written when a number is confirmed (bought or adopted): the full owned status. If
/// the configuration still differs (an adopted number), the status is computed without drift
/// facts; the sync follows in the same reconcile.
pub(crate) fn confirm_status(
    cx: &Ctx,
    st: PhoneNumberStatus,
    mode: AccountMode,
    account_sid: &str,
) -> Decision {
    let d = decide_owned(cx, st.clone(), mode, account_sid);
    if d.action == Action::Wait {
        return d;
    }
    let mut o = cx.obs.clone();
    o.owned = None;
    o.renewal = None;
    let cx2 = Ctx {
        pn: cx.pn,
        obs: &o,
        generation: cx.generation,
        now: cx.now,
    };
    let d2 = decide_owned(&cx2, st.clone(), mode, account_sid);
    if d2.action == Action::Wait {
        return d2;
    }
    // A follow-up is due at once (the renewal of an adopted number older than its period, a
    // configuration sync): its decision carries the status as read, which would drop the number
    // just recorded. Record the number (`st`) and let the next round act.
    Decision {
        status: st,
        requeue_at: Some(cx.now),
        ..d2
    }
}

/// Decides for a number recorded in `st` (sid set).
pub(crate) fn decide_owned(
    cx: &Ctx,
    mut st: PhoneNumberStatus,
    mode: AccountMode,
    account_sid: &str,
) -> Decision {
    let obs = cx.obs;
    let (generation, now) = (cx.generation, cx.now);
    let number = st.phone_number.clone().unwrap_or_default();
    let sid = st.sid.clone().unwrap_or_default();
    let purchased_at = st.purchased_at.as_ref().map(micro_ts).unwrap_or(now);

    if obs.released {
        st.phase = Some(Phase::Released);
        if let Some(r) = st.renewal.as_mut() {
            r.next_renewal_at = None;
        }
        let why = ReasonMessage::new(
            Reason::Released,
            format!(
                "{number} was released at Twilio after its grace period ended; it is never bought again. Delete this PhoneNumber, or create a new one to get a new number"
            ),
        );
        set_purchased(
            &mut st,
            false,
            Reason::Released,
            &why.message,
            generation,
            now,
        );
        stalled(&mut st, &why, Phase::Released, generation, now);
        let event = Event::warning(
            Reason::Lapsed,
            format!("{number} was not renewed within its grace period and was released"),
        );
        return Decision {
            action: Action::Wait,
            status: st,
            requeue_at: None,
            event: Some(event),
        };
    }

    if let Some(q) = &obs.price {
        st.pricing = Some(super::status::pricing_since(st.pricing.as_ref(), q));
    }

    // Drift: only a targeted lookup, or a snapshot whose list started after the purchase
    // completed (both to the microsecond), can say the number is gone.
    let mut config_ok = true;
    let mut lost = false;
    if let Some(o) = &obs.owned {
        match &o.number {
            None if o.targeted || o.as_of > purchased_at => lost = true,
            None => {}
            Some(current) => {
                let d = diff(&cx.pn.spec, current);
                if !d.is_empty() {
                    if let Some(fail) = &obs.sync_failure {
                        set_config_synced(
                            &mut st,
                            false,
                            &fail.reason,
                            &fail.message,
                            generation,
                            now,
                        );
                        config_ok = false;
                    } else {
                        return Decision {
                            action: Action::SyncConfig {
                                sid: current.sid.clone(),
                                diff: d.clone(),
                            },
                            status: cx.pn.status.clone().unwrap_or_default(),
                            requeue_at: None,
                            event: Some(Event::normal(
                                Reason::ConfigSynced,
                                format!(
                                    "put back the Twilio configuration of {number}: {}",
                                    field_names(&d).join(", ")
                                ),
                            )),
                        };
                    }
                } else {
                    set_config_synced(
                        &mut st,
                        true,
                        Reason::InSync,
                        "Twilio holds the configuration of the spec",
                        generation,
                        now,
                    );
                }
            }
        }
    }
    if lost {
        st.phase = Some(Phase::Failed);
        let why = ReasonMessage::new(
            Reason::NumberLost,
            format!(
                "{number} ({sid}) is no longer in Twilio account {account_sid}: it was released outside the operator. It is not bought again; delete this PhoneNumber, or recreate it to buy a new number"
            ),
        );
        set_purchased(
            &mut st,
            false,
            Reason::NumberLost,
            &why.message,
            generation,
            now,
        );
        stalled(&mut st, &why, Phase::Failed, generation, now);
        return Decision {
            action: Action::Wait,
            status: st,
            requeue_at: None,
            event: Some(Event::warning(Reason::NumberLost, why.message)),
        };
    }

    // Only now, once the number is known not lost: setting it True first and False again in
    // one decision would move the condition's lastTransitionTime to every reconcile's time,
    // a status write (and a NumberLost event) at every resync of a lost number.
    set_purchased(
        &mut st,
        true,
        Reason::Purchased,
        &format!("{number} ({sid}) is in account {account_sid}"),
        generation,
        now,
    );
    match mode {
        AccountMode::BringYourOwn => {
            let r = renewal::billed_by_twilio(purchased_at, now);
            let next = r.next_renewal_at.as_ref().map(micro_ts);
            st.renewal = Some(r);
            st.phase = Some(Phase::Active);
            st.conditions
                .retain(|c| c.type_ != crate::api::condition::RENEWAL_DUE);
            summarize(cx, st, &number, account_sid, config_ok, next)
        }
        AccountMode::Managed => {
            managed(cx, st, &number, &sid, account_sid, purchased_at, config_ok)
        }
    }
}

fn summarize(
    cx: &Ctx,
    mut st: PhoneNumberStatus,
    number: &str,
    account_sid: &str,
    config_ok: bool,
    requeue: Option<Timestamp>,
) -> Decision {
    if config_ok {
        ready(
            &mut st,
            Reason::Active,
            format!("{number} is active in account {account_sid}"),
            cx.generation,
            cx.now,
        );
        Decision {
            action: Action::Wait,
            status: st,
            requeue_at: requeue,
            event: None,
        }
    } else {
        let c = st
            .conditions
            .iter()
            .find(|c| c.type_ == crate::api::condition::CONFIG_SYNCED)
            .cloned();
        let why = c
            .map(|c| ReasonMessage::new(Reason::parse(&c.reason), c.message))
            .unwrap_or_else(|| {
                ReasonMessage::new(Reason::ConfigRejected, "Twilio refused the configuration")
            });
        stalled(&mut st, &why, Phase::Active, cx.generation, cx.now);
        Decision {
            action: Action::Wait,
            status: st,
            requeue_at: requeue,
            event: Some(Event::warning(why.reason.clone(), why.message)),
        }
    }
}

/// Managed: 28-day periods charged to credits, grace, lapse — the timeline is
/// `billing::renewal::decide`; this adds the facts of this reconcile (a renewal just charged or
/// refused, a lapse just done) and the status.
fn managed(
    cx: &Ctx,
    mut st: PhoneNumberStatus,
    number: &str,
    sid: &str,
    account_sid: &str,
    purchased_at: Timestamp,
    config_ok: bool,
) -> Decision {
    use crate::billing::renewal::{
        PERIOD_DAYS, RenewalDecision, RenewalInput, RenewalPhase, decide as timeline, due_at_every,
        grace_deadline, grace_retry_at,
    };
    let (generation, now) = (cx.generation, cx.now);
    let auto = cx.pn.spec.renewal.as_ref().is_none_or(|r| r.auto_renew);
    let recorded = st
        .renewal
        .clone()
        .filter(|r| r.policy == RenewalPolicy::Managed);
    let mut input = RenewalInput {
        purchased_at,
        current_period: recorded.as_ref().and_then(|r| r.period).unwrap_or(1).max(1),
        auto_renew: auto,
        phase: if st.phase == Some(Phase::GracePeriod) {
            RenewalPhase::GracePeriod
        } else {
            RenewalPhase::Active
        },
        grace_deadline: recorded
            .as_ref()
            .and_then(|r| r.grace_deadline.as_ref())
            .map(micro_ts),
        period_days: recorded
            .as_ref()
            .and_then(|r| r.period_days)
            .filter(|d| *d > 0)
            .unwrap_or(PERIOD_DAYS),
    };
    let period_days = input.period_days;
    let due_at = |k: u32| due_at_every(purchased_at, k, period_days);
    let mut event = None;
    // A renewal charged in this reconcile moves the cycle on.
    if let Some(RenewalOutcome::Renewed { period }) = &cx.obs.renewal
        && *period == input.current_period + 1
    {
        input.current_period = *period;
        input.phase = RenewalPhase::Active;
        input.grace_deadline = None;
        event = Some(Event::normal(
            Reason::Renewed,
            format!("{number} renewed for period {period}"),
        ));
    }
    let refused = match &cx.obs.renewal {
        Some(RenewalOutcome::Refused(why)) => Some(why.clone()),
        _ => None,
    };
    let mut r = renewal::managed(
        due_at(input.current_period - 1),
        input.current_period,
        auto,
        period_days,
    );
    r.next_renewal_at = Some(micro(due_at(input.current_period)));

    let (why, deadline, requeue) = match timeline(&input, now) {
        RenewalDecision::NotDue { next_check } => {
            st.renewal = Some(r);
            st.phase = Some(Phase::Active);
            set_renewal_due(
                &mut st,
                false,
                Reason::Paid,
                &format!("paid until {next_check}"),
                generation,
                now,
            );
            let mut d = summarize(cx, st, number, account_sid, config_ok, Some(next_check));
            if d.event.is_none() {
                d.event = event;
            }
            return d;
        }
        RenewalDecision::Lapse => return lapse(cx, sid),
        RenewalDecision::RenewNow { period, due } => {
            let deadline = input.grace_deadline.unwrap_or_else(|| grace_deadline(due));
            match (&refused, cx.obs.price.as_ref()) {
                (None, Some(q)) => {
                    return Decision {
                        action: Action::Renew {
                            period,
                            amount: q.monthly_fee,
                            due,
                        },
                        status: cx.pn.status.clone().unwrap_or_default(),
                        requeue_at: None,
                        event: None,
                    };
                }
                _ if now >= deadline => return lapse(cx, sid),
                (Some(w), _) => (
                    ReasonMessage::new(
                        w.reason.clone(),
                        format!(
                            "{number} was not renewed ({}); it is released permanently at {deadline} unless the credits are topped up before then",
                            w.message
                        ),
                    ),
                    deadline,
                    grace_retry_at(now, deadline),
                ),
                (None, None) => (
                    ReasonMessage::new(
                        Reason::NotOnRateCard,
                        format!(
                            "{number} cannot be renewed: the platform's rate card has no price for it; it is released permanently at {deadline}"
                        ),
                    ),
                    deadline,
                    deadline,
                ),
            }
        }
        RenewalDecision::EnterGrace { due, deadline } => {
            (auto_off(number, due, deadline), deadline, deadline)
        }
        RenewalDecision::StillInGrace { deadline } => {
            let due = due_at(input.current_period);
            (auto_off(number, due, deadline), deadline, deadline)
        }
    };
    let entering = st.phase != Some(Phase::GracePeriod);
    r.grace_deadline = Some(micro(deadline));
    st.renewal = Some(r);
    st.phase = Some(Phase::GracePeriod);
    set_renewal_due(&mut st, true, &why.reason, &why.message, generation, now);
    stalled(&mut st, &why, Phase::GracePeriod, generation, now);
    let event = entering.then(|| Event::warning(Reason::GracePeriod, why.message.clone()));
    Decision {
        action: Action::Wait,
        status: st,
        requeue_at: Some(requeue),
        event,
    }
}

fn auto_off(number: &str, due: Timestamp, deadline: Timestamp) -> ReasonMessage {
    ReasonMessage::new(
        Reason::AutoRenewOff,
        format!(
            "{number} was due for renewal at {due} and spec.renewal.autoRenew is false; it is released permanently at {deadline} unless autoRenew is set to true before then"
        ),
    )
}

fn lapse(cx: &Ctx, sid: &str) -> Decision {
    Decision {
        action: Action::Lapse {
            sid: sid.to_string(),
        },
        status: cx.pn.status.clone().unwrap_or_default(),
        requeue_at: None,
        event: None,
    }
}
