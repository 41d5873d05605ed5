//! `kubectl telephony release OBJ [--dry-run]`: shows what stops being billed, then deletes the
//! PhoneNumber (the operator releases the number at Twilio, or keeps it with `deletionPolicy:
//! Retain`) and says whether the account holds the number for its quarantine window first (and
//! until when a PhoneNumber naming it can still keep it).

use super::{PluginError, ReleaseArgs, Target};
use crate::api::{DeletionPolicy, PhoneNumber, TelephonyAccount};
use kube::Api;
use kube::api::DeleteParams;
use std::io::Write;

pub(super) async fn run(
    target: &Target,
    args: &ReleaseArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginError> {
    let ns = &target.namespace;
    let api: Api<PhoneNumber> = Api::namespaced(target.client.clone(), ns);
    let pn = api
        .get_opt(&args.name)
        .await
        .map_err(|e| PluginError::kube(e, "get", "phonenumbers", ns))?
        .ok_or_else(|| {
            PluginError::Invalid(format!(
                "no PhoneNumber {} in namespace {ns} (kubectl get phonenumbers -n {ns})",
                args.name
            ))
        })?;
    writeln!(out, "{}", describe(&pn))?;
    if args.dry_run {
        return Ok(());
    }
    api.delete(&args.name, &DeleteParams::default())
        .await
        .map_err(|e| PluginError::kube(e, "delete", "phonenumbers", ns))?;
    writeln!(out, "phonenumber/{} deleted", args.name)?;
    if pn.spec.deletion_policy == DeletionPolicy::Release
        && let Some(number) = pn.status.as_ref().and_then(|s| s.phone_number.clone())
        && let Some(until) = held_until(target, &pn, &number).await
    {
        writeln!(
            out,
            "{number} is held by TelephonyAccount {} until {until}: a PhoneNumber of that account naming it in spec.number before then keeps it; it is released at Twilio then",
            pn.spec.account_ref.name
        )?;
    }
    Ok(())
}

/// When the account's hold on `number` ends, if the operator put it on hold (waits up to 10 s
/// for the PhoneNumber to go and the account to list it; `None` if it never does).
async fn held_until(target: &Target, pn: &PhoneNumber, number: &str) -> Option<String> {
    let accounts: Api<TelephonyAccount> = Api::namespaced(target.client.clone(), &target.namespace);
    let numbers: Api<PhoneNumber> = Api::namespaced(target.client.clone(), &target.namespace);
    let name = pn.metadata.name.clone().unwrap_or_default();
    let held_until = async || {
        let account = accounts.get_opt(&pn.spec.account_ref.name).await.ok()??;
        let status = account.status?;
        status
            .held_numbers
            .into_iter()
            .find(|h| h.phone_number == number && h.deleted_from == name)
            .map(|h| h.release_at.0.to_string())
    };
    // Once the PhoneNumber is gone, the account gets one more look (it lists the hold then).
    let mut looks_after_gone = 0;
    for _ in 0..20 {
        if let Some(until) = held_until().await {
            return Some(until);
        }
        if matches!(numbers.get_opt(&name).await, Ok(None)) {
            looks_after_gone += 1;
            if looks_after_gone > 1 {
                return None;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    None
}

/// What deleting `pn` stops (pure).
pub fn describe(pn: &PhoneNumber) -> String {
    let st = pn.status.clone().unwrap_or_default();
    let number = st
        .phone_number
        .or_else(|| pn.spec.number.clone())
        .unwrap_or_else(|| "no number yet".into());
    let fee = st
        .pricing
        .map(|p| format!("{} {} a month", p.monthly_fee, p.currency));
    let account = &pn.spec.account_ref.name;
    let name = pn.metadata.name.as_deref().unwrap_or_default();
    match pn.spec.deletion_policy {
        DeletionPolicy::Release => format!(
            "phonenumber/{name} ({number}, account {account}): released at Twilio (after the account's hold, if the operator keeps deleted numbers for a while); then {} stops being billed",
            fee.unwrap_or_else(|| "nothing known".into())
        ),
        DeletionPolicy::Retain => format!(
            "phonenumber/{name} ({number}, account {account}): deletionPolicy Retain keeps the number in the Twilio account, where it is still billed{}",
            fee.map(|f| format!(" ({f})")).unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn says_what_stops_being_billed() {
        let mut pn: PhoneNumber = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
            "metadata": {"name": "sales", "namespace": "team-a"},
            "spec": {"accountRef": {"name": "main"}, "number": "+14155550100"},
            "status": {"phoneNumber": "+14155550100",
                       "pricing": {"currency": "USD", "monthlyFee": "1.15", "source": "RateCard"}}
        }))
        .expect("number");
        assert_eq!(
            describe(&pn),
            "phonenumber/sales (+14155550100, account main): released at Twilio (after the account's hold, if the operator keeps deleted numbers for a while); then 1.15 USD a month stops being billed"
        );
        pn.spec.deletion_policy = DeletionPolicy::Retain;
        assert!(describe(&pn).contains("still billed (1.15 USD a month)"));
    }
}
