//! Monthly renewal charges of owned numbers, run when the simulator's clock moves: each number is
//! billed on the day-of-month of its purchase (clamped to the month's last day, which then becomes
//! the anchor), to the paying (main) account, also while suspended. Optionally, a balance at or
//! below zero suspends the paying account, as Twilio does.

use crate::inventory::NumberType;
use crate::sim::Inner;
use chrono::{DateTime, Months, Utc};

/// The next billing date one month after `t` (chrono clamps to the last day of the month).
pub(crate) fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
    t.checked_add_months(Months::new(1))
        .unwrap_or(t + chrono::Duration::days(30))
}

/// Charges every renewal that is due at the simulator's current time; returns how many.
pub(crate) fn bill_due(inner: &Inner) -> u64 {
    if !inner.settings.monthly_billing {
        return 0;
    }
    let now = inner.now();
    let mut st = inner.lock();
    let mut charges: Vec<(String, rust_decimal::Decimal)> = Vec::new();
    for n in st.numbers.values_mut() {
        while n.next_billing_at <= now {
            let fee = inner
                .settings
                .prices_for(&n.iso_country)
                .and_then(|c| c.monthly_fee(NumberType::price_type_of(&n.number_type)))
                .unwrap_or_default();
            charges.push((n.account_sid.clone(), fee));
            n.next_billing_at = next_month(n.next_billing_at);
        }
    }
    let count = charges.len() as u64;
    for (account, fee) in charges {
        let Some(payer) = st.payer_of(&account).map(|a| a.sid.clone()) else {
            continue;
        };
        if let Some(p) = st.accounts.get_mut(&payer) {
            p.balance -= fee;
            if inner.settings.suspend_at_zero_balance && p.balance <= rust_decimal::Decimal::ZERO {
                p.status = "suspended".into();
                p.date_updated = now;
            }
        }
    }
    st.renewal_charges += count;
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_clamps_to_month_end() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let mut d = t("2026-10-31T10:00:00Z");
        let mut seen = Vec::new();
        for _ in 0..5 {
            d = next_month(d);
            seen.push(d.format("%Y-%m-%d").to_string());
        }
        assert_eq!(
            seen,
            [
                "2026-11-30",
                "2026-12-30",
                "2027-01-30",
                "2027-02-28",
                "2027-03-28"
            ]
        );
    }
}
