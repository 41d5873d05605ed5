//! `kubectl telephony`: the operator's binary as a kubectl plugin. Installed as `kubectl-telephony`
//! on `PATH` (a symlink or a copy; see docs/kubectl-plugin.md), or run as
//! `telephony-operator kubectl-telephony …`. It uses the current kubeconfig context and namespace
//! like kubectl (`--kubeconfig`, `--context`, `-n` override them), talks only to the cluster —
//! never to Twilio: searches run in the operator through a NumberSearch — and prints errors as one
//! line a person can act on. No secret is ever read or printed.
//!
//! Commands: `search` (a NumberSearch created, waited for, printed as a table and deleted), `buy`
//! (the PhoneNumber for one exact number, with the price it will pay), `inventory` (the numbers per
//! account with their monthly fees and renewals, and the numbers no PhoneNumber claims),
//! `release` (a PhoneNumber deleted after showing what stops being billed), `plan` (what applying
//! manifests would do and cost; exit code 2 when something would be refused).

mod buy;
mod error;
mod inventory;
pub mod plan;
mod release;
mod search;
pub mod table;

pub use error::PluginError;

use crate::api::NumberType;
use crate::config::ClusterArgs;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// The name the binary answers to as a kubectl plugin (`kubectl telephony` runs it).
pub const PLUGIN_BINARY: &str = "kubectl-telephony";

/// `kubectl telephony`'s command line.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl-telephony",
    about = "Search, buy and list phone numbers of the telephony operator, in the current kubeconfig context and namespace"
)]
pub struct PluginArgs {
    /// Path to the kubeconfig file to use (instead of `KUBECONFIG` and `~/.kube/config`).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Name of the kubeconfig context to use (default: its current-context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else `default`).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Labels for the objects the plugin creates (NumberSearches, PhoneNumbers), `KEY=VALUE`,
    /// comma-separated or repeated: for example the `--label-selector` of an operator shard.
    #[arg(long, global = true, value_name = "KEY=VALUE", value_delimiter = ',', value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    #[command(subcommand)]
    pub command: PluginCommand,
}

/// The plugin's commands.
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Search available numbers and their prices (creates a NumberSearch, waits for the operator,
    /// prints the candidates and deletes it). Nothing is reserved or bought.
    Search(SearchArgs),
    /// Buy one exact number: writes the PhoneNumber (or prints it with --dry-run) after showing the
    /// price it will pay; the price becomes its spec.maxMonthlyPrice.
    Buy(BuyArgs),
    /// The numbers of each account: phase, monthly fee, next renewal, the monthly total, and
    /// numbers the account owns that no PhoneNumber claims.
    Inventory(InventoryArgs),
    /// Delete a PhoneNumber after showing what stops being billed (the operator releases the
    /// number at Twilio unless its deletionPolicy is Retain).
    Release(ReleaseArgs),
    /// What applying manifests would buy, adopt, release, reconfigure and refuse, and the
    /// monthly cost before and after per account. Reads the cluster and validates the manifests
    /// with server-side dry-run applies (nothing is changed, Twilio is never called); exit code 2
    /// when something would be refused.
    Plan(PlanArgs),
}

/// `plan`'s arguments.
#[derive(clap::Args, Debug, Clone)]
#[command(group = clap::ArgGroup::new("manifests").required(true).multiple(true).args(["filename", "kustomize"]))]
pub struct PlanArgs {
    /// Manifest files or directories (read recursively: .yaml, .yml, .json). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "DIR|FILE")]
    pub filename: Vec<std::path::PathBuf>,
    /// A kustomization directory, rendered like `kubectl apply -k` does (runs `kubectl
    /// kustomize DIR`, so kubectl must be on PATH). Repeatable, and may be combined with -f.
    #[arg(short = 'k', long = "kustomize", value_name = "DIR")]
    pub kustomize: Vec<std::path::PathBuf>,
    /// `text`, `markdown` (a pull-request comment) or `json`.
    #[arg(short = 'o', long, value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,
    /// Do not validate the manifests with server-side dry-run applies (then plan only reads,
    /// and needs only the view role).
    #[arg(long)]
    pub no_server_dry_run: bool,
    /// The Managed rate card (YAML) the operator runs with (its `--rate-card`), so Managed
    /// prices are the ones it will charge; default: the embedded card.
    #[arg(long, value_name = "FILE")]
    pub rate_card: Option<std::path::PathBuf>,
}

/// `plan`'s output formats.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanOutput {
    Text,
    Markdown,
    Json,
}

/// `release`'s arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ReleaseArgs {
    /// The PhoneNumber to delete.
    pub name: String,
    /// Only show what would stop being billed.
    #[arg(long)]
    pub dry_run: bool,
}

/// Search criteria (those of `PhoneNumber.spec.search`).
#[derive(clap::Args, Debug, Clone)]
pub struct SearchArgs {
    /// The TelephonyAccount to search with.
    #[arg(long)]
    pub account: String,
    /// ISO country code (`US`, `GB`).
    #[arg(long, default_value = "US")]
    pub country: String,
    /// Number type.
    #[arg(long = "type", value_enum, default_value_t = TypeArg::Local)]
    pub number_type: TypeArg,
    /// Area code (US/CA).
    #[arg(long)]
    pub area_code: Option<u16>,
    /// Digits or letters the number must contain (`*` matches one character).
    #[arg(long)]
    pub contains: Option<String>,
    /// Only numbers that can send and receive SMS.
    #[arg(long)]
    pub sms: bool,
    /// Only numbers that can make and receive calls.
    #[arg(long)]
    pub voice: bool,
    /// Only numbers that can send and receive MMS.
    #[arg(long)]
    pub mms: bool,
    /// Most candidates (1 to 50).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub limit: u32,
    /// How long to wait for the operator, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

/// `buy`'s arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct BuyArgs {
    /// The E.164 number to buy (as `search` printed it).
    pub number: String,
    /// The TelephonyAccount that buys it.
    #[arg(long)]
    pub account: String,
    /// Name of the PhoneNumber object to write.
    #[arg(long)]
    pub name: String,
    /// ISO country of the number.
    #[arg(long, default_value = "US")]
    pub country: String,
    /// Type of the number.
    #[arg(long = "type", value_enum, default_value_t = TypeArg::Local)]
    pub number_type: TypeArg,
    /// Print the PhoneNumber manifest instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for the operator's price, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

/// `inventory`'s arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct InventoryArgs {
    /// Only this TelephonyAccount.
    #[arg(long)]
    pub account: Option<String>,
}

/// Number type on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeArg {
    #[value(name = "Local", alias = "local")]
    Local,
    #[value(name = "TollFree", alias = "tollfree", alias = "toll-free")]
    TollFree,
    #[value(name = "Mobile", alias = "mobile")]
    Mobile,
}

impl From<TypeArg> for NumberType {
    fn from(t: TypeArg) -> Self {
        match t {
            TypeArg::Local => NumberType::Local,
            TypeArg::TollFree => NumberType::TollFree,
            TypeArg::Mobile => NumberType::Mobile,
        }
    }
}

/// Whether the process was started as the plugin (`argv[0]`'s file name is `kubectl-telephony`).
pub fn invoked_as_plugin(argv0: &std::ffi::OsStr) -> bool {
    std::path::Path::new(argv0)
        .file_stem()
        .is_some_and(|n| n == PLUGIN_BINARY)
}

/// `KEY=VALUE` of `--labels`.
fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// A connected client and the namespace the command acts in.
pub struct Target {
    pub client: kube::Client,
    pub namespace: String,
    /// Labels for the objects the plugin creates (`--labels`).
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Target {
    /// The cluster and namespace of the flags, or of the current kubeconfig context.
    pub async fn connect(args: &PluginArgs) -> Result<Target, PluginError> {
        let cluster = ClusterArgs {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
        };
        let config = cluster
            .kube_config()
            .await
            .map_err(|e| PluginError::NoContext(e.to_string()))?;
        let namespace = args
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client =
            kube::Client::try_from(config).map_err(|e| PluginError::NoContext(e.to_string()))?;
        Ok(Target {
            client,
            namespace,
            labels: args.labels.iter().cloned().collect(),
        })
    }
}

/// Runs one plugin command, printing to `out`.
pub async fn run(args: PluginArgs, out: &mut (dyn Write + Send)) -> Result<(), PluginError> {
    let target = Target::connect(&args).await?;
    match &args.command {
        PluginCommand::Search(s) => search::run(&target, s, out).await,
        PluginCommand::Buy(b) => buy::run(&target, b, out).await,
        PluginCommand::Inventory(i) => inventory::run(&target, i, out).await,
        PluginCommand::Release(r) => release::run(&target, r, out).await,
        PluginCommand::Plan(p) => plan::run(&target, p, out).await,
    }
}

/// The plugin's entry point from `main`: parses `argv` (its first item is the program name),
/// runs the command and turns an error into one line on stderr.
pub async fn main<I, T>(argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match PluginArgs::try_parse_from(argv) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut stdout = std::io::stdout();
    match run(args, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        // The plan was printed; 2 says something in it would be refused.
        Err(e @ PluginError::Refused(_)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How often the plugin looks at an object it waits for.
pub(crate) const POLL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        PluginArgs::command().debug_assert();
    }

    #[test]
    fn argv0_selects_the_plugin() {
        assert!(invoked_as_plugin("kubectl-telephony".as_ref()));
        assert!(invoked_as_plugin(
            "/usr/local/bin/kubectl-telephony".as_ref()
        ));
        assert!(invoked_as_plugin("kubectl-telephony.exe".as_ref()));
        assert!(!invoked_as_plugin("telephony-operator".as_ref()));
        assert!(!invoked_as_plugin("/bin/kubectl".as_ref()));
    }

    #[test]
    fn search_flags_parse_like_the_issue_says() {
        let args = PluginArgs::try_parse_from([
            "kubectl-telephony",
            "-n",
            "team-a",
            "search",
            "--account",
            "main",
            "--country",
            "US",
            "--type",
            "Local",
            "--area-code",
            "415",
            "--sms",
        ])
        .expect("parses");
        assert_eq!(args.namespace.as_deref(), Some("team-a"));
        assert_eq!(args.context, None);
        let PluginCommand::Search(s) = args.command else {
            panic!("search");
        };
        assert_eq!(
            (s.account.as_str(), s.area_code, s.sms, s.voice, s.limit),
            ("main", Some(415), true, false, 10)
        );
        assert_eq!(NumberType::from(s.number_type), NumberType::Local);
        assert!(
            PluginArgs::try_parse_from([
                "kubectl-telephony",
                "search",
                "--account",
                "a",
                "--limit",
                "51"
            ])
            .is_err(),
            "at most 50"
        );
        assert!(
            PluginArgs::try_parse_from(["kubectl-telephony", "search"]).is_err(),
            "--account is required"
        );
        // Like kubectl's, the cluster flags go anywhere.
        let args = PluginArgs::try_parse_from([
            "kubectl-telephony",
            "inventory",
            "--context",
            "prod",
            "--kubeconfig",
            "kc",
            "-n",
            "b",
        ])
        .expect("parses");
        assert_eq!(args.context.as_deref(), Some("prod"));
        assert_eq!(args.kubeconfig.as_deref(), Some(std::path::Path::new("kc")));
        assert_eq!(args.namespace.as_deref(), Some("b"));
    }

    #[test]
    fn plan_takes_files_and_kustomizations_and_labels_parse() {
        let args = PluginArgs::try_parse_from([
            "kubectl-telephony",
            "plan",
            "-k",
            "overlays/prod",
            "-f",
            "extra.yaml",
            "-k",
            "overlays/dev",
            "-o",
            "markdown",
        ])
        .expect("parses");
        let PluginCommand::Plan(p) = args.command else {
            panic!("plan");
        };
        assert_eq!(p.filename, [std::path::PathBuf::from("extra.yaml")]);
        assert_eq!(
            p.kustomize,
            [
                std::path::PathBuf::from("overlays/prod"),
                std::path::PathBuf::from("overlays/dev")
            ]
        );
        assert_eq!(
            (p.output, p.no_server_dry_run),
            (PlanOutput::Markdown, false)
        );
        assert!(
            PluginArgs::try_parse_from(["kubectl-telephony", "plan"]).is_err(),
            "-f or -k is required"
        );
        let args = PluginArgs::try_parse_from([
            "kubectl-telephony",
            "search",
            "--account",
            "a",
            "--labels",
            "shard=a,team=x",
            "--labels",
            "env=prod",
        ])
        .expect("parses");
        assert_eq!(
            args.labels,
            [
                ("shard".to_string(), "a".to_string()),
                ("team".into(), "x".into()),
                ("env".into(), "prod".into())
            ]
        );
        assert!(
            PluginArgs::try_parse_from(["kubectl-telephony", "inventory", "--labels", "novalue"])
                .is_err()
        );
    }
}
