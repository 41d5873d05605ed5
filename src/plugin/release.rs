//! `kubectl telephony release OBJ [--dry-run]`: shows what stops being billed, then deletes the
//! PhoneNumber (the operator releases the number at Twilio, or keeps it with `deletionPolicy:
//! Retain`).

use super::{PluginError, ReleaseArgs, Target};
use crate::api::{DeletionPolicy, PhoneNumber};
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
    Ok(())
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
            "phonenumber/{name} ({number}, account {account}): released at Twilio; {} stops being billed",
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
            "phonenumber/sales (+14155550100, account main): released at Twilio; 1.15 USD a month stops being billed"
        );
        pn.spec.deletion_policy = DeletionPolicy::Retain;
        assert!(describe(&pn).contains("still billed (1.15 USD a month)"));
    }
}
