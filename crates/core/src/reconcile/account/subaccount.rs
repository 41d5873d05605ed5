//! Managed accounts: the one Twilio subaccount per TelephonyAccount, found by a FriendlyName
//! derived deterministically from the object, so creation is idempotent across crashes, lost
//! responses and replicas (find before create; re-find after an unknown outcome).

use crate::api::TelephonyAccount;
use crate::twilio::Account;
use kube_core::ResourceExt;

/// Twilio's limit on FriendlyName length.
pub const MAX_FRIENDLY_NAME: usize = 64;

fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `agni/<namespace>/<name>/<first 8 chars of uid>`, at most 64 characters. Namespace and name
/// are clipped when long; the UID prefix keeps the name unique to this object (a deleted and
/// re-created account of the same name gets a new subaccount).
pub fn subaccount_friendly_name(account: &TelephonyAccount) -> String {
    let namespace = account.namespace().unwrap_or_default();
    let name = account.name_any();
    let uid = account.uid().unwrap_or_default();
    let uid = clip(&uid, 8);
    // "agni/" + ns + "/" + name + "/" + uid
    let budget = MAX_FRIENDLY_NAME - "agni/".len() - 2 - uid.len();
    let ns = clip(
        &namespace,
        (budget / 2).max(budget.saturating_sub(name.len())),
    );
    let name = clip(&name, budget - ns.len());
    format!("agni/{ns}/{name}/{uid}")
}

/// The subaccount to use among those Twilio lists under `friendly_name`: not closed, not the
/// master account itself, exact name; the oldest (then smallest SID) if a race created several.
pub fn pick_subaccount<'a>(listed: &'a [Account], friendly_name: &str) -> Option<&'a Account> {
    listed
        .iter()
        .filter(|a| a.friendly_name == friendly_name)
        .filter(|a| !a.status.eq_ignore_ascii_case("closed"))
        .filter(|a| a.sid != a.owner_account_sid)
        .min_by(|a, b| {
            a.date_created
                .cmp(&b.date_created)
                .then_with(|| a.sid.cmp(&b.sid))
        })
}

/// Subaccounts that duplicate the chosen one (same FriendlyName, not closed); reported, never
/// closed automatically (they might hold numbers).
pub fn duplicates<'a>(listed: &'a [Account], friendly_name: &str, chosen: &str) -> Vec<&'a str> {
    listed
        .iter()
        .filter(|a| {
            a.friendly_name == friendly_name && a.sid != chosen && a.sid != a.owner_account_sid
        })
        .filter(|a| !a.status.eq_ignore_ascii_case("closed"))
        .map(|a| a.sid.as_str())
        .collect()
}
