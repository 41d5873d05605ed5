//! A rename must not lose a number: deleting a PhoneNumber whose number would be released puts
//! the number on hold in its account for a quarantine period instead (the operator's
//! `--release-quarantine-seconds`; zero releases at once). The PhoneNumber goes at once; the
//! account shows the number in `status.heldNumbers` with the time it will be released, and a
//! new PhoneNumber of the same account naming it in `spec.number` before then adopts it — a
//! directory renamed in Git, or a manifest pruned and re-added, keeps its customer-facing number.
//!
//! Money: a Managed number's hold never outlasts its paid period (the release time is the
//! earlier of the window's end and the next renewal; a renewal already due releases at once), so
//! no period is used unpaid; the adopter continues the same renewal cycle (purchase time and
//! period carried over), so nothing is charged twice or skipped.
//!
//! The hold itself is recorded on the number's claim (`controller::claims`): the claim passes
//! from the PhoneNumber to the account with one conditional write, an adopter takes it back with
//! one, and the account marks it `releasing` with one before releasing — so an adoption and a
//! release can never both win. These functions decide; the controllers perform.

use crate::api::{
    AccountMode, HeldNumber, Phase, PhoneNumber, PhoneNumberStatus, RenewalPolicy, RenewalStatus,
};
use crate::reconcile::phone_number::status::{micro, micro_ts};
use jiff::{SignedDuration, Timestamp};
use kube_core::ResourceExt;

/// The hold for `pn`'s number if it is released now, given the account's mode and Twilio SID
/// (when the status records none), the time and the quarantine window; `None` means release at once (no window, nothing recorded to hold, or a
/// Managed renewal already due).
pub fn hold_for(
    pn: &PhoneNumber,
    mode: AccountMode,
    account_sid: &str,
    now: Timestamp,
    window: SignedDuration,
) -> Option<HeldNumber> {
    if window <= SignedDuration::ZERO {
        return None;
    }
    let st = pn.status.as_ref()?;
    let (number, sid) = (st.phone_number.clone()?, st.sid.clone()?);
    let account_sid = st
        .account_sid
        .clone()
        .unwrap_or_else(|| account_sid.to_string());
    if matches!(st.phase, Some(Phase::Released)) {
        return None;
    }
    let end = now.checked_add(window).unwrap_or(Timestamp::MAX);
    let (release_at, managed) = match mode {
        AccountMode::BringYourOwn => (end, None),
        AccountMode::Managed => {
            let paid_until = paid_until(st)?;
            if paid_until <= now {
                return None;
            }
            let renewal = st.renewal.as_ref();
            let carried = (
                st.purchased_at.clone(),
                renewal.and_then(|r| r.period),
                renewal.and_then(|r| r.period_days),
            );
            (end.min(paid_until), Some(carried))
        }
    };
    let (purchased_at, period, period_days) = managed.unwrap_or((None, None, None));
    Some(HeldNumber {
        phone_number: number,
        sid,
        account_sid,
        deleted_from: pn.name_any(),
        held_since: micro(now),
        release_at: micro(release_at),
        purchased_at,
        period,
        period_days,
        releasing: false,
    })
}

/// The end of a Managed number's paid period: its next renewal, unless it is in its grace period
/// (or its status records no renewal), when the renewal is due already.
fn paid_until(st: &PhoneNumberStatus) -> Option<Timestamp> {
    if st.phase == Some(Phase::GracePeriod) {
        return None;
    }
    let r = st
        .renewal
        .as_ref()
        .filter(|r| r.policy == RenewalPolicy::Managed)?;
    r.next_renewal_at.as_ref().map(micro_ts)
}

/// What the account does with a hold now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldStep {
    /// Keep holding it until `until`.
    Keep { until: Timestamp },
    /// Release it at Twilio now (its window is over, or the account is being deleted).
    Release,
    /// Drop the hold without releasing: the account is being deleted with the administrator's
    /// skip-release annotation (its credentials are gone for good).
    Forget,
}

/// The step for `hold` at `now`; an account being deleted releases everything it holds (or,
/// with `skip_release`, lets go of it without a Twilio call).
pub fn hold_step(
    hold: &HeldNumber,
    now: Timestamp,
    account_deleting: bool,
    skip_release: bool,
) -> HoldStep {
    let until = micro_ts(&hold.release_at);
    if account_deleting && skip_release {
        HoldStep::Forget
    } else if account_deleting || hold.releasing || until <= now {
        HoldStep::Release
    } else {
        HoldStep::Keep { until }
    }
}

/// The earliest time any of `holds` must be looked at again.
pub fn next_release(holds: &[HeldNumber]) -> Option<Timestamp> {
    holds.iter().map(|h| micro_ts(&h.release_at)).min()
}

/// The held numbers as the account's status lists them: sorted by release time, then number.
pub fn status_list(mut holds: Vec<HeldNumber>) -> Vec<HeldNumber> {
    holds.sort_by(|a, b| {
        micro_ts(&a.release_at)
            .cmp(&micro_ts(&b.release_at))
            .then_with(|| a.phone_number.cmp(&b.phone_number))
    });
    holds
}

/// The renewal a PhoneNumber adopting `hold` continues (Managed): the same purchase time and
/// paid period, so its next renewal is the one the deleted PhoneNumber would have made.
pub fn carried_renewal(hold: &HeldNumber, auto_renew: bool) -> Option<(Timestamp, RenewalStatus)> {
    let purchased_at = micro_ts(hold.purchased_at.as_ref()?);
    let period = hold.period?.max(1);
    let days = hold
        .period_days
        .filter(|d| *d > 0)
        .unwrap_or(crate::billing::renewal::PERIOD_DAYS);
    let mut r = crate::reconcile::phone_number::renewal::managed(
        crate::billing::renewal::due_at_every(purchased_at, period - 1, days),
        period,
        auto_renew,
        days,
    );
    r.next_renewal_at = Some(micro(crate::billing::renewal::due_at_every(
        purchased_at,
        period,
        days,
    )));
    Some((purchased_at, r))
}

/// Whether `hold` is the one a PhoneNumber naming `number` in account `account_sid` adopts.
pub fn adopts(hold: &HeldNumber, number: &str, sid: &str) -> bool {
    !hold.releasing && hold.phone_number == number && hold.sid == sid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn active(mode: AccountMode) -> PhoneNumber {
        let spec = serde_json::from_value(serde_json::json!({
            "accountRef": {"name": "acct"}, "number": "+14155550100"
        }))
        .unwrap();
        let mut pn = PhoneNumber::new("sales", spec);
        let renewal = (mode == AccountMode::Managed).then(|| {
            let mut r = crate::reconcile::phone_number::renewal::managed(
                t("2026-01-29T00:00:00Z"),
                2,
                true,
                28,
            );
            r.next_renewal_at = Some(micro(t("2026-02-26T00:00:00Z")));
            r
        });
        pn.status = Some(PhoneNumberStatus {
            phase: Some(Phase::Active),
            phone_number: Some("+14155550100".into()),
            sid: Some("PN1".into()),
            account_sid: Some("AC1".into()),
            purchased_at: Some(micro(t("2026-01-01T00:00:00Z"))),
            renewal,
            ..Default::default()
        });
        pn
    }

    #[test]
    fn a_bring_your_own_number_is_held_for_the_window() {
        let now = t("2026-02-01T00:00:00Z");
        let h = hold_for(
            &active(AccountMode::BringYourOwn),
            AccountMode::BringYourOwn,
            "AC1",
            now,
            SignedDuration::from_hours(1),
        )
        .expect("held");
        assert_eq!(micro_ts(&h.release_at), t("2026-02-01T01:00:00Z"));
        assert_eq!((h.sid.as_str(), h.deleted_from.as_str()), ("PN1", "sales"));
        assert_eq!(h.period, None, "nothing to carry for BringYourOwn");
        // A zero window releases at once.
        assert!(
            hold_for(
                &active(AccountMode::BringYourOwn),
                AccountMode::BringYourOwn,
                "AC1",
                now,
                SignedDuration::ZERO
            )
            .is_none()
        );
    }

    #[test]
    fn a_managed_hold_never_outlasts_the_paid_period() {
        let pn = active(AccountMode::Managed);
        let window = SignedDuration::from_hours(1);
        // Well inside the period: the full window, and the cycle is carried.
        let h = hold_for(
            &pn,
            AccountMode::Managed,
            "AC1",
            t("2026-02-10T00:00:00Z"),
            window,
        )
        .unwrap();
        assert_eq!(micro_ts(&h.release_at), t("2026-02-10T01:00:00Z"));
        assert_eq!((h.period, h.period_days), (Some(2), Some(28)));
        // 30 minutes before the renewal: released when the paid period ends.
        let h = hold_for(
            &pn,
            AccountMode::Managed,
            "AC1",
            t("2026-02-25T23:30:00Z"),
            window,
        )
        .unwrap();
        assert_eq!(micro_ts(&h.release_at), t("2026-02-26T00:00:00Z"));
        // Renewal due (or in grace): no hold, release at once.
        assert!(
            hold_for(
                &pn,
                AccountMode::Managed,
                "AC1",
                t("2026-02-26T00:00:00Z"),
                window
            )
            .is_none()
        );
        let mut grace = pn.clone();
        grace.status.as_mut().unwrap().phase = Some(Phase::GracePeriod);
        assert!(
            hold_for(
                &grace,
                AccountMode::Managed,
                "AC1",
                t("2026-02-10T00:00:00Z"),
                window
            )
            .is_none()
        );
    }

    #[test]
    fn the_adopter_continues_the_same_cycle() {
        let pn = active(AccountMode::Managed);
        let h = hold_for(
            &pn,
            AccountMode::Managed,
            "AC1",
            t("2026-02-10T00:00:00Z"),
            SignedDuration::from_hours(1),
        )
        .unwrap();
        let (purchased, r) = carried_renewal(&h, true).unwrap();
        assert_eq!(purchased, t("2026-01-01T00:00:00Z"));
        assert_eq!(r.period, Some(2));
        assert_eq!(
            r.next_renewal_at.as_ref().map(micro_ts),
            Some(t("2026-02-26T00:00:00Z")),
            "the next renewal is the one the deleted PhoneNumber would have made"
        );
    }

    #[test]
    fn holds_are_released_when_due_or_when_the_account_goes() {
        let pn = active(AccountMode::BringYourOwn);
        let now = t("2026-02-01T00:00:00Z");
        let mut h = hold_for(
            &pn,
            AccountMode::BringYourOwn,
            "AC1",
            now,
            SignedDuration::from_hours(1),
        )
        .unwrap();
        assert_eq!(
            hold_step(&h, now, false, false),
            HoldStep::Keep {
                until: t("2026-02-01T01:00:00Z")
            }
        );
        assert_eq!(hold_step(&h, now, true, false), HoldStep::Release);
        assert_eq!(
            hold_step(&h, t("2026-02-01T01:00:00Z"), false, false),
            HoldStep::Release
        );
        assert_eq!(hold_step(&h, now, true, true), HoldStep::Forget);
        assert!(adopts(&h, "+14155550100", "PN1"));
        assert!(
            !adopts(&h, "+14155550100", "PN2"),
            "another SID is another number"
        );
        h.releasing = true;
        assert_eq!(hold_step(&h, now, false, false), HoldStep::Release);
        assert!(
            !adopts(&h, "+14155550100", "PN1"),
            "a release in progress is final"
        );
    }
}
