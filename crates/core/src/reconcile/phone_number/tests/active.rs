//! Owned numbers: drift (config put back, NumberLost), pricing, renewal timelines.

use super::*;
use crate::api::condition::{CONFIG_SYNCED, READY, RENEWAL_DUE, STALLED};
use crate::api::{HttpMethod, Phase, RenewalSpec, VoiceConfig};
use crate::reconcile::phone_number::status::micro;
use crate::twilio::ConfigField;

fn active(mode: AccountMode, spec: PhoneNumberSpec) -> (PhoneNumber, Observed) {
    let mut p = pn(spec, None);
    let mut o = obs(mode);
    o.owned = owned(incoming("+14155550100"), t0(), false);
    let d = step(&mut p, &o);
    assert!(matches!(d.action, Action::Confirm { .. }), "{:?}", d.action);
    (p, o)
}

#[test]
fn config_diff_only_covers_declared_fields_and_treats_empty_as_unset() {
    let mut s = spec_number("+14155550100");
    s.friendly_name = Some("Support line".into());
    s.voice = Some(VoiceConfig {
        url: Some("https://example.com/voice".into()),
        ..Default::default()
    });
    let n = incoming("+14155550100"); // voice_url null, sms_url "", friendly "(415) 555-0100"
    let d = config::diff(&s, &n);
    assert_eq!(
        d[ConfigField::FriendlyName].as_deref(),
        Some("Support line")
    );
    assert_eq!(
        d[ConfigField::VoiceUrl].as_deref(),
        Some("https://example.com/voice")
    );
    assert_eq!(d[ConfigField::VoiceMethod].as_deref(), Some("POST"));
    assert!(
        d[ConfigField::SmsUrl].is_none(),
        "undeclared fields are left alone"
    );
    // In sync (method case-insensitive) → empty.
    let mut n2 = n.clone();
    n2.config[ConfigField::FriendlyName] = Some("Support line".into());
    n2.config[ConfigField::VoiceUrl] = Some("https://example.com/voice".into());
    n2.config[ConfigField::VoiceMethod] = Some("post".into());
    assert!(config::diff(&s, &n2).is_empty());
    // GET declared, POST at Twilio → drift.
    s.voice.as_mut().unwrap().method = Some(HttpMethod::Get);
    assert_eq!(
        config::diff(&s, &n2)[ConfigField::VoiceMethod].as_deref(),
        Some("GET")
    );
    // Compliance and sms.
    s.compliance = Some(Box::new(crate::api::Compliance {
        bundle_sid: Some("BU0123456789abcdef0123456789abcdef".into()),
        ..Default::default()
    }));
    s.sms = Some(Box::new(crate::api::SmsConfig {
        url: Some("https://example.com/sms".into()),
        ..Default::default()
    }));
    let d = config::diff(&s, &n2);
    assert_eq!(
        d[ConfigField::BundleSid].as_deref(),
        Some("BU0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        d[ConfigField::SmsUrl].as_deref(),
        Some("https://example.com/sms")
    );
}

#[test]
fn drift_puts_configuration_back() {
    let mut s = spec_number("+14155550100");
    s.friendly_name = Some("Support line".into());
    let (p, mut o) = active(AccountMode::BringYourOwn, s);
    // The adoption itself already asked for the sync; after it, Twilio answers the new name.
    let d = decide(&p, &o);
    match &d.action {
        Action::SyncConfig { sid, diff } => {
            assert_eq!(sid, "PN0123456789abcdef0123456789abcdef");
            assert_eq!(
                diff[ConfigField::FriendlyName].as_deref(),
                Some("Support line")
            );
        }
        other => panic!("{other:?}"),
    }
    let mut synced = incoming("+14155550100");
    synced.config[ConfigField::FriendlyName] = Some("Support line".into());
    o.owned = owned(synced, t0(), true);
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(cond(&d.status, CONFIG_SYNCED), Some(("True", "InSync")));
    assert_eq!(cond(&d.status, READY), Some(("True", "Active")));
    // Twilio refuses the update: stalled with its reason, no loop.
    o.owned = owned(incoming("+14155550100"), t0(), true);
    o.sync_failure = Some(crate::conditions::ReasonMessage::new(
        crate::conditions::Reason::ConfigRejected,
        "bad application sid",
    ));
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(cond(&d.status, STALLED), Some(("True", "ConfigRejected")));
}

#[test]
fn number_missing_from_a_newer_inventory_is_lost_not_rebought() {
    let (mut p, mut o) = active(AccountMode::BringYourOwn, spec_number("+14155550100"));
    // A snapshot older than (or as old as) the purchase proves nothing.
    o.owned = not_owned(t0(), false);
    assert_eq!(
        cond(&decide(&p, &o).status, READY),
        Some(("True", "Active"))
    );
    o.owned = not_owned(ts("2026-03-02T00:00:00Z"), false);
    o.now = ts("2026-03-02T00:00:00Z");
    let d = step(&mut p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(cond(&d.status, READY), Some(("False", "NumberLost")));
    assert_eq!(cond(&d.status, STALLED), Some(("True", "NumberLost")));
    assert_eq!(d.status.phase, Some(Phase::Failed));
    assert!(
        d.status.sid.is_some(),
        "the sid is kept so the number is never bought again"
    );
    // Every later decision keeps it lost: never a Search/RecordIntent/RetryBuy.
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    // ... and writes nothing again: a resync an hour later (a newer snapshot, still without the
    // number) decides the very status already written (no new transition time, no new event).
    let mut later = o.clone();
    later.now = ts("2026-03-02T01:00:00Z");
    later.owned = not_owned(later.now, false);
    assert_eq!(decide(&p, &later).status, d.status);
    assert_eq!(p.status.as_ref(), Some(&decide(&p, &later).status));
    // And if the number comes back, it is Active again.
    o.owned = owned(incoming("+14155550100"), o.now, false);
    let d = decide(&p, &o);
    assert_eq!(d.status.phase, Some(Phase::Active));
    assert_eq!(cond(&d.status, READY), Some(("True", "Active")));
}

#[test]
fn byo_renewal_shows_twilio_billing_date_and_requeues_there() {
    let (p, mut o) = active(AccountMode::BringYourOwn, spec_number("+14155550100"));
    o.now = ts("2026-03-31T13:00:00Z");
    let d = decide(&p, &o);
    let r = d.status.renewal.as_ref().unwrap();
    assert_eq!(r.next_renewal_at, Some(micro(ts("2026-04-01T12:00:00Z"))));
    assert_eq!(d.requeue_at, Some(ts("2026-04-01T12:00:00Z")));
}

fn managed_active(auto_renew: bool) -> (PhoneNumber, Observed) {
    let mut s = spec_number("+14155550100");
    s.renewal = Some(RenewalSpec { auto_renew });
    let (p, o) = active(AccountMode::Managed, s);
    let r = p.status.as_ref().unwrap().renewal.clone().unwrap();
    assert_eq!(r.period, Some(1));
    assert_eq!(r.period_days, Some(28));
    assert_eq!(r.next_renewal_at, Some(micro(ts("2026-03-29T12:00:00Z"))));
    assert_eq!(
        p.status.as_ref().unwrap().pricing.as_ref().unwrap().source,
        "RateCard"
    );
    (p, o)
}

#[test]
fn managed_renewal_charges_at_the_due_time_and_moves_the_cycle() {
    let (mut p, mut o) = managed_active(true);
    o.now = ts("2026-03-20T00:00:00Z");
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(
        d.requeue_at,
        Some(ts("2026-03-29T12:00:00Z")),
        "requeue at the exact deadline"
    );
    assert_eq!(cond(&d.status, RENEWAL_DUE), Some(("False", "Paid")));
    o.now = ts("2026-03-29T12:00:00Z");
    let d = decide(&p, &o);
    assert_eq!(
        d.action,
        Action::Renew {
            period: 2,
            amount: Decimal::new(115, 2),
            due: ts("2026-03-29T12:00:00Z")
        }
    );
    o.renewal = Some(RenewalOutcome::Renewed { period: 2 });
    let d = step(&mut p, &o);
    let r = d.status.renewal.as_ref().unwrap();
    assert_eq!(r.period, Some(2));
    assert_eq!(r.last_renewed_at, Some(micro(ts("2026-03-29T12:00:00Z"))));
    assert_eq!(r.next_renewal_at, Some(micro(ts("2026-04-26T12:00:00Z"))));
    assert_eq!(d.event.unwrap().reason, "Renewed");
    assert_eq!(d.status.phase, Some(Phase::Active));
}

#[test]
fn short_credits_enter_grace_then_renewal_in_window_returns_to_active() {
    let (mut p, mut o) = managed_active(true);
    o.now = ts("2026-03-29T12:00:00Z");
    o.renewal = Some(RenewalOutcome::Refused(
        crate::conditions::ReasonMessage::new(
            crate::conditions::Reason::InsufficientCredits,
            "balance 0.00, needed 1.15",
        ),
    ));
    let d = step(&mut p, &o);
    assert_eq!(d.status.phase, Some(Phase::GracePeriod));
    assert_eq!(
        d.status.renewal.as_ref().unwrap().grace_deadline,
        Some(micro(ts("2026-03-31T12:00:00Z")))
    );
    assert_eq!(
        cond(&d.status, RENEWAL_DUE),
        Some(("True", "InsufficientCredits"))
    );
    // Credits may be topped up any time: retry every 15 minutes (billing's rule) until the deadline.
    assert_eq!(d.requeue_at, Some(ts("2026-03-29T12:15:00Z")));
    assert_eq!(d.event.unwrap().reason, "GracePeriod");
    // Topped up within the window.
    o.now = ts("2026-03-30T12:00:00Z");
    o.renewal = None;
    assert!(matches!(
        decide(&p, &o).action,
        Action::Renew { period: 2, .. }
    ));
    o.renewal = Some(RenewalOutcome::Renewed { period: 2 });
    let d = step(&mut p, &o);
    assert_eq!(d.status.phase, Some(Phase::Active));
    assert!(d.status.renewal.as_ref().unwrap().grace_deadline.is_none());
    assert_eq!(
        d.status.renewal.as_ref().unwrap().next_renewal_at,
        Some(micro(ts("2026-04-26T12:00:00Z")))
    );
}

#[test]
fn auto_renew_off_lapses_after_grace_and_is_released_for_good() {
    let (mut p, mut o) = managed_active(false);
    o.now = ts("2026-03-29T12:00:00Z");
    let d = step(&mut p, &o);
    assert_eq!(d.status.phase, Some(Phase::GracePeriod));
    assert_eq!(cond(&d.status, STALLED), Some(("True", "AutoRenewOff")));
    o.now = ts("2026-03-31T12:00:00Z");
    let d = decide(&p, &o);
    assert_eq!(
        d.action,
        Action::Lapse {
            sid: "PN0123456789abcdef0123456789abcdef".into()
        }
    );
    o.released = true;
    let d = step(&mut p, &o);
    assert_eq!(d.status.phase, Some(Phase::Released));
    assert_eq!(d.event.unwrap().reason, "Lapsed");
    // Released is final: nothing is ever bought again, whatever is observed.
    o.released = false;
    o.owned = not_owned(ts("2026-04-02T00:00:00Z"), true);
    o.now = ts("2026-05-01T00:00:00Z");
    let d = decide(&p, &o);
    assert_eq!(d.action, Action::Wait);
    assert_eq!(d.status.phase, Some(Phase::Released));
}

#[test]
fn credits_still_short_at_the_deadline_lapse() {
    let (mut p, mut o) = managed_active(true);
    o.now = ts("2026-03-29T12:00:00Z");
    let refused = RenewalOutcome::Refused(crate::conditions::ReasonMessage::new(
        crate::conditions::Reason::InsufficientCredits,
        "short",
    ));
    o.renewal = Some(refused.clone());
    step(&mut p, &o);
    o.now = ts("2026-03-31T11:59:00Z");
    o.renewal = None;
    // Within the window every look retries the charge.
    assert!(matches!(
        decide(&p, &o).action,
        Action::Renew { period: 2, .. }
    ));
    o.renewal = Some(refused);
    assert_eq!(
        decide(&p, &o).status.phase,
        Some(crate::api::Phase::GracePeriod)
    );
    // At the deadline (inclusive): lapse.
    o.now = ts("2026-03-31T12:00:00Z");
    o.renewal = None;
    assert!(matches!(decide(&p, &o).action, Action::Lapse { .. }));
}

/// A purchase completed at 12:00:00.500 and a snapshot whose list started at 12:00:00.200 (so it
/// cannot hold the number): no proof of loss. With `purchasedAt` cut to 12:00:00 it was one, and
/// a healthy number was reported NumberLost.
#[test]
fn a_snapshot_listed_before_the_purchase_in_the_same_second_is_no_proof_of_loss() {
    let bought_at = ts("2026-03-01T12:00:00.5Z");
    let mut p = pn(
        spec_search("US"),
        Some(PhoneNumberStatus {
            phase: Some(Phase::Purchasing),
            purchase_intent: Some(Box::new(crate::api::PurchaseIntent {
                phone_number: "+14155550100".into(),
                account_sid: ACC.into(),
                started_at: crate::conditions::time(t0()),
                attempts: 1,
                buy_sent: false,
            })),
            ..Default::default()
        }),
    );
    let mut o = obs(AccountMode::BringYourOwn);
    o.now = bought_at;
    o.owned = owned(incoming("+14155550100"), bought_at, true);
    let d = step(&mut p, &o);
    assert!(matches!(d.action, Action::Confirm { .. }), "{:?}", d.action);
    assert_eq!(
        p.status.as_ref().unwrap().purchased_at,
        Some(micro(bought_at)),
        "full precision"
    );
    // The next resync reads a snapshot listed (started) 300 ms before the purchase completed.
    o.now = ts("2026-03-01T12:00:00.9Z");
    o.owned = not_owned(ts("2026-03-01T12:00:00.2Z"), false);
    let d = decide(&p, &o);
    assert_eq!(cond(&d.status, READY), Some(("True", "Active")));
    assert_eq!(d.status.phase, Some(Phase::Active));
    // A list that started after the purchase completed does prove it.
    o.owned = not_owned(ts("2026-03-01T12:00:00.7Z"), false);
    let d = decide(&p, &o);
    assert_eq!(cond(&d.status, READY), Some(("False", "NumberLost")));
}

/// Issue 12: a restart fetches the Pricing API again; the same prices must not rewrite every
/// PhoneNumber's status (only `fetchedAt` would change).
#[test]
fn the_same_prices_fetched_again_keep_their_time() {
    use crate::reconcile::phone_number::status::{pricing, pricing_since};
    let mut q = quote("1.15", PriceSource::TwilioPricingApi);
    let first = pricing(&q);
    q.fetched_at = Some(t0() + SignedDuration::from_hours(1));
    assert_eq!(
        pricing_since(Some(&first), &q),
        first,
        "unchanged: nothing to write"
    );
    q.monthly_fee = "1.25".parse().unwrap();
    let changed = pricing_since(Some(&first), &q);
    assert_eq!(changed.monthly_fee, "1.25");
    assert_ne!(
        changed.fetched_at, first.fetched_at,
        "a new price has its own time"
    );
}

#[test]
fn a_recorded_quote_reads_back_what_status_shows() {
    use crate::reconcile::phone_number::status::{pricing, recorded_quote};
    for source in [PriceSource::TwilioPricingApi, PriceSource::RateCard] {
        let mut q = quote("1.15", source);
        if source == PriceSource::RateCard {
            q.fetched_at = None; // a rate card has no fetch time in status
        }
        let shown = pricing(&q);
        assert_eq!(recorded_quote(&shown), Some(q.clone()), "{source:?}");
        // Written again from what it read: the same status, so nothing to write.
        assert_eq!(pricing(&recorded_quote(&shown).unwrap()), shown);
    }
    let mut odd = pricing(&quote("1.15", PriceSource::TwilioPricingApi));
    odd.monthly_fee = "one dollar".into();
    assert_eq!(recorded_quote(&odd), None);
    let mut unknown = pricing(&quote("1.15", PriceSource::TwilioPricingApi));
    unknown.source = "Guess".into();
    assert_eq!(recorded_quote(&unknown), None);
}
