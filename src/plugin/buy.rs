//! `kubectl telephony buy NUMBER --account A --name OBJ [--dry-run]`: the price of exactly that
//! number is asked from the operator (a NumberSearch for it: the Pricing API for BringYourOwn, the
//! platform's rate card for Managed), then the PhoneNumber is written — or printed, with the price
//! as comments — with that price as its `spec.maxMonthlyPrice`, so the operator never pays more
//! than what was shown.

use super::{BuyArgs, PluginError, Target, search};
use crate::api::{AccountMode, Candidate, NumberSearch, PhoneNumber, TelephonyAccount};
use kube::Api;
use kube::api::PostParams;
use rust_decimal::Decimal;
use std::io::Write;
use std::time::Duration;

pub(super) async fn run(
    target: &Target,
    args: &BuyArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginError> {
    let ns = &target.namespace;
    if !is_e164(&args.number) {
        return Err(PluginError::Invalid(format!(
            "{:?} is not an E.164 number (+ and 7 to 15 digits, for example +14155550100)",
            args.number
        )));
    }
    let numbers: Api<PhoneNumber> = Api::namespaced(target.client.clone(), ns);
    match numbers.get_opt(&args.name).await {
        Ok(None) => {}
        Ok(Some(_)) => {
            return Err(PluginError::AlreadyExists {
                namespace: ns.clone(),
                name: args.name.clone(),
            });
        }
        Err(e) => return Err(PluginError::kube(e, "get", "phonenumbers", ns)),
    }
    let accounts: Api<TelephonyAccount> = Api::namespaced(target.client.clone(), ns);
    let account = accounts
        .get_opt(&args.account)
        .await
        .map_err(|e| PluginError::kube(e, "get", "telephonyaccounts", ns))?
        .ok_or_else(|| PluginError::NoAccount {
            name: args.account.clone(),
            namespace: ns.clone(),
        })?;
    let country = args.country.to_ascii_uppercase();
    let kind: crate::api::NumberType = args.number_type.into();
    // NANP numbers: their area code narrows the search.
    let area_code = (country == "US" || country == "CA")
        .then(|| args.number.strip_prefix("+1"))
        .flatten()
        .and_then(|rest| rest.get(..3))
        .and_then(|a| a.parse::<u16>().ok())
        .filter(|a| (200..=999).contains(a));
    let criteria = |contains: Option<String>| NumberSearch {
        country: country.clone(),
        r#type: kind,
        area_code,
        contains,
        in_region: None,
        in_locality: None,
        in_postal_code: None,
        near_number: None,
        capabilities: None,
    };
    let timeout = Duration::from_secs(args.timeout);
    let exact = search::search(
        target,
        &args.account,
        criteria(Some(format!("{}$", args.number))),
        1,
        timeout,
    )
    .await?;
    let (candidate, confirmed) = match search::find(&exact, &args.number) {
        Some(c) => (c.clone(), true),
        None => {
            // Not offered by that search (a search is a sample, not the whole stock): the price
            // of its country and type still applies; the operator checks availability when it
            // buys.
            let sample = search::search(target, &args.account, criteria(None), 1, timeout).await?;
            let priced = sample
                .candidates
                .first()
                .filter(|c| c.monthly_fee.is_some())
                .ok_or_else(|| PluginError::NotAvailable {
                    number: args.number.clone(),
                    country: country.clone(),
                    kind: kind.to_string(),
                    account: args.account.clone(),
                })?;
            let c = Candidate {
                phone_number: args.number.clone(),
                monthly_fee: priced.monthly_fee.clone(),
                inbound_per_minute: priced.inbound_per_minute.clone(),
                outbound_per_minute: priced.outbound_per_minute.clone(),
                currency: priced.currency.clone(),
                ..Candidate::default()
            };
            (c, false)
        }
    };
    let candidate = &candidate;
    let credits = credits_after(&account, candidate);
    let mut summary = price_lines(candidate, &account, credits.as_ref());
    if !confirmed {
        summary.push(format!(
            "price of {country} {kind} numbers; {} was not among the numbers Twilio offered just now (the operator checks when it buys)",
            args.number
        ));
    }
    let mut manifest = manifest(&args.name, ns, &args.account, candidate);
    if !target.labels.is_empty() {
        manifest["metadata"]["labels"] = serde_json::json!(target.labels);
    }
    if args.dry_run {
        for line in &summary {
            writeln!(out, "# {line}")?;
        }
        let yaml = serde_saphyr::to_string(&manifest)
            .map_err(|e| PluginError::Invalid(format!("rendering the manifest: {e}")))?;
        writeln!(out, "---")?;
        out.write_all(yaml.as_bytes())?;
        return Ok(());
    }
    let pn: PhoneNumber = serde_json::from_value(manifest)
        .map_err(|e| PluginError::Invalid(format!("building the PhoneNumber: {e}")))?;
    numbers
        .create(&PostParams::default(), &pn)
        .await
        .map_err(|e| PluginError::kube(e, "create", "phonenumbers", ns))?;
    writeln!(out, "phonenumber/{} created", args.name)?;
    for line in &summary {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The PhoneNumber for exactly `candidate`, its price as the guard.
fn manifest(name: &str, ns: &str, account: &str, candidate: &Candidate) -> serde_json::Value {
    let mut spec = serde_json::json!({
        "accountRef": {"name": account},
        "number": candidate.phone_number,
    });
    if let Some(fee) = &candidate.monthly_fee {
        spec["maxMonthlyPrice"] = serde_json::json!(fee);
    }
    serde_json::json!({
        "apiVersion": "telephony.agni.ai/v1alpha1",
        "kind": "PhoneNumber",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    })
}

/// What the purchase costs, in words.
fn price_lines(
    candidate: &Candidate,
    account: &TelephonyAccount,
    credits_after: Option<&(Decimal, String)>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let where_ = [candidate.locality.as_deref(), candidate.region.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let place = if where_.is_empty() {
        String::new()
    } else {
        format!(" ({where_})")
    };
    match (&candidate.monthly_fee, &candidate.currency) {
        (Some(fee), Some(currency)) => {
            let per_minute = match (
                candidate.inbound_per_minute.as_deref(),
                candidate.outbound_per_minute.as_deref(),
            ) {
                (Some(i), Some(o)) => format!("; calls {i} in / {o} out per minute"),
                (Some(i), None) => format!("; calls {i} in per minute"),
                (None, Some(o)) => format!("; calls {o} out per minute"),
                (None, None) => String::new(),
            };
            let renewal = match account.spec.mode {
                AccountMode::Managed => "charged from the prepaid credits now and every 28 days",
                AccountMode::BringYourOwn => "billed monthly by Twilio to your own account",
            };
            lines.push(format!(
                "{}{place}: {fee} {currency} a month{per_minute} ({renewal})",
                candidate.phone_number
            ));
            lines.push(format!(
                "spec.maxMonthlyPrice is {fee}: the operator refuses to pay more"
            ));
        }
        _ => lines.push(format!(
            "{}{place}: no price is known for it",
            candidate.phone_number
        )),
    }
    if let Some((left, currency)) = credits_after {
        let left_str = crate::controller::conditions::money(*left);
        if left.is_sign_negative() {
            lines.push(format!(
                "credits: {left_str} {currency} after it — not enough credits, the purchase will wait"
            ));
        } else {
            lines.push(format!("credits left after it: {left_str} {currency}"));
        }
    }
    lines
}

/// Managed: the credits balance minus the monthly fee (same currency only).
fn credits_after(account: &TelephonyAccount, candidate: &Candidate) -> Option<(Decimal, String)> {
    if account.spec.mode != AccountMode::Managed {
        return None;
    }
    let credits = account.status.as_ref()?.credits.as_ref()?;
    let balance: Decimal = credits.balance.trim().parse().ok()?;
    let fee: Decimal = candidate.monthly_fee.as_deref()?.parse().ok()?;
    (candidate.currency.as_deref() == Some(credits.currency.as_str()))
        .then(|| (balance - fee, credits.currency.clone()))
}

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("14155550100"));
        assert!(!is_e164("+0415555"));
        assert!(!is_e164("+1415 555"));
    }

    #[test]
    fn managed_shows_the_credits_left_after_the_purchase() {
        let account: TelephonyAccount = serde_json::from_value(serde_json::json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "m", "namespace": "team-a"},
            "spec": {"mode": "Managed", "friendlyName": "m"},
            "status": {"credits": {"currency": "USD", "granted": "10.00", "spent": "9.00", "balance": "1.00"}}
        }))
        .expect("account");
        let c = Candidate {
            phone_number: "+14155550100".into(),
            monthly_fee: Some("1.15".into()),
            inbound_per_minute: Some("0.0085".into()),
            outbound_per_minute: Some("0.014".into()),
            currency: Some("USD".into()),
            ..Default::default()
        };
        let left = credits_after(&account, &c);
        assert_eq!(left, Some((Decimal::new(-15, 2), "USD".to_string())));
        let lines = price_lines(&c, &account, left.as_ref());
        assert!(
            lines[0].contains("1.15 USD a month; calls 0.0085 in / 0.014 out per minute"),
            "{lines:?}"
        );
        assert!(lines[0].contains("prepaid credits"), "{lines:?}");
        assert!(lines[2].contains("not enough credits"), "{lines:?}");
    }

    #[test]
    fn the_manifest_guards_the_price_shown() {
        let c = Candidate {
            phone_number: "+14155550100".into(),
            monthly_fee: Some("1.15".into()),
            currency: Some("USD".into()),
            ..Default::default()
        };
        let m = manifest("sales", "team-a", "main", &c);
        assert_eq!(m["spec"]["number"], "+14155550100");
        assert_eq!(m["spec"]["maxMonthlyPrice"], "1.15");
        assert_eq!(m["spec"]["accountRef"]["name"], "main");
        let pn: PhoneNumber = serde_json::from_value(m).expect("a PhoneNumber");
        assert_eq!(pn.spec.number.as_deref(), Some("+14155550100"));
    }
}
