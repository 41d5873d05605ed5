//! The numbers other PhoneNumbers of the same account claim, as a decision reads them: "is this
//! number someone else's?". Answered by an index of number → claimant names shared by every
//! reconcile of the account's PhoneNumbers (`ClaimLookup`, behind an `Arc`), so a reconcile does
//! not walk and copy every other PhoneNumber — at 10,000 numbers that walk made each reconcile
//! O(N). The shell keeps one such index up to date from its watch; tests pass a plain map.

use std::collections::HashMap;
use std::sync::Arc;

/// Number → the names of the PhoneNumbers (of one namespace and account) that claim it.
pub type ClaimIndex = HashMap<String, Vec<String>>;

/// Who claims a number, among the PhoneNumbers of one namespace and account.
pub trait ClaimLookup: Send + Sync {
    /// Whether a PhoneNumber not named `me` claims `number`.
    fn claimed_by_other_than(&self, number: &str, me: &str) -> bool;
}

impl ClaimLookup for ClaimIndex {
    fn claimed_by_other_than(&self, number: &str, me: &str) -> bool {
        self.get(number)
            .is_some_and(|names| names.iter().any(|n| n != me))
    }
}

/// The numbers claimed by PhoneNumbers other than `me`, plus those found claimed during this
/// reconcile.
#[derive(Clone)]
pub struct ClaimedNumbers {
    index: Arc<dyn ClaimLookup>,
    me: String,
    added: Vec<String>,
}

/// The index of no claims (one, so that empty `ClaimedNumbers` compare equal).
fn no_claims() -> Arc<dyn ClaimLookup> {
    static EMPTY: std::sync::LazyLock<Arc<dyn ClaimLookup>> =
        std::sync::LazyLock::new(|| Arc::new(ClaimIndex::new()));
    EMPTY.clone()
}

impl Default for ClaimedNumbers {
    fn default() -> Self {
        ClaimedNumbers {
            index: no_claims(),
            me: String::new(),
            added: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ClaimedNumbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedNumbers")
            .field("me", &self.me)
            .field("added", &self.added)
            .finish_non_exhaustive()
    }
}

/// Equal when they answer from the same index, for the same PhoneNumber, with the same additions.
impl PartialEq for ClaimedNumbers {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.index), Arc::as_ptr(&other.index))
            && self.me == other.me
            && self.added == other.added
    }
}

impl ClaimedNumbers {
    /// The claims of `index`, as seen by the PhoneNumber named `me` (its own claims do not count).
    pub fn shared(index: Arc<dyn ClaimLookup>, me: &str) -> Self {
        ClaimedNumbers {
            index,
            me: me.to_string(),
            added: Vec::new(),
        }
    }

    /// Whether a PhoneNumber other than `me` claims `number`.
    pub fn contains(&self, number: &str) -> bool {
        self.added.iter().any(|n| n == number) || self.index.claimed_by_other_than(number, &self.me)
    }

    /// Records `number` as claimed by someone else (found during this reconcile).
    pub fn push(&mut self, number: String) {
        if !self.contains(&number) {
            self.added.push(number);
        }
    }

    /// Forgets every claim.
    pub fn clear(&mut self) {
        self.index = no_claims();
        self.added.clear();
    }
}

impl From<Vec<String>> for ClaimedNumbers {
    fn from(added: Vec<String>) -> Self {
        ClaimedNumbers {
            added,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_numbers_own_claim_does_not_count() {
        let index: ClaimIndex = [
            ("+14155550100".to_string(), vec!["me".to_string()]),
            ("+14155550101".to_string(), vec!["other".to_string()]),
            (
                "+14155550102".to_string(),
                vec!["me".to_string(), "other".to_string()],
            ),
        ]
        .into();
        let mut c = ClaimedNumbers::shared(Arc::new(index), "me");
        assert!(!c.contains("+14155550100"), "mine");
        assert!(c.contains("+14155550101"));
        assert!(c.contains("+14155550102"), "claimed by another too");
        assert!(!c.contains("+14155550199"));
        c.push("+14155550199".into());
        assert!(c.contains("+14155550199"));
        c.clear();
        assert!(!c.contains("+14155550101"));
    }
}
