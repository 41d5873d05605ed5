//! The account's inventory summary: numbers owned at Twilio and claimed by a PhoneNumber of
//! this account, numbers nobody claims, and the monthly cost of the claimed ones.

use crate::api::{InventoryStatus, Phase, PhoneNumber};
use crate::conditions::{money, parse_money, time};
use crate::reconcile::phone_number::summary::PhoneNumberSummary;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// At most this many unclaimed numbers are listed in status.
pub const MAX_UNCLAIMED_LISTED: usize = 20;

/// A number a PhoneNumber of the account claims, with its monthly fee when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub number: String,
    pub monthly_fee: Option<Decimal>,
    pub currency: Option<String>,
}

/// The claims of the PhoneNumbers (of one namespace) that reference `account_name`, from their
/// summaries: the number in status, else the one a purchase in flight names (its intent: a
/// number bought a moment ago is owned at Twilio before its PhoneNumber records it, and is not
/// "unclaimed"), else spec.number; except numbers already Released.
pub fn claims_of<'a>(
    account_name: &str,
    numbers: impl IntoIterator<Item = &'a PhoneNumberSummary>,
) -> Vec<Claim> {
    numbers
        .into_iter()
        .filter(|pn| pn.account == account_name)
        .filter(|pn| pn.phase != Some(Phase::Released))
        .filter_map(|pn| {
            Some(Claim {
                number: pn.claimed_number()?.to_string(),
                monthly_fee: pn.monthly_fee.as_deref().and_then(parse_money),
                currency: pn.currency.clone(),
            })
        })
        .collect()
}

/// What the account's inventory summary needs of its PhoneNumbers: their claims
/// ([`claims_of`]) and how many are still being worked on
/// ([`PhoneNumberSummary::in_progress`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountNumbers {
    pub claims: Vec<Claim>,
    pub in_progress: usize,
}

impl AccountNumbers {
    /// From the summaries of the PhoneNumbers (of one namespace) that reference `account_name`
    /// (others are skipped), in one pass.
    pub fn of<'a>(
        account_name: &str,
        numbers: impl IntoIterator<Item = &'a PhoneNumberSummary>,
    ) -> Self {
        let mut in_progress = 0;
        let claims = claims_of(
            account_name,
            numbers.into_iter().inspect(|pn| {
                if pn.account == account_name && pn.in_progress {
                    in_progress += 1;
                }
            }),
        );
        Self {
            claims,
            in_progress,
        }
    }
}

/// The names of the PhoneNumbers that reference `account_name` (for the deletion guard).
pub fn referencing(account_name: &str, numbers: &[PhoneNumber]) -> Vec<String> {
    let mut names: Vec<String> = numbers
        .iter()
        .filter(|pn| pn.spec.account_ref.name == account_name)
        .filter_map(|pn| pn.metadata.name.clone())
        .collect();
    names.sort();
    names
}

/// The summary from the numbers the account owns (`owned`, E.164) and the claims.
pub fn summarize(
    owned: &[String],
    claims: &[Claim],
    observed_at: jiff::Timestamp,
) -> InventoryStatus {
    let claimed: BTreeMap<&str, &Claim> = claims.iter().map(|c| (c.number.as_str(), c)).collect();
    let mut managed = 0u32;
    let mut unclaimed: Vec<&str> = Vec::new();
    let mut cost = Decimal::ZERO;
    let mut currency: Option<String> = None;
    let mut seen = std::collections::BTreeSet::new();
    for n in owned {
        if !seen.insert(n.as_str()) {
            continue;
        }
        match claimed.get(n.as_str()) {
            Some(c) => {
                managed += 1;
                if let Some(fee) = c.monthly_fee {
                    cost += fee;
                }
                if currency.is_none() {
                    currency = c.currency.clone();
                }
            }
            None => unclaimed.push(n),
        }
    }
    unclaimed.sort_unstable();
    InventoryStatus {
        managed,
        unclaimed: u32::try_from(unclaimed.len()).unwrap_or(u32::MAX),
        unclaimed_numbers: unclaimed
            .iter()
            .take(MAX_UNCLAIMED_LISTED)
            .map(|s| s.to_string())
            .collect(),
        monthly_cost: Some(money(cost)),
        currency: Some(currency.unwrap_or_else(|| "USD".into())),
        observed_at: Some(time(observed_at)),
    }
}

/// `inv` without the numbers the account holds after their PhoneNumber was deleted: they are
/// listed in `status.heldNumbers`, not as unclaimed.
pub fn without_held(mut inv: InventoryStatus, held: &[crate::api::HeldNumber]) -> InventoryStatus {
    let before = inv.unclaimed_numbers.len();
    inv.unclaimed_numbers
        .retain(|n| !held.iter().any(|h| &h.phone_number == n));
    let removed = (before - inv.unclaimed_numbers.len()) as u32;
    inv.unclaimed = inv.unclaimed.saturating_sub(removed);
    inv
}

#[cfg(test)]
mod held_tests {
    use super::*;

    #[test]
    fn held_numbers_are_not_unclaimed() {
        let now: jiff::Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let owned = ["+14155550101".to_string(), "+14155550102".to_string()];
        let inv = summarize(&owned, &[], now);
        assert_eq!(inv.unclaimed, 2);
        let held: crate::api::HeldNumber = serde_json::from_value(serde_json::json!({
            "phoneNumber": "+14155550102", "sid": "PN2", "accountSid": "AC1",
            "deletedFrom": "old", "heldSince": "2026-03-01T11:00:00Z",
            "releaseAt": "2026-03-01T13:00:00Z"
        }))
        .unwrap();
        let inv = without_held(inv, &[held]);
        assert_eq!(inv.unclaimed, 1);
        assert_eq!(inv.unclaimed_numbers, ["+14155550101"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(
        account: &str,
        number: Option<&str>,
        phase: Option<Phase>,
        busy: bool,
    ) -> PhoneNumberSummary {
        PhoneNumberSummary {
            account: account.into(),
            phase,
            recorded_number: number.map(String::from),
            currency: Some("USD".into()),
            monthly_fee: Some("1.15".into()),
            in_progress: busy,
            ..Default::default()
        }
    }

    #[test]
    fn account_numbers_count_the_claims_and_the_busy_ones_of_that_account_only() {
        let numbers = [
            summary("main", Some("+14155550101"), Some(Phase::Active), false),
            summary("main", None, None, true),
            summary("main", Some("+14155550102"), Some(Phase::Released), false),
            summary("other", Some("+14155550103"), Some(Phase::Active), true),
        ];
        let counted = AccountNumbers::of("main", &numbers);
        assert_eq!(counted.in_progress, 1);
        assert_eq!(counted.claims, claims_of("main", &numbers));
        assert_eq!(
            counted.claims.len(),
            1,
            "no number yet, released, another account"
        );
        assert_eq!(counted.claims[0].number, "+14155550101");
    }
    #[test]
    fn a_number_bought_a_moment_ago_is_managed_not_unclaimed() {
        // Bought at Twilio, its PhoneNumber still in Purchasing with the intent naming it.
        let in_flight = PhoneNumberSummary {
            account: "main".into(),
            phase: Some(Phase::Purchasing),
            intent_number: Some("+14155550104".into()),
            in_progress: true,
            ..Default::default()
        };
        let numbers = [
            summary("main", Some("+14155550101"), Some(Phase::Active), false),
            in_flight,
        ];
        let owned = ["+14155550101".to_string(), "+14155550104".to_string()];
        let now: jiff::Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let inv = summarize(&owned, &claims_of("main", &numbers), now);
        assert_eq!((inv.managed, inv.unclaimed), (2, 0), "{inv:?}");
        assert!(inv.unclaimed_numbers.is_empty());
        assert_eq!(
            inv.monthly_cost.as_deref(),
            Some("1.15"),
            "no fee known yet"
        );
    }
}
