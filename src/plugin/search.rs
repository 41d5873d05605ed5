//! `kubectl telephony search`: a NumberSearch created in the namespace, waited for (Ready, or
//! Stalled with the operator's reason), printed as a table, and deleted — also when the wait
//! fails.

use super::{POLL, PluginError, SearchArgs, Target, table};
use crate::api::{
    AccountRef, Candidate, CapabilityFilter, NumberSearch, NumberSearchResource, NumberSearchSpec,
    NumberSearchStatus, TelephonyAccount, condition,
};
use crate::controller::conditions::get_condition;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, ResourceExt};
use std::io::Write;
use std::time::Duration;

/// Prefix of the names of the plugin's NumberSearches.
pub const NAME_PREFIX: &str = "kubectl-telephony-";

pub(super) async fn run(
    target: &Target,
    args: &SearchArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginError> {
    let criteria = NumberSearch {
        country: args.country.to_ascii_uppercase(),
        r#type: args.number_type.into(),
        area_code: args.area_code,
        contains: args.contains.clone(),
        in_region: None,
        in_locality: None,
        in_postal_code: None,
        near_number: None,
        capabilities: (args.sms || args.voice || args.mms).then(|| CapabilityFilter {
            voice: args.voice.then_some(true),
            sms: args.sms.then_some(true),
            mms: args.mms.then_some(true),
        }),
    };
    let status = search(
        target,
        &args.account,
        criteria,
        args.limit,
        Duration::from_secs(args.timeout),
    )
    .await?;
    if status.candidates.is_empty() {
        writeln!(out, "No available number matches.")?;
        return Ok(());
    }
    out.write_all(table::candidates(&status.candidates).as_bytes())?;
    if let Some(source) = &status.price_source {
        let source = match source.as_str() {
            "RateCard" => "the platform's rate card (Managed)",
            _ => "Twilio's Pricing API (BringYourOwn)",
        };
        writeln!(out, "Prices from {source}.")?;
    }
    if let Some(until) = &status.valid_until {
        writeln!(
            out,
            "Not reserved: likely available until {}. Buy one with: kubectl telephony buy NUMBER --account {} --name NAME",
            until.0, args.account
        )?;
    }
    Ok(())
}

/// Creates a NumberSearch for `criteria` on `account`, waits for the operator's answer and deletes
/// the object. The status of a Ready search, or why it failed.
pub(super) async fn search(
    target: &Target,
    account: &str,
    criteria: NumberSearch,
    limit: u32,
    timeout: Duration,
) -> Result<NumberSearchStatus, PluginError> {
    let ns = &target.namespace;
    let accounts: Api<TelephonyAccount> = Api::namespaced(target.client.clone(), ns);
    match accounts.get_opt(account).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(PluginError::NoAccount {
                name: account.to_string(),
                namespace: ns.clone(),
            });
        }
        Err(e) => return Err(PluginError::kube(e, "get", "telephonyaccounts", ns)),
    }
    let api: Api<NumberSearchResource> = Api::namespaced(target.client.clone(), ns);
    let mut obj = NumberSearchResource::new(
        "",
        NumberSearchSpec {
            account_ref: AccountRef {
                name: account.to_string(),
            },
            search: criteria,
            limit,
        },
    );
    obj.metadata.name = None;
    obj.metadata.generate_name = Some(NAME_PREFIX.into());
    if !target.labels.is_empty() {
        obj.metadata.labels = Some(target.labels.clone());
    }
    let created = api
        .create(&PostParams::default(), &obj)
        .await
        .map_err(|e| PluginError::kube(e, "create", "numbersearches", ns))?;
    let name = created.name_any();
    let answer = wait(&api, &name, ns, timeout).await;
    // Deleted whatever the answer (the operator's TTL removes it otherwise).
    let _ = api.delete(&name, &DeleteParams::default()).await;
    answer
}

async fn wait(
    api: &Api<NumberSearchResource>,
    name: &str,
    ns: &str,
    timeout: Duration,
) -> Result<NumberSearchStatus, PluginError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let obj = api
            .get_opt(name)
            .await
            .map_err(|e| PluginError::kube(e, "get", "numbersearches", ns))?
            .ok_or_else(|| {
                PluginError::SearchFailed(format!(
                    "NumberSearch {ns}/{name} was deleted before its answer was read (the operator's --number-search-ttl-seconds is shorter than the wait, or someone deleted it)"
                ))
            })?;
        if let Some(status) = obj.status {
            let current = status.observed_generation.is_some()
                && status.observed_generation == obj.metadata.generation;
            if current && let Some(outcome) = outcome(&status) {
                return outcome.map(|()| status);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(PluginError::Timeout {
                namespace: ns.to_string(),
                name: name.to_string(),
                seconds: timeout.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Ready: `Ok`; Stalled: the operator's reason and message; anything else: not yet (`None`).
fn outcome(status: &NumberSearchStatus) -> Option<Result<(), PluginError>> {
    let ready = get_condition(&status.conditions, condition::READY)?;
    if ready.status == "True" {
        return Some(Ok(()));
    }
    get_condition(&status.conditions, condition::STALLED)
        .filter(|c| c.status == "True")
        .map(|c| {
            Err(PluginError::SearchFailed(format!(
                "{} ({})",
                c.message, c.reason
            )))
        })
}

/// The candidate for exactly `number`, if the search found it.
pub(super) fn find<'a>(status: &'a NumberSearchStatus, number: &str) -> Option<&'a Candidate> {
    status.candidates.iter().find(|c| c.phone_number == number)
}
