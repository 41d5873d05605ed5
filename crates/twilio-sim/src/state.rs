//! The simulator's mutable state: accounts, API keys, owned numbers, quarantine and purchase log.
//! Kept behind one mutex by [`crate::Simulator`]; every method here is a short, non-blocking step.

use crate::model::OwnedNumber;
use crate::model::PurchaseRecord;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An account or subaccount.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub sid: String,
    pub auth_token: String,
    pub friendly_name: String,
    /// `active`, `suspended`, `closed`.
    pub status: String,
    /// `Full` or `Trial`.
    pub account_type: String,
    /// Parent SID, or the account's own SID for a main account.
    pub owner_sid: String,
    pub balance: Decimal,
    pub test_sid: String,
    pub test_token: String,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
}

impl Account {
    pub fn is_main(&self) -> bool {
        self.owner_sid == self.sid
    }
}

/// An API key (SK…).
#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub secret: String,
    pub account_sid: String,
    pub main: bool,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub accounts: BTreeMap<String, Account>,
    /// test SID → real account SID.
    pub test_sids: HashMap<String, String>,
    pub keys: HashMap<String, ApiKey>,
    /// PN SID → number.
    pub numbers: HashMap<String, OwnedNumber>,
    /// account SID → PN SIDs (sorted: keyset paging).
    pub by_account: HashMap<String, BTreeSet<String>>,
    /// E.164 → PN SID.
    pub by_phone: HashMap<String, String>,
    /// E.164 → end of quarantine.
    pub quarantine: HashMap<String, DateTime<Utc>>,
    pub purchase_log: Vec<PurchaseRecord>,
    pub purchases: u64,
    pub releases: u64,
    pub renewal_charges: u64,
}

impl State {
    /// Whether a number is out of the available inventory (owned or quarantined) at `now`.
    pub fn is_taken(&self, e164: &str, now: DateTime<Utc>) -> bool {
        self.by_phone.contains_key(e164)
            || self.quarantine.get(e164).is_some_and(|until| *until > now)
    }

    /// Inserts a new owned number and logs the purchase.
    pub fn insert_number(&mut self, n: OwnedNumber, log_purchase: bool) {
        self.quarantine.remove(&n.phone_number);
        self.by_phone.insert(n.phone_number.clone(), n.sid.clone());
        self.by_account
            .entry(n.account_sid.clone())
            .or_default()
            .insert(n.sid.clone());
        if log_purchase {
            self.purchases += 1;
            self.purchase_log.push(PurchaseRecord {
                account_sid: n.account_sid.clone(),
                phone_number: n.phone_number.clone(),
                sid: n.sid.clone(),
            });
        }
        self.numbers.insert(n.sid.clone(), n);
    }

    /// Releases a number by SID into quarantine until `until`.
    pub fn release(&mut self, sid: &str, until: DateTime<Utc>) -> Option<OwnedNumber> {
        let n = self.numbers.remove(sid)?;
        self.by_phone.remove(&n.phone_number);
        if let Some(set) = self.by_account.get_mut(&n.account_sid) {
            set.remove(sid);
        }
        self.quarantine.insert(n.phone_number.clone(), until);
        self.releases += 1;
        Some(n)
    }

    /// The number with this E.164 value owned by `account_sid`.
    pub fn owned_by(&self, account_sid: &str, e164: &str) -> Option<&OwnedNumber> {
        let sid = self.by_phone.get(e164)?;
        self.numbers
            .get(sid)
            .filter(|n| n.account_sid == account_sid)
    }

    /// Moves a number to another account.
    pub fn move_number(&mut self, sid: &str, to: &str) {
        let Some(n) = self.numbers.get_mut(sid) else {
            return;
        };
        if let Some(set) = self.by_account.get_mut(&n.account_sid) {
            set.remove(sid);
        }
        n.account_sid = to.to_string();
        self.by_account
            .entry(to.to_string())
            .or_default()
            .insert(sid.to_string());
    }

    /// Subaccounts of a main account, in SID order.
    pub fn subaccounts_of(&self, parent: &str) -> Vec<&Account> {
        self.accounts
            .values()
            .filter(|a| a.owner_sid == parent && a.sid != parent)
            .collect()
    }

    /// The account paying for `sid` (its parent for a subaccount).
    pub fn payer_of(&self, sid: &str) -> Option<&Account> {
        let a = self.accounts.get(sid)?;
        self.accounts.get(&a.owner_sid)
    }
}
