//! `kubectl telephony inventory [--account A]`: per account, its PhoneNumbers (number, phase,
//! monthly fee, next renewal), the monthly total per currency, and the numbers the account owns
//! at Twilio that no PhoneNumber claims (from the account's status).

use super::{InventoryArgs, PluginError, Target, table};
use crate::api::{PhoneNumber, TelephonyAccount};
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::Write;

pub(super) async fn run(
    target: &Target,
    args: &InventoryArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginError> {
    let ns = &target.namespace;
    let accounts: Api<TelephonyAccount> = Api::namespaced(target.client.clone(), ns);
    let mut accounts = accounts
        .list(&ListParams::default())
        .await
        .map_err(|e| PluginError::kube(e, "list", "telephonyaccounts", ns))?
        .items;
    if let Some(only) = &args.account {
        accounts.retain(|a| &a.name_any() == only);
        if accounts.is_empty() {
            return Err(PluginError::NoAccount {
                name: only.clone(),
                namespace: ns.clone(),
            });
        }
    }
    let numbers: Api<PhoneNumber> = Api::namespaced(target.client.clone(), ns);
    let numbers = numbers
        .list(&ListParams::default())
        .await
        .map_err(|e| PluginError::kube(e, "list", "phonenumbers", ns))?
        .items;
    out.write_all(render(&accounts, &numbers).as_bytes())?;
    Ok(())
}

/// The inventory report (pure).
pub fn render(accounts: &[TelephonyAccount], numbers: &[PhoneNumber]) -> String {
    if accounts.is_empty() {
        return "No TelephonyAccount in this namespace.\n".into();
    }
    let mut out = String::new();
    for (i, account) in accounts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let name = account.name_any();
        out.push_str(&format!("ACCOUNT {name} ({})\n", account.spec.mode));
        let mut rows = Vec::new();
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for pn in numbers.iter().filter(|p| p.spec.account_ref.name == name) {
            let st = pn.status.clone().unwrap_or_default();
            let pricing = st.pricing.as_ref();
            if let Some(p) = pricing
                && let Ok(fee) = p.monthly_fee.parse::<Decimal>()
            {
                *totals.entry(p.currency.clone()).or_default() += fee;
            }
            rows.push(vec![
                pn.name_any(),
                table::cell(st.phone_number.as_deref().or(pn.spec.number.as_deref())),
                st.phase
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
                pricing
                    .map(|p| format!("{} {}", p.monthly_fee, p.currency))
                    .unwrap_or_else(|| "-".into()),
                st.renewal
                    .and_then(|r| r.next_renewal_at)
                    .map(|t| t.0.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        if rows.is_empty() {
            out.push_str("  no PhoneNumber\n");
        } else {
            let t = table::render(
                &["NAME", "NUMBER", "PHASE", "MONTHLY", "NEXT RENEWAL"],
                &rows,
            );
            for line in t.lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        let total = if totals.is_empty() {
            "-".to_string()
        } else {
            totals
                .iter()
                .map(|(c, a)| format!("{} {c}", crate::controller::conditions::money(*a)))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        out.push_str(&format!("  monthly total: {total}\n"));
        if let Some(inv) = account.status.as_ref().and_then(|s| s.inventory.as_ref())
            && inv.unclaimed > 0
        {
            let mut line = format!(
                "  owned at Twilio but claimed by no PhoneNumber: {}",
                inv.unclaimed
            );
            if !inv.unclaimed_numbers.is_empty() {
                line.push_str(&format!(" ({})", inv.unclaimed_numbers.join(", ")));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_totals_and_unclaimed_per_account() {
        let account: TelephonyAccount = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "main", "namespace": "team-a"},
            "spec": {"mode": "BringYourOwn", "friendlyName": "x", "credentialsSecretRef": {"name": "t"}},
            "status": {"inventory": {"managed": 2, "unclaimed": 1, "unclaimedNumbers": ["+14155550199"]}}
        }))
        .expect("account");
        let pn = |name: &str, number: &str, fee: &str| -> PhoneNumber {
            serde_json::from_value(json!({
                "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
                "metadata": {"name": name, "namespace": "team-a"},
                "spec": {"accountRef": {"name": "main"}, "number": number},
                "status": {"phase": "Active", "phoneNumber": number,
                           "pricing": {"currency": "USD", "monthlyFee": fee, "source": "TwilioPricingAPI"}}
            }))
            .expect("number")
        };
        let other: PhoneNumber = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "elsewhere", "namespace": "team-a"},
            "spec": {"accountRef": {"name": "other"}, "number": "+14155550150"}
        }))
        .expect("number");
        let report = render(
            &[account],
            &[
                pn("sales", "+14155550100", "1.15"),
                pn("support", "+14155550101", "1.00"),
                other,
            ],
        );
        assert!(
            report.starts_with("ACCOUNT main (BringYourOwn)\n"),
            "{report}"
        );
        assert!(
            report.contains("sales     +14155550100   Active   1.15 USD"),
            "{report}"
        );
        assert!(!report.contains("elsewhere"), "{report}");
        assert!(report.contains("monthly total: 2.15 USD"), "{report}");
        assert!(
            report.contains("claimed by no PhoneNumber: 1 (+14155550199)"),
            "{report}"
        );
    }
}
