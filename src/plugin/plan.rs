//! `kubectl telephony plan -f DIR|FILE`: what applying the PhoneNumber manifests would do —
//! buy, adopt, release (a PhoneNumber of a namespace the manifests cover that they no longer
//! list: what a GitOps tool's prune does), reconfigure, or refuse (immutable selection changed,
//! price above the guard, Managed credits short, terms not accepted, no account) — and the monthly
//! cost before and after per account and currency. It reads the cluster only and never calls
//! Twilio: a price is the one a PhoneNumber of the same account, country and type already pays, or
//! the built-in rate card for Managed (the operator may be configured with another card), and the
//! plan says which.

use super::{PlanArgs, PlanOutput, PluginError, Target};
use crate::api::{AccountMode, PhoneNumber, TelephonyAccount};
use crate::billing::RateCard;
use crate::controller::conditions::money;
use crate::reconcile::phone_number::status::country_and_type;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One change an apply would make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// `buy`, `adopt`, `release`, `reconfigure` or `refuse`.
    pub action: &'static str,
    pub namespace: String,
    pub name: String,
    pub account: String,
    /// The number, or the search in words.
    pub what: String,
    /// Monthly fee and currency, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Where the price comes from, or why a change is refused, or which fields change.
    pub note: String,
}

/// Monthly cost of one account in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub namespace: String,
    pub account: String,
    pub currency: String,
    pub before: String,
    pub after: String,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unchanged: usize,
    pub costs: Vec<Cost>,
    pub refused: usize,
}

/// What the cluster holds for the namespaces the manifests touch.
#[derive(Default)]
pub struct ClusterState {
    pub numbers: Vec<PhoneNumber>,
    pub accounts: Vec<TelephonyAccount>,
}

pub(super) async fn run(
    target: &Target,
    args: &PlanArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginError> {
    let manifests = load(&args.filename, &target.namespace)?;
    let namespaces: BTreeSet<String> = manifests.iter().filter_map(|m| m.namespace()).collect();
    let mut state = ClusterState::default();
    for ns in &namespaces {
        let pns: Api<PhoneNumber> = Api::namespaced(target.client.clone(), ns);
        state.numbers.extend(
            pns.list(&ListParams::default())
                .await
                .map_err(|e| PluginError::kube(e, "list", "phonenumbers", ns))?
                .items,
        );
        let accounts: Api<TelephonyAccount> = Api::namespaced(target.client.clone(), ns);
        state.accounts.extend(
            accounts
                .list(&ListParams::default())
                .await
                .map_err(|e| PluginError::kube(e, "list", "telephonyaccounts", ns))?
                .items,
        );
    }
    let plan = plan(&manifests, &state, &RateCard::default());
    let text = match args.output {
        PlanOutput::Text => render_text(&plan),
        PlanOutput::Markdown => render_markdown(&plan),
        PlanOutput::Json => serde_json::to_string_pretty(&plan)
            .map(|s| s + "\n")
            .map_err(|e| PluginError::Invalid(format!("rendering the plan: {e}")))?,
    };
    out.write_all(text.as_bytes())?;
    if plan.refused > 0 {
        return Err(PluginError::Refused(plan.refused));
    }
    Ok(())
}

/// The PhoneNumbers of the files (a directory: its `.yaml`/`.yml`/`.json` files, recursively),
/// each in its own namespace or `default_ns`. Other kinds are ignored.
pub fn load(paths: &[PathBuf], default_ns: &str) -> Result<Vec<PhoneNumber>, PluginError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| PluginError::Invalid(format!("reading {}: {e}", file.display())))?;
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| PluginError::Invalid(format!("{}: not YAML: {e}", file.display())))?;
        for doc in docs {
            let is_pn = doc["kind"] == "PhoneNumber"
                && doc["apiVersion"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("telephony.agni.ai/"));
            if !is_pn {
                continue;
            }
            let mut pn: PhoneNumber = serde_json::from_value(doc).map_err(|e| {
                PluginError::Invalid(format!(
                    "{}: a PhoneNumber that does not parse: {e}",
                    file.display()
                ))
            })?;
            if pn.metadata.namespace.is_none() {
                pn.metadata.namespace = Some(default_ns.to_string());
            }
            out.push(pn);
        }
    }
    Ok(out)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), PluginError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| PluginError::Invalid(format!("{}: {e}", path.display())))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| PluginError::Invalid(format!("{}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let manifest = e
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if e.is_dir() || manifest {
                collect(&e, files)?;
            }
        }
    } else {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// The plan of `manifests` against `state` (pure).
pub fn plan(manifests: &[PhoneNumber], state: &ClusterState, card: &RateCard) -> Plan {
    let key = |p: &PhoneNumber| (p.namespace().unwrap_or_default(), p.name_any());
    let account_of = |ns: &str, name: &str| {
        state
            .accounts
            .iter()
            .find(|a| a.namespace().as_deref() == Some(ns) && a.name_any() == name)
    };
    let cluster: BTreeMap<(String, String), &PhoneNumber> =
        state.numbers.iter().map(|p| (key(p), p)).collect();
    let mut costs: BTreeMap<(String, String, String), (Decimal, Decimal)> = BTreeMap::new();
    for pn in &state.numbers {
        if let Some(p) = pn.status.as_ref().and_then(|s| s.pricing.as_ref())
            && let Ok(fee) = p.monthly_fee.parse::<Decimal>()
        {
            let k = key(pn);
            let e = costs
                .entry((k.0, pn.spec.account_ref.name.clone(), p.currency.clone()))
                .or_default();
            e.0 += fee;
            e.1 += fee;
        }
    }
    let mut changes = Vec::new();
    let mut unchanged = 0;
    // Credits each Managed account has left for this plan's buys.
    let mut credits: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for m in manifests {
        let (ns, name) = key(m);
        let account = m.spec.account_ref.name.clone();
        let what = m
            .spec
            .number
            .clone()
            .or_else(|| {
                m.spec
                    .search
                    .as_ref()
                    .map(crate::reconcile::number_search::describe)
            })
            .unwrap_or_default();
        let change = |action, note: String, price: Option<&(Decimal, String)>| Change {
            action,
            namespace: ns.clone(),
            name: name.clone(),
            account: account.clone(),
            what: what.clone(),
            monthly: price.map(|p| money(p.0)),
            currency: price.map(|p| p.1.clone()),
            note,
        };
        if let Some(existing) = cluster.get(&(ns.clone(), name.clone())) {
            if let Some(why) = immutable_change(&existing.spec, &m.spec) {
                changes.push(change("refuse", why, None));
                continue;
            }
            let fields = changed_fields(&existing.spec, &m.spec);
            if fields.is_empty() {
                unchanged += 1;
            } else {
                changes.push(change("reconfigure", fields.join(", "), None));
            }
            continue;
        }
        let Some(acct) = account_of(&ns, &account) else {
            changes.push(change(
                "refuse",
                format!("no TelephonyAccount {account} in namespace {ns}"),
                None,
            ));
            continue;
        };
        let managed = acct.spec.mode == AccountMode::Managed;
        let adopt = m.spec.number.as_ref().is_some_and(|n| {
            acct.status
                .as_ref()
                .and_then(|s| s.inventory.as_ref())
                .is_some_and(|i| i.unclaimed_numbers.contains(n))
        });
        let (price, source) = price_of(m, acct, state, card);
        if managed && !acct.spec.managed.as_ref().is_some_and(|s| s.terms_accepted) {
            changes.push(change(
                "refuse",
                format!("the platform's terms are not accepted on TelephonyAccount {account}"),
                price.as_ref(),
            ));
            continue;
        }
        if let (Some((fee, _)), Some(limit)) = (
            &price,
            m.spec
                .max_monthly_price
                .as_deref()
                .and_then(|l| l.parse::<Decimal>().ok()),
        ) && *fee > limit
        {
            changes.push(change(
                "refuse",
                format!(
                    "price {} above spec.maxMonthlyPrice {}",
                    money(*fee),
                    money(limit)
                ),
                price.as_ref(),
            ));
            continue;
        }
        if managed && !adopt {
            let balance = acct
                .status
                .as_ref()
                .and_then(|s| s.credits.as_ref())
                .and_then(|c| c.balance.trim().parse::<Decimal>().ok())
                .unwrap_or_default();
            let left = credits
                .entry((ns.clone(), account.clone()))
                .or_insert(balance);
            if let Some((fee, _)) = &price {
                if *fee > *left {
                    changes.push(change(
                        "refuse",
                        format!(
                            "credits short: {} left, the number costs {}",
                            money(*left),
                            money(*fee)
                        ),
                        price.as_ref(),
                    ));
                    continue;
                }
                *left -= *fee;
            }
        }
        if let Some((fee, currency)) = &price {
            costs
                .entry((ns.clone(), account.clone(), currency.clone()))
                .or_default()
                .1 += *fee;
        }
        let action = if adopt { "adopt" } else { "buy" };
        changes.push(change(action, source, price.as_ref()));
    }
    let listed: BTreeSet<(String, String)> = manifests.iter().map(key).collect();
    let namespaces: BTreeSet<String> = listed.iter().map(|(ns, _)| ns.clone()).collect();
    for pn in &state.numbers {
        let k = key(pn);
        if !namespaces.contains(&k.0) || listed.contains(&k) {
            continue;
        }
        let st = pn.status.clone().unwrap_or_default();
        let price = st.pricing.as_ref().and_then(|p| {
            p.monthly_fee
                .parse::<Decimal>()
                .ok()
                .map(|f| (f, p.currency.clone()))
        });
        if let Some((fee, currency)) = &price
            && let Some(e) = costs.get_mut(&(
                k.0.clone(),
                pn.spec.account_ref.name.clone(),
                currency.clone(),
            ))
        {
            e.1 -= *fee;
        }
        changes.push(Change {
            action: "release",
            namespace: k.0,
            name: k.1,
            account: pn.spec.account_ref.name.clone(),
            what: st
                .phone_number
                .or_else(|| pn.spec.number.clone())
                .unwrap_or_default(),
            monthly: price.as_ref().map(|p| money(p.0)),
            currency: price.map(|p| p.1),
            note: format!(
                "not in the manifests (pruned); deletionPolicy {:?}",
                pn.spec.deletion_policy
            ),
        });
    }
    let refused = changes.iter().filter(|c| c.action == "refuse").count();
    Plan {
        changes,
        unchanged,
        refused,
        costs: costs
            .into_iter()
            .map(|((namespace, account, currency), (before, after))| Cost {
                namespace,
                account,
                currency,
                before: money(before),
                after: money(after),
            })
            .collect(),
    }
}

fn immutable_change(
    old: &crate::api::PhoneNumberSpec,
    new: &crate::api::PhoneNumberSpec,
) -> Option<String> {
    if old.account_ref != new.account_ref {
        return Some("accountRef is immutable: create a new PhoneNumber".into());
    }
    if old.number != new.number || old.search != new.search {
        return Some(
            "the number selection (number or search) is immutable: create a new PhoneNumber".into(),
        );
    }
    None
}

fn changed_fields(
    old: &crate::api::PhoneNumberSpec,
    new: &crate::api::PhoneNumberSpec,
) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Vec::new();
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("spec.{k}"))
        .collect()
}

/// A price for a new PhoneNumber: what a PhoneNumber of the same account, country and type
/// pays, else the built-in rate card (Managed), else unknown.
fn price_of(
    m: &PhoneNumber,
    acct: &TelephonyAccount,
    state: &ClusterState,
    card: &RateCard,
) -> (Option<(Decimal, String)>, String) {
    let (country, kind) = country_and_type(&m.spec, m.spec.number.as_deref().unwrap_or(""), None);
    let (Some(country), Some(kind)) = (country, kind) else {
        return (
            None,
            "price unknown: the number's country is not known".into(),
        );
    };
    let ns = m.namespace();
    for pn in &state.numbers {
        let st = pn.status.as_ref();
        if pn.namespace() == ns
            && pn.spec.account_ref == m.spec.account_ref
            && st.and_then(|s| s.country.as_deref()) == Some(country.as_str())
            && st.and_then(|s| s.r#type) == Some(kind)
            && let Some(p) = st.and_then(|s| s.pricing.as_ref())
            && let Ok(fee) = p.monthly_fee.parse::<Decimal>()
        {
            return (
                Some((fee, p.currency.clone())),
                format!(
                    "{country} {kind}: the price PhoneNumber {} pays ({})",
                    pn.name_any(),
                    p.source
                ),
            );
        }
    }
    if acct.spec.mode == AccountMode::Managed
        && let Some(r) = card.price_for(&country, kind)
    {
        return (
            Some((r.monthly_fee, r.currency)),
            format!("{country} {kind}: the built-in rate card (the operator may use another)"),
        );
    }
    (
        None,
        format!("{country} {kind}: price unknown until the operator asks Twilio"),
    )
}

fn symbol(action: &str) -> &'static str {
    match action {
        "buy" | "adopt" => "+",
        "release" => "-",
        "reconfigure" => "~",
        _ => "!",
    }
}

fn price_cell(c: &Change) -> String {
    match (&c.monthly, &c.currency) {
        (Some(m), Some(cur)) => format!("{m} {cur}/month"),
        _ => "-".into(),
    }
}

/// The plan for a terminal.
pub fn render_text(plan: &Plan) -> String {
    let rows: Vec<Vec<String>> = plan
        .changes
        .iter()
        .map(|c| {
            vec![
                format!("{} {}", symbol(c.action), c.action),
                format!("{}/{}", c.namespace, c.name),
                c.account.clone(),
                c.what.clone(),
                price_cell(c),
                c.note.clone(),
            ]
        })
        .collect();
    let mut out = if rows.is_empty() {
        "No change.\n".to_string()
    } else {
        super::table::render(
            &[
                "ACTION",
                "PHONENUMBER",
                "ACCOUNT",
                "NUMBER",
                "MONTHLY",
                "NOTE",
            ],
            &rows,
        )
    };
    out.push_str(&format!(
        "{} unchanged, {} refused.\n",
        plan.unchanged, plan.refused
    ));
    for c in &plan.costs {
        out.push_str(&format!(
            "monthly cost {}/{}: {} {} -> {} {}\n",
            c.namespace, c.account, c.before, c.currency, c.after, c.currency
        ));
    }
    out
}

/// The plan as a pull-request comment.
pub fn render_markdown(plan: &Plan) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("### Telephony plan\n\n");
    if plan.changes.is_empty() {
        out.push_str("No change.\n");
    } else {
        out.push_str("| | Action | PhoneNumber | Account | Number | Monthly | Note |\n|---|---|---|---|---|---|---|\n");
        for c in &plan.changes {
            out.push_str(&format!(
                "| {} | {} | `{}/{}` | {} | {} | {} | {} |\n",
                symbol(c.action),
                c.action,
                c.namespace,
                c.name,
                esc(&c.account),
                esc(&c.what),
                price_cell(c),
                esc(&c.note)
            ));
        }
    }
    out.push_str(&format!(
        "\n{} unchanged, **{} refused**.\n",
        plan.unchanged, plan.refused
    ));
    if !plan.costs.is_empty() {
        out.push_str(
            "\n| Account | Currency | Monthly before | Monthly after |\n|---|---|---|---|\n",
        );
        for c in &plan.costs {
            out.push_str(&format!(
                "| `{}/{}` | {} | {} | {} |\n",
                c.namespace, c.account, c.currency, c.before, c.after
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pn(v: serde_json::Value) -> PhoneNumber {
        serde_json::from_value(v).expect("PhoneNumber")
    }

    fn number(name: &str, account: &str, n: &str) -> serde_json::Value {
        json!({"apiVersion": "telephony.agni.ai/v1alpha1", "kind": "PhoneNumber",
               "metadata": {"name": name, "namespace": "t"},
               "spec": {"accountRef": {"name": account}, "number": n}})
    }

    fn active(name: &str, account: &str, n: &str, fee: &str) -> PhoneNumber {
        let mut v = number(name, account, n);
        v["status"] = json!({"phase": "Active", "phoneNumber": n, "country": "US", "type": "Local",
                             "pricing": {"currency": "USD", "monthlyFee": fee, "source": "TwilioPricingAPI"}});
        pn(v)
    }

    fn state() -> ClusterState {
        let byo: TelephonyAccount = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "byo", "namespace": "t"},
            "spec": {"mode": "BringYourOwn", "friendlyName": "b", "credentialsSecretRef": {"name": "s"}},
            "status": {"inventory": {"managed": 2, "unclaimed": 1, "unclaimedNumbers": ["+14155550199"]}}
        }))
        .expect("account");
        let managed: TelephonyAccount = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "m", "namespace": "t"},
            "spec": {"mode": "Managed", "friendlyName": "m", "managed": {"termsAccepted": true, "termsVersion": "2026-01"}},
            "status": {"credits": {"currency": "USD", "granted": "2.00", "spent": "0", "balance": "2.00"}}
        }))
        .expect("account");
        let unaccepted: TelephonyAccount = serde_json::from_value(json!({
            "apiVersion": "telephony.agni.ai/v1alpha1", "kind": "TelephonyAccount",
            "metadata": {"name": "new", "namespace": "t"},
            "spec": {"mode": "Managed", "friendlyName": "n", "managed": {"termsAccepted": false}}
        }))
        .expect("account");
        ClusterState {
            numbers: vec![
                active("kept", "byo", "+14155550100", "1.00"),
                active("voice", "byo", "+14155550101", "1.00"),
                active("moved", "byo", "+14155550102", "1.00"),
                active("gone", "byo", "+14155550103", "1.00"),
            ],
            accounts: vec![byo, managed, unaccepted],
        }
    }

    #[test]
    fn every_kind_of_change_and_the_costs() {
        let mut voice = number("voice", "byo", "+14155550101");
        voice["spec"]["voice"] = json!({"url": "https://example.test/v"});
        let mut guarded = number("pricey", "byo", "+14155550110");
        guarded["spec"]["maxMonthlyPrice"] = json!("0.50");
        let mut search = number("managed-1", "m", "");
        search["spec"] = json!({"accountRef": {"name": "m"}, "search": {"country": "US", "type": "Local", "areaCode": 415}});
        let mut search2 = search.clone();
        search2["metadata"]["name"] = json!("managed-2");
        let manifests: Vec<PhoneNumber> = [
            number("kept", "byo", "+14155550100"),
            voice,
            number("moved", "byo", "+14155550999"),
            number("new-byo", "byo", "+14155550111"),
            number("adopted", "byo", "+14155550199"),
            guarded,
            search,
            search2,
            number("no-terms", "new", "+14155550120"),
            number("orphan", "nobody", "+14155550121"),
        ]
        .into_iter()
        .map(pn)
        .collect();
        let plan = plan(&manifests, &state(), &RateCard::default());
        let by_name = |n: &str| {
            plan.changes
                .iter()
                .find(|c| c.name == n)
                .unwrap_or_else(|| panic!("{n} in {:#?}", plan.changes))
        };
        assert_eq!(plan.unchanged, 1, "kept");
        assert_eq!(by_name("voice").action, "reconfigure");
        assert_eq!(by_name("voice").note, "spec.voice");
        assert_eq!(by_name("moved").action, "refuse");
        assert!(by_name("moved").note.contains("immutable"));
        let new_byo = by_name("new-byo");
        assert_eq!(
            (new_byo.action, new_byo.monthly.as_deref()),
            ("buy", Some("1.00"))
        );
        assert!(
            new_byo.note.contains("the price PhoneNumber kept pays"),
            "{}",
            new_byo.note
        );
        assert_eq!(by_name("adopted").action, "adopt");
        assert_eq!(by_name("pricey").action, "refuse");
        assert!(
            by_name("pricey")
                .note
                .contains("above spec.maxMonthlyPrice 0.50")
        );
        // Managed: the rate card's 1.15 fits the 2.00 credits once, not twice.
        let card = RateCard::default()
            .price_for("US", crate::api::NumberType::Local)
            .expect("US Local");
        assert_eq!(by_name("managed-1").action, "buy");
        assert_eq!(by_name("managed-1").monthly, Some(money(card.monthly_fee)));
        assert!(by_name("managed-1").note.contains("rate card"));
        assert_eq!(by_name("managed-2").action, "refuse");
        assert!(by_name("managed-2").note.contains("credits short"));
        assert!(by_name("no-terms").note.contains("terms are not accepted"));
        assert!(
            by_name("orphan")
                .note
                .contains("no TelephonyAccount nobody")
        );
        let gone = by_name("gone");
        assert_eq!(
            (gone.action, gone.monthly.as_deref()),
            ("release", Some("1.00"))
        );
        assert_eq!(plan.refused, 5);
        // byo: 4.00 before; after: -1 (gone) +1 (new-byo) +1 (adopted) = 5.00.
        let byo = plan
            .costs
            .iter()
            .find(|c| c.account == "byo")
            .expect("byo cost");
        assert_eq!((byo.before.as_str(), byo.after.as_str()), ("4.00", "5.00"));
        let m = plan
            .costs
            .iter()
            .find(|c| c.account == "m")
            .expect("managed cost");
        assert_eq!(
            (m.before.as_str(), m.after.clone()),
            ("0.00", money(card.monthly_fee))
        );
        let md = render_markdown(&plan);
        assert!(md.contains("| ! | refuse | `t/moved` |"), "{md}");
        assert!(md.contains("**5 refused**"), "{md}");
        let text = render_text(&plan);
        assert!(
            text.contains("monthly cost t/byo: 4.00 USD -> 5.00 USD"),
            "{text}"
        );
        let json = serde_json::to_value(&plan).expect("json");
        assert_eq!(json["refused"], 5);
    }

    #[test]
    fn load_reads_a_directory_of_manifests() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("sub")).expect("sub");
        std::fs::write(
            dir.path().join("a.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: telephony.agni.ai/v1alpha1\nkind: PhoneNumber\nmetadata: {name: a}\nspec: {accountRef: {name: byo}, number: '+14155550100'}\n",
        )
        .expect("a");
        std::fs::write(
            dir.path().join("sub/b.yml"),
            "apiVersion: telephony.agni.ai/v1alpha1\nkind: PhoneNumber\nmetadata: {name: b, namespace: other}\nspec: {accountRef: {name: byo}, number: '+14155550101'}\n",
        )
        .expect("b");
        std::fs::write(dir.path().join("notes.txt"), "not a manifest").expect("txt");
        let pns = load(&[dir.path().to_path_buf()], "t").expect("loads");
        let names: Vec<(String, String)> = pns
            .iter()
            .map(|p| (p.namespace().unwrap_or_default(), p.name_any()))
            .collect();
        assert_eq!(
            names,
            [
                ("t".to_string(), "a".to_string()),
                ("other".into(), "b".into())
            ]
        );
    }
}
