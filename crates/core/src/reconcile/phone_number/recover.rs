//! Recovery of a recorded purchase intent (no sid yet): what happened to the last attempt —
//! bought (confirm), refused (abandon with a reason), unknown (look the number up), or not
//! bought (claim another attempt after the in-flight window). See docs/exactly-once-purchase.md.

use super::decide::Ctx;
use super::status::{progressing, record_owned, set_purchased, stalled};
use super::{Action, BuyFailure, Decision, Event, MAX_PURCHASE_ATTEMPTS, active};
use crate::api::{AccountMode, Phase, PhoneNumberStatus, PurchaseIntent};
use crate::conditions::{ReasonMessage, time, timestamp};
use crate::reason::Reason;
use crate::twilio::{TwilioError, codes};
use jiff::Timestamp;

/// A permanent Twilio refusal as a Stalled reason (credentials, account state, bad request).
pub fn refusal_of(e: &TwilioError) -> ReasonMessage {
    if e.is_auth() {
        return ReasonMessage::new(
            Reason::AuthenticationFailed,
            "Twilio refused the account's credentials (20003): fix the Secret of the TelephonyAccount".to_string(),
        );
    }
    let code = e
        .code()
        .map(|c| format!(" (error {c})"))
        .unwrap_or_default();
    ReasonMessage::new(
        Reason::TwilioRefused,
        format!(
            "Twilio refused the {} call{code}: {}",
            e.operation, e.message
        ),
    )
}

/// Maps a definite purchase refusal to a Stalled reason and a message.
pub fn refusal(number: &str, code: Option<u32>, message: &str) -> ReasonMessage {
    let (reason, hint) = match code {
        Some(codes::NUMBER_UNAVAILABLE) => (
            Reason::NumberUnavailable,
            "it is not for sale (owned by someone else or reserved): choose another number",
        ),
        Some(codes::NO_NUMBERS_IN_AREA_CODE) => (
            Reason::NoNumbersAvailable,
            "Twilio has no numbers there: choose another area code",
        ),
        Some(codes::INVALID_NUMBER) => (
            Reason::InvalidNumber,
            "Twilio does not consider it a valid number: check spec.number",
        ),
        Some(codes::INVALID_AREA_CODE) | Some(codes::AREA_CODE_NOT_SUPPORTED) => {
            (Reason::InvalidAreaCode, "check spec.search.areaCode")
        }
        Some(codes::ADDRESS_REQUIRED) | Some(codes::ADDRESS_ON_FILE_REQUIRED) => (
            Reason::AddressRequired,
            "set spec.compliance.addressSid to an address of the account",
        ),
        Some(codes::BUNDLE_REQUIRED) => (
            Reason::BundleRequired,
            "set spec.compliance.bundleSid to an approved regulatory bundle",
        ),
        Some(codes::TRIAL_LIMIT) | Some(codes::TRIAL_ONE_NUMBER) => (
            Reason::TrialLimit,
            "a trial account may own only one number: upgrade the Twilio account",
        ),
        Some(codes::AUTHENTICATION) => (
            Reason::AuthenticationFailed,
            "Twilio refused the account's credentials: fix the Secret",
        ),
        Some(codes::ACCOUNT_NOT_ACTIVE) => (
            Reason::AccountNotActive,
            "the Twilio account is suspended or closed",
        ),
        _ => (Reason::PurchaseRefused, "see Twilio's message"),
    };
    let code = code.map(|c| format!(" (error {c})")).unwrap_or_default();
    ReasonMessage::new(
        reason,
        format!("Twilio refused to sell {number}{code}: {message}; {hint}"),
    )
}

/// The status that records that the buy of the recorded attempt was sent, for a reconcile that
/// cannot go on to the lookup (it failed): written, the attempt still counts after a restart.
/// `None` when there is no intent, or it already says so.
pub fn attempt_sent(status: Option<&PhoneNumberStatus>) -> Option<PhoneNumberStatus> {
    let mut st = status?.clone();
    let intent = st.purchase_intent.as_mut().filter(|i| !i.buy_sent)?;
    intent.buy_sent = true;
    Some(st)
}

/// An intent is recorded and no number is confirmed: find out what happened before buying again.
pub(crate) fn recover(
    cx: &Ctx,
    mut st: PhoneNumberStatus,
    intent: PurchaseIntent,
    mode: AccountMode,
    account_sid: &str,
) -> Decision {
    let obs = cx.obs;
    let number = intent.phone_number.clone();
    let managed = mode == AccountMode::Managed;

    if obs.claimed_elsewhere.contains(&number) {
        // Another PhoneNumber holds the number's claim (taken before its own intent): this
        // intent never bought it. Drop it — search again, or refuse an exact number.
        st.purchase_intent = None;
        let (action, requeue_at) = (
            Action::Abandon {
                release_hold: managed,
            },
            cx.now.checked_add(jiff::SignedDuration::from_secs(5)).ok(),
        );
        if cx.pn.spec.search.is_some() {
            st.phase = Some(Phase::Pending);
            let why = ReasonMessage::new(
                Reason::NumberTaken,
                format!("{number} is claimed by another PhoneNumber; searching again"),
            );
            progressing(&mut st, &why, cx.generation, cx.now);
            return Decision {
                action,
                status: st,
                requeue_at,
                event: None,
            };
        }
        let why = ReasonMessage::new(
            Reason::NumberClaimed,
            format!(
                "{number} is claimed by another PhoneNumber of the same Twilio account: one number, one PhoneNumber"
            ),
        );
        stalled(&mut st, &why, Phase::Failed, cx.generation, cx.now);
        return Decision {
            action,
            status: st,
            requeue_at: None,
            event: Some(Event::warning(why.reason.clone(), why.message.clone())),
        };
    }

    if let Some(BuyFailure::Refused { code, message }) = &obs.buy_failure {
        // "Unavailable" may mean "already yours" (bought outside since the last inventory list):
        // look it up once before giving up, so it is adopted instead.
        if *code == Some(codes::NUMBER_UNAVAILABLE)
            && !obs.owned.as_ref().is_some_and(|o| o.targeted)
        {
            return cx.wait_for(Action::Lookup { number }, st);
        }
        // Found in the account after a refusal: ours (an earlier attempt landed late) unless
        // another PhoneNumber claims it (it bought it between our lookup and our buy).
        if let Some(n) = obs
            .owned
            .as_ref()
            .and_then(|o| o.number.as_ref())
            .filter(|n| !obs.claimed_numbers.contains(&n.phone_number))
        {
            let mut st2 = st.clone();
            record_owned(&mut st2, &cx.pn.spec, n, account_sid, None, true, cx.now);
            let d = active::confirm_status(cx, st2, mode, account_sid);
            let event = Event::normal(
                Reason::Adopted,
                format!(
                    "{} is already in account {account_sid}: adopted",
                    n.phone_number
                ),
            );
            return Decision {
                action: Action::Confirm {
                    number: n.clone(),
                    settle: managed,
                    adopted: true,
                },
                status: d.status,
                requeue_at: d.requeue_at,
                event: Some(event),
            };
        }
        let why = refusal(&number, *code, message);
        st.purchase_intent = None;
        set_purchased(
            &mut st,
            false,
            &why.reason,
            &why.message,
            cx.generation,
            cx.now,
        );
        let event = Event::warning(why.reason.clone(), why.message.clone());
        if cx.pn.spec.search.is_some() && *code == Some(codes::NUMBER_UNAVAILABLE) {
            // Taken between the search and the buy: search again soon.
            st.phase = Some(Phase::Pending);
            progressing(
                &mut st,
                &ReasonMessage::new(
                    Reason::NumberTaken,
                    format!("{number} was taken before it could be bought; searching again"),
                ),
                cx.generation,
                cx.now,
            );
            let soon = cx
                .now
                .checked_add(jiff::SignedDuration::from_secs(5))
                .unwrap_or(Timestamp::MAX);
            return Decision {
                action: Action::Abandon {
                    release_hold: managed,
                },
                status: st,
                requeue_at: Some(soon),
                event: Some(event),
            };
        }
        stalled(&mut st, &why, Phase::Failed, cx.generation, cx.now);
        return Decision {
            action: Action::Abandon {
                release_hold: managed,
            },
            status: st,
            requeue_at: None,
            event: Some(event),
        };
    }

    if let Some(BuyFailure::NoCredits { message }) = &obs.buy_failure {
        // Worded as the refusal before an intent (`decide`), so a later resync that refuses
        // from the ledger's balance finds the status unchanged.
        let what = match &cx.pn.spec.search {
            Some(search) => format!("a number ({})", super::decide::describe_search(search)),
            None => number.clone(),
        };
        let why = ReasonMessage::new(
            Reason::InsufficientCredits,
            format!("not enough credits to buy {what}: {message}; top up the account's credits"),
        );
        st.purchase_intent = None;
        stalled(&mut st, &why, Phase::Failed, cx.generation, cx.now);
        let event = Event::warning(why.reason.clone(), why.message.clone());
        return Decision {
            action: Action::Abandon {
                release_hold: false,
            },
            status: st,
            requeue_at: None,
            event: Some(event),
        };
    }

    let looked_up = obs
        .owned
        .as_ref()
        .filter(|o| o.number.is_some() || o.targeted);
    let Some(owned) = looked_up else {
        return cx.wait_for(Action::Lookup { number }, st);
    };
    if let Some(n) = &owned.number {
        let found = obs
            .search
            .as_ref()
            .and_then(|s| s.iter().find(|a| a.phone_number == n.phone_number));
        let mut st2 = st.clone();
        record_owned(&mut st2, &cx.pn.spec, n, account_sid, found, false, cx.now);
        let d = active::confirm_status(cx, st2, mode, account_sid);
        let event = Event::normal(
            Reason::Purchased,
            format!(
                "bought {} ({}) in account {}",
                n.phone_number, n.sid, account_sid
            ),
        );
        return Decision {
            action: Action::Confirm {
                number: n.clone(),
                settle: managed,
                adopted: false,
            },
            status: d.status,
            requeue_at: d.requeue_at,
            event: Some(event),
        };
    }

    // The account does not hold the number (fresh lookup). The attempt counts only if its buy
    // was sent (recorded in the intent, or seen in this reconcile).
    let sent = intent.buy_sent || obs.buy_sent;
    let last = timestamp(&intent.started_at);
    let settled_at = last
        .checked_add(obs.intent_settle)
        .unwrap_or(Timestamp::MAX);
    if cx.now < settled_at {
        let why = ReasonMessage::new(
            Reason::PurchaseInFlight,
            format!(
                "a purchase of {number} started at {last} may still be in flight; checking again at {settled_at}"
            ),
        );
        if let Some(i) = st.purchase_intent.as_mut() {
            // Written with the wait, so a restart still counts this attempt.
            i.buy_sent = sent;
        }
        progressing(&mut st, &why, cx.generation, cx.now);
        return cx.wait(st, Some(settled_at), None);
    }
    if sent && intent.attempts >= MAX_PURCHASE_ATTEMPTS {
        let why = ReasonMessage::new(
            Reason::PurchaseFailed,
            format!(
                "{number} could not be bought after {} attempts and is not in account {account_sid}; delete and recreate the PhoneNumber to try again",
                intent.attempts
            ),
        );
        st.purchase_intent = None;
        stalled(&mut st, &why, Phase::Failed, cx.generation, cx.now);
        let event = Event::warning(why.reason.clone(), why.message.clone());
        return Decision {
            action: Action::Abandon {
                release_hold: managed,
            },
            status: st,
            requeue_at: None,
            event: Some(event),
        };
    }
    let charge = if managed {
        cx.obs.price.as_ref().map(|q| q.monthly_fee)
    } else {
        None
    };
    if managed && charge.is_none() {
        // Nothing to hold for another attempt: give the intent up (nothing of it is in the
        // account, and its window has passed) rather than record a new one.
        let why = ReasonMessage::new(
            Reason::NotOnRateCard,
            format!("the platform's rate card has no price for {number}"),
        );
        st.purchase_intent = None;
        stalled(&mut st, &why, Phase::Failed, cx.generation, cx.now);
        return Decision {
            action: Action::Abandon { release_hold: true },
            status: st,
            requeue_at: None,
            event: Some(Event::warning(why.reason.clone(), why.message)),
        };
    }
    // A crash between the intent and the buy used up nothing: the same attempt again.
    let attempt = if sent {
        intent.attempts + 1
    } else {
        intent.attempts.max(1)
    };
    st.purchase_intent = Some(Box::new(PurchaseIntent {
        started_at: time(cx.now),
        attempts: attempt,
        buy_sent: false,
        ..intent
    }));
    progressing(
        &mut st,
        &ReasonMessage::new(
            Reason::Purchasing,
            format!("buying {number} (attempt {attempt})"),
        ),
        cx.generation,
        cx.now,
    );
    Decision {
        action: Action::RetryBuy { number, charge },
        status: st,
        requeue_at: None,
        event: None,
    }
}
