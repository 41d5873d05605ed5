//! `kubectl telephony plan -f DIR|FILE [-k DIR]`: what applying the manifests would do —
//! buy, adopt, release (a PhoneNumber of a namespace the manifests cover that they no longer
//! list: what a GitOps tool's prune does), reconfigure, or refuse (immutable selection changed,
//! price above the guard, Managed credits short, terms not accepted, no account, or anything the
//! API server itself refuses) — and the monthly cost before and after per account and currency.
//!
//! `-k DIR` renders a kustomization like `kubectl apply -k` (it runs `kubectl kustomize DIR`).
//! Every manifest of the telephony.agni.ai kinds is sent to the API server as a server-side
//! apply with `dryRun=All` (field manager [`FIELD_MANAGER`]), so the CRD schema, its CEL rules
//! and the admission policies refuse what they would refuse at apply time; nothing is changed.
//! Conflicts are forced: the plan's field manager is not the applier's, and who owns a field is
//! the real apply's business, not a refusal. Twilio is never called: a price is the one a
//! PhoneNumber of the same account, country and type already pays, or the built-in rate card
//! for Managed (the operator may be configured with another card), and the plan says which.

use super::{PlanArgs, PlanOutput, PluginError, Target};
use crate::api::{AccountMode, CreditGrant, NumberSearchResource, PhoneNumber, TelephonyAccount};
use crate::billing::RateCard;
use crate::controller::conditions::money;
use crate::reconcile::phone_number::status::country_and_type;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, ValidationDirective};
use kube::{Api, ResourceExt};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The field manager of the plan's server-side dry-run applies.
pub const FIELD_MANAGER: &str = "kubectl-telephony-plan";

/// The API group whose manifests the plan validates.
const GROUP: &str = "telephony.agni.ai";

/// One change an apply would make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// `buy`, `adopt`, `release`, `reconfigure` or `refuse`.
    pub action: &'static str,
    /// `PhoneNumber`, or another telephony kind the API server refuses.
    pub kind: String,
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

/// What the API server said about the manifests (server-side dry-run applies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    /// Manifests the server accepted.
    pub accepted: usize,
    /// Manifests the server refused (each a `refuse` change).
    pub refused: usize,
    /// Manifests the server could not validate, and why (forbidden, namespace not created yet).
    pub warnings: Vec<String>,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unchanged: usize,
    pub costs: Vec<Cost>,
    pub refused: usize,
    /// `None` with `--no-server-dry-run`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_dry_run: Option<DryRun>,
}

/// What the cluster holds for the namespaces the manifests touch.
#[derive(Default)]
pub struct ClusterState {
    pub numbers: Vec<PhoneNumber>,
    pub accounts: Vec<TelephonyAccount>,
}

/// One manifest and the file (or kustomization) it came from.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub source: String,
    pub doc: Value,
}

impl Manifest {
    fn kind(&self) -> &str {
        self.doc["kind"].as_str().unwrap_or("")
    }

    fn ours(&self) -> bool {
        self.doc["apiVersion"]
            .as_str()
            .is_some_and(|v| v.split_once('/').is_some_and(|(g, _)| g == GROUP))
    }

    fn name(&self) -> Option<&str> {
        self.doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
    }

    fn namespace_or<'a>(&'a self, default_ns: &'a str) -> &'a str {
        self.doc
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(default_ns)
    }
}

/// A manifest refused before the cluster's state is compared: by the API server's dry run, or
/// because it does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub account: String,
    pub note: String,
}

pub(super) async fn run(
    target: &Target,
    args: &PlanArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), PluginError> {
    let mut manifests = read_files(&args.filename)?;
    for dir in &args.kustomize {
        manifests.extend(kustomize(dir).await?);
    }
    let default_ns = target.namespace.as_str();
    let (numbers, mut refusals) = phone_numbers(&manifests, default_ns);
    let dry_run = if args.no_server_dry_run {
        None
    } else {
        let (server, summary) = dry_run(&target.client, &manifests, default_ns).await?;
        // The server's word replaces a parse error of the same object.
        refusals.retain(|r| {
            !server
                .iter()
                .any(|s| (&s.kind, &s.namespace, &s.name) == (&r.kind, &r.namespace, &r.name))
        });
        refusals.extend(server);
        Some(summary)
    };
    let namespaces: BTreeSet<String> = manifests
        .iter()
        .filter(|m| m.ours() && m.kind() == "PhoneNumber")
        .map(|m| m.namespace_or(default_ns).to_string())
        .collect();
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
    let card = match &args.rate_card {
        None => RateCard::default(),
        Some(path) => RateCard::from_file(path)
            .map_err(|e| PluginError::Invalid(format!("--rate-card {}: {e}", path.display())))?,
    };
    let card_name = match &args.rate_card {
        Some(path) => format!("the rate card {}", path.display()),
        None => BUILT_IN_CARD.to_string(),
    };
    let mut plan = plan_priced(&numbers, &refusals, &state, &card, &card_name);
    plan.server_dry_run = dry_run;
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
/// each in its own namespace or `default_ns`. Other kinds are ignored; a PhoneNumber that does
/// not parse is an error.
pub fn load(paths: &[PathBuf], default_ns: &str) -> Result<Vec<PhoneNumber>, PluginError> {
    let (numbers, refusals) = phone_numbers(&read_files(paths)?, default_ns);
    match refusals.first() {
        Some(r) => Err(PluginError::Invalid(r.note.clone())),
        None => Ok(numbers),
    }
}

/// Every manifest of the files (a directory: its `.yaml`/`.yml`/`.json` files, recursively).
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<Manifest>, PluginError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| PluginError::Invalid(format!("reading {}: {e}", file.display())))?;
        out.extend(parse_stream(&text, &file.display().to_string())?);
    }
    Ok(out)
}

/// The manifests of a YAML (or JSON) stream; the items of a `List` are manifests of their own.
pub fn parse_stream(text: &str, source: &str) -> Result<Vec<Manifest>, PluginError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .map_err(|e| PluginError::Invalid(one_line(&format!("{source}: not YAML: {e}"))))?;
    let mut out = Vec::new();
    for doc in docs {
        let list =
            doc["kind"].as_str().is_some_and(|k| k.ends_with("List")) && doc["items"].is_array();
        if list {
            for item in doc["items"].as_array().into_iter().flatten() {
                out.push(Manifest {
                    source: source.to_string(),
                    doc: item.clone(),
                });
            }
        } else if doc.is_object() {
            out.push(Manifest {
                source: source.to_string(),
                doc,
            });
        }
    }
    Ok(out)
}

/// The manifests of a kustomization directory, rendered as `kubectl apply -k` renders them
/// (`kubectl kustomize DIR`, kubectl from PATH).
pub async fn kustomize(dir: &Path) -> Result<Vec<Manifest>, PluginError> {
    let shown = dir.display().to_string();
    let output = tokio::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PluginError::KubectlMissing { dir: shown.clone() },
            _ => PluginError::KustomizeFailed {
                dir: shown.clone(),
                stderr: e.to_string(),
            },
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = one_line(stderr.trim().trim_start_matches("error: "));
        return Err(PluginError::KustomizeFailed {
            dir: shown,
            stderr: if stderr.is_empty() {
                format!("exit status {}", output.status)
            } else {
                stderr
            },
        });
    }
    let text = String::from_utf8(output.stdout).map_err(|_| PluginError::KustomizeFailed {
        dir: shown.clone(),
        stderr: "its output is not UTF-8".into(),
    })?;
    parse_stream(&text, &format!("kustomization {shown}"))
}

/// The PhoneNumbers among `manifests`, each in its own namespace or `default_ns`, and a refusal
/// for each one that does not parse.
pub fn phone_numbers(manifests: &[Manifest], default_ns: &str) -> (Vec<PhoneNumber>, Vec<Refusal>) {
    let mut numbers = Vec::new();
    let mut refusals = Vec::new();
    for m in manifests {
        if !m.ours() || m.kind() != "PhoneNumber" {
            continue;
        }
        match serde_json::from_value::<PhoneNumber>(m.doc.clone()) {
            Ok(mut pn) => {
                if pn.metadata.namespace.as_deref().is_none_or(str::is_empty) {
                    pn.metadata.namespace = Some(default_ns.to_string());
                }
                numbers.push(pn);
            }
            Err(e) => refusals.push(Refusal {
                kind: "PhoneNumber".into(),
                namespace: m.namespace_or(default_ns).to_string(),
                name: m.name().unwrap_or_default().to_string(),
                account: m.doc["spec"]["accountRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                note: one_line(&format!(
                    "{}: a PhoneNumber that does not parse: {e}",
                    m.source
                )),
            }),
        }
    }
    (numbers, refusals)
}

/// `s` on one line.
fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The plural and scope of a telephony kind.
fn resource_of(kind: &str) -> Option<(String, bool)> {
    use kube::Resource;
    Some(match kind {
        "PhoneNumber" => (PhoneNumber::plural(&()).into_owned(), true),
        "TelephonyAccount" => (TelephonyAccount::plural(&()).into_owned(), true),
        "NumberSearch" => (NumberSearchResource::plural(&()).into_owned(), true),
        "CreditGrant" => (CreditGrant::plural(&()).into_owned(), false),
        _ => return None,
    })
}

/// Each telephony manifest sent as a server-side apply with `dryRun=All`: the API server's
/// refusals (one line each, its message), and what it accepted or could not check. Nothing is
/// changed.
pub async fn dry_run(
    client: &kube::Client,
    manifests: &[Manifest],
    default_ns: &str,
) -> Result<(Vec<Refusal>, DryRun), PluginError> {
    let created_namespaces: BTreeSet<&str> = manifests
        .iter()
        .filter(|m| m.kind() == "Namespace" && m.doc["apiVersion"] == "v1")
        .filter_map(Manifest::name)
        .collect();
    let mut refusals = Vec::new();
    let mut summary = DryRun::default();
    let mut forbidden = BTreeSet::new();
    for m in manifests.iter().filter(|m| m.ours()) {
        let kind = m.kind().to_string();
        let refuse = |namespace: &str, name: &str, note: String| Refusal {
            kind: kind.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            account: match kind.as_str() {
                "TelephonyAccount" => name.to_string(),
                _ => m.doc["spec"]["accountRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            },
            note: one_line(&note),
        };
        let Some((plural, namespaced)) = resource_of(&kind) else {
            refusals.push(refuse(
                m.namespace_or(default_ns),
                m.name().unwrap_or_default(),
                format!("{}: the {GROUP} API has no kind {kind:?}", m.source),
            ));
            continue;
        };
        let ns = if namespaced {
            m.namespace_or(default_ns)
        } else {
            ""
        };
        let Some(name) = m.name() else {
            refusals.push(refuse(
                ns,
                "",
                format!(
                    "{}: a {kind} without metadata.name (an apply needs one)",
                    m.source
                ),
            ));
            continue;
        };
        let api_version = m.doc["apiVersion"].as_str().unwrap_or_default();
        let version = api_version.split_once('/').map_or("", |(_, v)| v);
        let ar = ApiResource {
            group: GROUP.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.clone(),
            plural,
        };
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        let mut body = m.doc.clone();
        if namespaced {
            body["metadata"]["namespace"] = Value::String(ns.to_string());
        } else if let Some(meta) = body["metadata"].as_object_mut() {
            // kustomize's `namespace:` does not know a custom kind is cluster-scoped.
            meta.remove("namespace");
        }
        let params = PatchParams {
            dry_run: true,
            force: true,
            field_manager: Some(FIELD_MANAGER.into()),
            field_validation: Some(ValidationDirective::Strict),
        };
        let shown = if namespaced {
            format!("{kind} {ns}/{name}")
        } else {
            format!("{kind} {name}")
        };
        match api.patch(name, &params, &Patch::Apply(&body)).await {
            Ok(_) => summary.accepted += 1,
            Err(kube::Error::Api(s)) if s.code == 403 => {
                // Not the plan's to refuse: the applier may have rights the reader has not.
                if forbidden.insert((kind.clone(), ns.to_string())) {
                    summary.warnings.push(one_line(&format!(
                        "{shown} and others like it not validated: the dry run is forbidden ({}); it needs the rights of an apply",
                        s.message
                    )));
                }
            }
            Err(kube::Error::Api(s))
                if s.code == 404 && namespaced && created_namespaces.contains(ns) =>
            {
                summary.warnings.push(format!(
                    "{shown} not validated: its namespace is created by this apply"
                ));
            }
            Err(kube::Error::Api(s)) => {
                summary.refused += 1;
                refusals.push(refuse(
                    ns,
                    name,
                    format!("the API server refuses it: {}", s.message),
                ));
            }
            Err(e) => {
                return Err(PluginError::Kube {
                    what: "a dry-run apply",
                    verb: "validate",
                    namespace: ns.to_string(),
                    source: e,
                });
            }
        }
    }
    Ok((refusals, summary))
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
    plan_with(manifests, &[], state, card)
}

/// The plan of `manifests` against `state`, with the manifests already `refused` (by the API
/// server's dry run, or unparsable): a refused PhoneNumber is neither bought nor changed nor
/// pruned (pure).
pub fn plan_with(
    manifests: &[PhoneNumber],
    refused: &[Refusal],
    state: &ClusterState,
    card: &RateCard,
) -> Plan {
    plan_priced(manifests, refused, state, card, BUILT_IN_CARD)
}

/// [`plan_with`], Managed prices from `card`, which the notes call `card_name`.
pub fn plan_priced(
    manifests: &[PhoneNumber],
    refused: &[Refusal],
    state: &ClusterState,
    card: &RateCard,
    card_name: &str,
) -> Plan {
    let refused_numbers: BTreeMap<(String, String), &Refusal> = refused
        .iter()
        .filter(|r| r.kind == "PhoneNumber")
        .map(|r| ((r.namespace.clone(), r.name.clone()), r))
        .collect();
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
    let listed: BTreeSet<(String, String)> = manifests
        .iter()
        .map(key)
        .chain(refused_numbers.keys().cloned())
        .collect();
    let namespaces: BTreeSet<String> = listed.iter().map(|(ns, _)| ns.clone()).collect();
    let pruned = |pn: &PhoneNumber| {
        let k = key(pn);
        namespaces.contains(&k.0) && !listed.contains(&k)
    };
    // The numbers the prune hands back to their accounts (held for the quarantine window, or
    // released): a manifest naming one adopts it — a rename. (ns, account, number) -> its name.
    let handed_back: BTreeMap<(String, String, String), String> = state
        .numbers
        .iter()
        .filter(|pn| pruned(pn))
        .filter_map(|pn| {
            let number = pn
                .status
                .as_ref()
                .and_then(|s| s.phone_number.clone())
                .or_else(|| pn.spec.number.clone())?;
            Some((
                (
                    pn.namespace().unwrap_or_default(),
                    pn.spec.account_ref.name.clone(),
                    number,
                ),
                pn.name_any(),
            ))
        })
        .collect();
    // Who adopts a pruned number: (ns, old name) -> new name.
    let mut adopters: BTreeMap<(String, String), String> = BTreeMap::new();
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
            kind: "PhoneNumber".into(),
            namespace: ns.clone(),
            name: name.clone(),
            account: account.clone(),
            what: what.clone(),
            monthly: price.map(|p| money(p.0)),
            currency: price.map(|p| p.1.clone()),
            note,
        };
        if let Some(r) = refused_numbers.get(&(ns.clone(), name.clone())) {
            changes.push(change("refuse", r.note.clone(), None));
            continue;
        }
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
        let unclaimed = m.spec.number.as_ref().is_some_and(|n| {
            acct.status
                .as_ref()
                .and_then(|s| s.inventory.as_ref())
                .is_some_and(|i| i.unclaimed_numbers.contains(n))
        });
        let held = m.spec.number.as_ref().and_then(|n| {
            acct.status.as_ref().and_then(|s| {
                s.held_numbers
                    .iter()
                    .find(|h| h.phone_number == *n && !h.releasing)
            })
        });
        let renamed = m
            .spec
            .number
            .as_ref()
            .and_then(|n| handed_back.get(&(ns.clone(), account.clone(), n.clone())));
        let adopt = unclaimed || held.is_some() || renamed.is_some();
        let (price, source) = price_of(m, acct, state, card, card_name);
        let source = match (held, renamed) {
            (Some(h), _) => format!(
                "{source}; held by the account since PhoneNumber {} was deleted: this adopts it and cancels its release",
                h.deleted_from
            ),
            (None, Some(old)) => format!(
                "{source}; PhoneNumber {old} is pruned and this adopts its number (a rename: nothing is bought)"
            ),
            (None, None) => source,
        };
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
        if let Some(old) = renamed {
            adopters.insert((ns.clone(), old.clone()), name.clone());
        }
        let action = if adopt { "adopt" } else { "buy" };
        changes.push(change(action, source, price.as_ref()));
    }
    // Refusals of objects the loop above did not see: other kinds, unparsable PhoneNumbers.
    let planned: BTreeSet<(String, String)> = manifests.iter().map(key).collect();
    for r in refused {
        let seen =
            r.kind == "PhoneNumber" && planned.contains(&(r.namespace.clone(), r.name.clone()));
        if !seen {
            changes.push(Change {
                action: "refuse",
                kind: r.kind.clone(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                account: r.account.clone(),
                what: String::new(),
                monthly: None,
                currency: None,
                note: r.note.clone(),
            });
        }
    }
    for pn in &state.numbers {
        if !pruned(pn) {
            continue;
        }
        let k = key(pn);
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
        let note = release_note(
            pn,
            account_of(&k.0, &pn.spec.account_ref.name),
            adopters.get(&k),
        );
        changes.push(Change {
            action: "release",
            kind: "PhoneNumber".into(),
            namespace: k.0,
            name: k.1,
            account: pn.spec.account_ref.name.clone(),
            what: st
                .phone_number
                .or_else(|| pn.spec.number.clone())
                .unwrap_or_default(),
            monthly: price.as_ref().map(|p| money(p.0)),
            currency: price.map(|p| p.1),
            note,
        });
    }
    let refused = changes.iter().filter(|c| c.action == "refuse").count();
    Plan {
        changes,
        unchanged,
        refused,
        server_dry_run: None,
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

/// What happens to a pruned PhoneNumber's number.
fn release_note(
    pn: &PhoneNumber,
    account: Option<&TelephonyAccount>,
    adopter: Option<&String>,
) -> String {
    let acct = &pn.spec.account_ref.name;
    let managed = account.is_some_and(|a| a.spec.mode == AccountMode::Managed);
    let what = match adopter {
        Some(new) => format!("its number is adopted by PhoneNumber {new} (a rename)"),
        None if pn.spec.deletion_policy == crate::api::DeletionPolicy::Retain && !managed => {
            "deletionPolicy Retain: the number stays in the Twilio account (still billed there)"
                .into()
        }
        None => format!(
            "held by TelephonyAccount {acct} for the operator's quarantine window, then released at Twilio (a PhoneNumber naming it in spec.number adopts it before then)"
        ),
    };
    format!("not in the manifests (pruned); {what}")
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

/// Where a Managed price comes from when no `--rate-card` is given.
const BUILT_IN_CARD: &str = "the built-in rate card (the operator may use another: --rate-card)";

/// A price for a new PhoneNumber: what a PhoneNumber of the same account, country and type
/// pays, else the built-in rate card (Managed), else unknown.
fn price_of(
    m: &PhoneNumber,
    acct: &TelephonyAccount,
    state: &ClusterState,
    card: &RateCard,
    card_name: &str,
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
            format!("{country} {kind}: {card_name}"),
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

/// `ns/name` of a PhoneNumber; `Kind ns/name` (or `Kind name`) of another kind.
fn object_cell(c: &Change) -> String {
    let id = if c.namespace.is_empty() {
        c.name.clone()
    } else {
        format!("{}/{}", c.namespace, c.name)
    };
    if c.kind == "PhoneNumber" {
        id
    } else {
        format!("{} {id}", c.kind)
    }
}

/// The dry run's summary lines.
fn dry_run_lines(plan: &Plan) -> Vec<String> {
    let Some(d) = &plan.server_dry_run else {
        return vec!["Not validated by the API server (--no-server-dry-run).".into()];
    };
    let mut lines = vec![format!(
        "API server dry run: {} accepted, {} refused.",
        d.accepted, d.refused
    )];
    lines.extend(d.warnings.iter().map(|w| format!("warning: {w}")));
    lines
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
                object_cell(c),
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
            &["ACTION", "OBJECT", "ACCOUNT", "NUMBER", "MONTHLY", "NOTE"],
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
    for line in dry_run_lines(plan) {
        out.push_str(&line);
        out.push('\n');
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
        out.push_str("| | Action | Object | Account | Number | Monthly | Note |\n|---|---|---|---|---|---|---|\n");
        for c in &plan.changes {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} | {} | {} |\n",
                symbol(c.action),
                c.action,
                object_cell(c),
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
    out.push('\n');
    for line in dry_run_lines(plan) {
        out.push_str(&esc(&line));
        out.push_str("\n\n");
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

    #[test]
    fn refusals_replace_the_change_and_keep_the_number_from_the_prune() {
        let refused = [
            Refusal {
                kind: "PhoneNumber".into(),
                namespace: "t".into(),
                name: "moved".into(),
                account: "byo".into(),
                note: "the API server refuses it: number is immutable".into(),
            },
            Refusal {
                kind: "PhoneNumber".into(),
                namespace: "t".into(),
                name: "gone".into(),
                account: "byo".into(),
                note: "a PhoneNumber that does not parse".into(),
            },
            Refusal {
                kind: "TelephonyAccount".into(),
                namespace: "t".into(),
                name: "byo".into(),
                account: "byo".into(),
                note: "the API server refuses it: friendlyName is required".into(),
            },
        ];
        let manifests: Vec<PhoneNumber> = [
            number("kept", "byo", "+14155550100"),
            number("voice", "byo", "+14155550101"),
            number("moved", "byo", "+14155550102"),
            number("new-byo", "byo", "+14155550111"),
        ]
        .into_iter()
        .map(pn)
        .collect();
        let plan = plan_with(&manifests, &refused, &state(), &RateCard::default());
        let actions: Vec<(&str, &str, &str)> = plan
            .changes
            .iter()
            .map(|c| (c.action, c.kind.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("refuse", "PhoneNumber", "moved"),
                ("buy", "PhoneNumber", "new-byo"),
                ("refuse", "PhoneNumber", "gone"),
                ("refuse", "TelephonyAccount", "byo"),
            ],
            "gone is listed (its manifest does not parse), not pruned"
        );
        assert_eq!((plan.unchanged, plan.refused), (2, 3));
        let text = render_text(&plan);
        assert!(text.contains("TelephonyAccount t/byo"), "{text}");
        assert!(text.contains("Not validated by the API server"), "{text}");
    }

    #[test]
    fn a_stream_and_its_lists() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: telephony.agni.ai/v1alpha1, kind: PhoneNumber, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n---\n---\n{\"apiVersion\": \"telephony.agni.ai/v1alpha1\", \"kind\": \"NumberSearch\", \"metadata\": {\"name\": \"c\", \"namespace\": \"x\"}}\n";
        let ms = parse_stream(text, "f.yaml").expect("parses");
        let ids: Vec<(bool, &str, Option<&str>, &str)> = ms
            .iter()
            .map(|m| (m.ours(), m.kind(), m.name(), m.namespace_or("d")))
            .collect();
        assert_eq!(
            ids,
            [
                (true, "PhoneNumber", Some("a"), "d"),
                (false, "ConfigMap", Some("b"), "d"),
                (true, "NumberSearch", Some("c"), "x"),
            ]
        );
        let (numbers, refusals) = phone_numbers(&ms, "d");
        assert_eq!(numbers.len(), 0);
        assert_eq!(refusals.len(), 1, "a PhoneNumber without a spec");
        assert!(
            refusals[0]
                .note
                .starts_with("f.yaml: a PhoneNumber that does not parse")
        );
        assert!(!refusals[0].note.contains('\n'));
        assert!(parse_stream("a: [", "bad.yaml").is_err());
        assert_eq!(one_line("a\n  b\n\nc "), "a; b; c");
        assert_eq!(
            resource_of("CreditGrant"),
            Some(("creditgrants".to_string(), false))
        );
        assert_eq!(resource_of("NumberSearch").map(|r| r.1), Some(true));
        assert_eq!(resource_of("Other"), None);
    }

    #[test]
    fn a_rename_and_a_held_number_are_adopted_not_bought() {
        let mut st = state();
        st.accounts[0].status.as_mut().expect("status").held_numbers = vec![
            serde_json::from_value(json!({
                "phoneNumber": "+14155550198", "sid": "PN1", "accountSid": "AC1",
                "deletedFrom": "old-line", "heldSince": "2026-12-01T00:00:00.000000Z",
                "releaseAt": "2026-12-01T01:00:00.000000Z"
            }))
            .expect("held number"),
        ];
        let mut retained = active("kept-at-twilio", "byo", "+14155550104", "1.00");
        retained.spec.deletion_policy = crate::api::DeletionPolicy::Retain;
        st.numbers.push(retained);
        // "gone" becomes "renamed" (same number); "voice" is pruned; the held number comes back.
        let manifests: Vec<PhoneNumber> = [
            number("kept", "byo", "+14155550100"),
            number("moved", "byo", "+14155550102"),
            number("renamed", "byo", "+14155550103"),
            number("back", "byo", "+14155550198"),
        ]
        .into_iter()
        .map(pn)
        .collect();
        let plan = plan(&manifests, &st, &RateCard::default());
        let by_name = |n: &str| {
            plan.changes
                .iter()
                .find(|c| c.name == n)
                .unwrap_or_else(|| panic!("{n} in {:#?}", plan.changes))
        };
        assert_eq!(by_name("renamed").action, "adopt");
        assert!(
            by_name("renamed")
                .note
                .contains("PhoneNumber gone is pruned"),
            "{:?}",
            by_name("renamed")
        );
        assert_eq!(by_name("gone").action, "release");
        assert!(
            by_name("gone")
                .note
                .contains("adopted by PhoneNumber renamed"),
            "{:?}",
            by_name("gone")
        );
        assert_eq!(by_name("back").action, "adopt");
        assert!(
            by_name("back")
                .note
                .contains("since PhoneNumber old-line was deleted")
        );
        assert!(
            by_name("voice").note.contains("quarantine window"),
            "{:?}",
            by_name("voice")
        );
        assert!(
            by_name("kept-at-twilio")
                .note
                .contains("deletionPolicy Retain")
        );
        assert_eq!(plan.refused, 0);
    }
}
