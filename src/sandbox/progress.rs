//! What the sandbox shows: a one-line progress summary while objects converge, the final table,
//! and the reasons of whatever is not Ready.

use crate::api::{PhoneNumber, TelephonyAccount, condition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use std::collections::BTreeMap;

fn ready(conds: &[Condition]) -> Option<&Condition> {
    conds.iter().find(|c| c.type_ == condition::READY)
}

fn is_ready(conds: &[Condition], generation: Option<i64>) -> bool {
    ready(conds).is_some_and(|c| {
        c.status == "True"
            && c.observed_generation
                .zip(generation)
                .is_none_or(|(o, g)| o >= g)
    })
}

/// Whether a PhoneNumber is Ready for its current generation.
pub fn number_ready(pn: &PhoneNumber) -> bool {
    pn.status
        .as_ref()
        .is_some_and(|s| is_ready(&s.conditions, pn.metadata.generation))
}

/// Whether a TelephonyAccount is Ready for its current generation.
pub fn account_ready(a: &TelephonyAccount) -> bool {
    a.status
        .as_ref()
        .is_some_and(|s| is_ready(&s.conditions, a.metadata.generation))
}

/// One line: how many objects are Ready, and the phases of the numbers.
pub fn summary_line(accounts: &[TelephonyAccount], numbers: &[PhoneNumber]) -> String {
    let accounts_ready = accounts.iter().filter(|a| account_ready(a)).count();
    let numbers_ready = numbers.iter().filter(|n| number_ready(n)).count();
    let mut phases: BTreeMap<String, usize> = BTreeMap::new();
    for n in numbers {
        let phase = n
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "New".into());
        *phases.entry(phase).or_default() += 1;
    }
    let phases: Vec<String> = phases
        .into_iter()
        .map(|(p, c)| format!("{p} {c}"))
        .collect();
    format!(
        "accounts {accounts_ready}/{} ready · numbers {numbers_ready}/{} ready ({})",
        accounts.len(),
        numbers.len(),
        phases.join(", ")
    )
}

/// The final table: number, account, phase, monthly fee, next renewal.
pub fn table(numbers: &[PhoneNumber]) -> String {
    let header = [
        "NAMESPACE/NAME",
        "NUMBER",
        "ACCOUNT",
        "PHASE",
        "MONTHLY",
        "NEXT RENEWAL",
        "READY",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for pn in numbers {
        let status = pn.status.clone().unwrap_or_default();
        let monthly = status
            .pricing
            .as_ref()
            .map(|p| format!("{} {}", p.monthly_fee, p.currency))
            .unwrap_or_else(|| "-".into());
        let renews = status
            .renewal
            .as_ref()
            .and_then(|r| {
                let at = r
                    .next_renewal_at
                    .as_ref()
                    .map(|t| t.0.strftime("%Y-%m-%d %H:%M").to_string());
                at.map(|at| format!("{at} ({:?})", r.policy))
            })
            .unwrap_or_else(|| "-".into());
        let ready = ready(&status.conditions)
            .map(|c| {
                if c.status == "True" {
                    "True".to_string()
                } else {
                    format!("False ({})", c.reason)
                }
            })
            .unwrap_or_else(|| "-".into());
        rows.push([
            format!("{}/{}", pn.namespace().unwrap_or_default(), pn.name_any()),
            status.phone_number.unwrap_or_else(|| "-".into()),
            pn.spec.account_ref.name.clone(),
            status
                .phase
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            monthly,
            renews,
            ready,
        ]);
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// One line per object that is not Ready, with its reason and message.
pub fn not_ready_reasons(accounts: &[TelephonyAccount], numbers: &[PhoneNumber]) -> Vec<String> {
    let describe = |kind: &str, ns: String, name: String, conds: Option<&Vec<Condition>>| {
        let (reason, message) = conds
            .and_then(|c| ready(c))
            .map(|c| (c.reason.clone(), c.message.clone()))
            .unwrap_or_else(|| {
                (
                    "NoStatus".into(),
                    "the operator has not reported on it yet".into(),
                )
            });
        format!("{kind} {ns}/{name}: {reason}: {message}")
    };
    let mut out = Vec::new();
    for a in accounts.iter().filter(|a| !account_ready(a)) {
        out.push(describe(
            "TelephonyAccount",
            a.namespace().unwrap_or_default(),
            a.name_any(),
            a.status.as_ref().map(|s| &s.conditions),
        ));
    }
    for n in numbers.iter().filter(|n| !number_ready(n)) {
        out.push(describe(
            "PhoneNumber",
            n.namespace().unwrap_or_default(),
            n.name_any(),
            n.status.as_ref().map(|s| &s.conditions),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AccountRef, Phase, PhoneNumberSpec, PhoneNumberStatus, Pricing};

    fn pn(name: &str, ready: Option<&str>, phase: Option<Phase>) -> PhoneNumber {
        let mut pn = PhoneNumber::new(
            name,
            PhoneNumberSpec {
                account_ref: AccountRef {
                    name: "acct".into(),
                },
                number: Some("+14155550100".into()),
                search: None,
                friendly_name: None,
                voice: None,
                sms: None,
                compliance: None,
                max_monthly_price: None,
                renewal: None,
                deletion_policy: Default::default(),
            },
        );
        pn.metadata.namespace = Some("ns".into());
        pn.metadata.generation = Some(1);
        pn.status = Some(PhoneNumberStatus {
            phase,
            phone_number: Some("+14155550100".into()),
            pricing: Some(Pricing {
                currency: "USD".into(),
                monthly_fee: "1.15".into(),
                source: "RateCard".into(),
                ..Default::default()
            }),
            conditions: ready
                .map(|s| {
                    vec![Condition {
                        type_: "Ready".into(),
                        status: s.into(),
                        reason: if s == "True" {
                            "Active".into()
                        } else {
                            "PriceAboveLimit".into()
                        },
                        message: "m".into(),
                        observed_generation: Some(1),
                        last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                            jiff::Timestamp::UNIX_EPOCH,
                        ),
                    }]
                })
                .unwrap_or_default(),
            ..Default::default()
        });
        pn
    }

    #[test]
    fn summary_counts_ready_and_phases() {
        let numbers = vec![
            pn("a", Some("True"), Some(Phase::Active)),
            pn("b", Some("False"), Some(Phase::Pending)),
            pn("c", None, None),
        ];
        let line = summary_line(&[], &numbers);
        assert!(line.contains("numbers 1/3 ready"), "{line}");
        assert!(
            line.contains("Active 1") && line.contains("Pending 1") && line.contains("New 1"),
            "{line}"
        );
    }

    #[test]
    fn table_and_reasons_show_what_matters() {
        let numbers = vec![
            pn("a", Some("True"), Some(Phase::Active)),
            pn("b", Some("False"), Some(Phase::Pending)),
        ];
        let t = table(&numbers);
        assert!(t.lines().next().unwrap().starts_with("NAMESPACE/NAME"));
        assert!(
            t.contains("ns/a") && t.contains("1.15 USD") && t.contains("False (PriceAboveLimit)"),
            "{t}"
        );
        let reasons = not_ready_reasons(&[], &numbers);
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].contains("ns/b: PriceAboveLimit"));
    }
}
