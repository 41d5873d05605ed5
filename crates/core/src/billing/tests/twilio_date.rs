//! Twilio's BringYourOwn billing dates (twilio-api-notes §10).

use super::ts;
use crate::billing::twilio_next_billing_date;

/// The billing dates after `bought`, in order, by asking for the next one after each.
fn dates(bought: &str, n: usize) -> Vec<String> {
    let p = ts(bought);
    let mut now = p;
    (0..n)
        .map(|_| {
            now = twilio_next_billing_date(p, now);
            now.to_string()
        })
        .collect()
}

#[test]
fn day_31_falls_back_to_month_end_and_that_becomes_the_anchor() {
    // 2026-10-31 → 30 Nov → 30 Dec → 28 Feb 2027 (not leap) → 28 Mar → 28 Apr ...
    assert_eq!(
        dates("2026-10-31T15:00:00Z", 7),
        [
            "2026-11-30T15:00:00Z",
            "2026-12-30T15:00:00Z",
            "2027-01-30T15:00:00Z",
            "2027-02-28T15:00:00Z",
            "2027-03-28T15:00:00Z",
            "2027-04-28T15:00:00Z",
            "2027-05-28T15:00:00Z",
        ]
    );
}

#[test]
fn leap_year_february_anchors_on_the_29th() {
    assert_eq!(
        dates("2027-10-31T00:00:00Z", 6),
        [
            "2027-11-30T00:00:00Z",
            "2027-12-30T00:00:00Z",
            "2028-01-30T00:00:00Z",
            "2028-02-29T00:00:00Z",
            "2028-03-29T00:00:00Z",
            "2028-04-29T00:00:00Z",
        ]
    );
}

#[test]
fn days_that_exist_every_month_never_move() {
    assert_eq!(
        dates("2026-01-15T08:30:00Z", 13).last().unwrap(),
        "2027-02-15T08:30:00Z"
    );
    // The 30th survives until February.
    assert_eq!(
        dates("2026-12-30T00:00:00Z", 3),
        [
            "2027-01-30T00:00:00Z",
            "2027-02-28T00:00:00Z",
            "2027-03-28T00:00:00Z"
        ]
    );
}

#[test]
fn the_result_is_strictly_after_now() {
    let p = ts("2026-01-31T10:00:00Z");
    // Before and at the purchase: one month after it (the purchase month is paid at purchase).
    assert_eq!(
        twilio_next_billing_date(p, ts("2025-06-01T00:00:00Z")),
        ts("2026-02-28T10:00:00Z")
    );
    assert_eq!(twilio_next_billing_date(p, p), ts("2026-02-28T10:00:00Z"));
    // One second before a billing instant → that instant; exactly at it → the next one.
    assert_eq!(
        twilio_next_billing_date(p, ts("2026-03-28T09:59:59Z")),
        ts("2026-03-28T10:00:00Z")
    );
    assert_eq!(
        twilio_next_billing_date(p, ts("2026-03-28T10:00:00Z")),
        ts("2026-04-28T10:00:00Z")
    );
    // Years later: still the 28th.
    assert_eq!(
        twilio_next_billing_date(p, ts("2030-07-01T00:00:00Z")),
        ts("2030-07-28T10:00:00Z")
    );
}

#[test]
fn uses_utc_days() {
    // 23:30 UTC on the 31st: the anchor is the UTC day, whatever the local day was.
    assert_eq!(dates("2026-03-31T23:30:00Z", 1), ["2026-04-30T23:30:00Z"]);
}

#[test]
fn far_future_does_not_panic() {
    let p = ts("9999-11-30T00:00:00Z");
    assert_eq!(twilio_next_billing_date(p, p), ts("9999-12-30T00:00:00Z"));
    assert_eq!(
        twilio_next_billing_date(p, ts("9999-12-30T00:00:00Z")),
        jiff::Timestamp::MAX
    );
}
