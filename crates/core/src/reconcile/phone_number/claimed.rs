//! The numbers other PhoneNumbers of the same account claim, as a decision reads them: "is this
//! number someone else's?". Built once and shared by every reconcile of the account's
//! PhoneNumbers (an index of number → claimant names, `Arc`), so a reconcile does not walk and
//! copy every other PhoneNumber — at 10,000 numbers that walk made each reconcile O(N).

use std::collections::HashMap;
use std::sync::Arc;

/// Number → the names of the PhoneNumbers (of one namespace and account) that claim it.
pub type ClaimIndex = HashMap<String, Vec<String>>;

/// The numbers claimed by PhoneNumbers other than `me`, plus those found claimed during this
/// reconcile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimedNumbers {
    index: Arc<ClaimIndex>,
    me: String,
    added: Vec<String>,
}

impl ClaimedNumbers {
    /// The claims of `index`, as seen by the PhoneNumber named `me` (its own claims do not count).
    pub fn shared(index: Arc<ClaimIndex>, me: &str) -> Self {
        ClaimedNumbers {
            index,
            me: me.to_string(),
            added: Vec::new(),
        }
    }

    /// Whether a PhoneNumber other than `me` claims `number`.
    pub fn contains(&self, number: &str) -> bool {
        self.added.iter().any(|n| n == number)
            || self
                .index
                .get(number)
                .is_some_and(|names| names.iter().any(|n| *n != self.me))
    }

    /// Records `number` as claimed by someone else (found during this reconcile).
    pub fn push(&mut self, number: String) {
        if !self.contains(&number) {
            self.added.push(number);
        }
    }

    /// Forgets every claim.
    pub fn clear(&mut self) {
        self.index = Arc::default();
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
