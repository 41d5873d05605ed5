//! `telephony-operator`: the operator (`run`), its CRDs (`crd`), and — with the default
//! `sandbox` feature, not in the deployable build — the self-contained demo (`sandbox`) and the
//! Twilio simulator on its own (`twilio-sim`).

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;
use telephony_operator::clock::SystemClock;
use telephony_operator::config::{ClusterArgs, OperatorConfig};
#[cfg(feature = "sandbox")]
use telephony_operator::sandbox;
use telephony_operator::{api, observability, operator, plugin};
use tokio_util::sync::CancellationToken;

/// The crate version and the git commit it was built from (`unknown` outside a git checkout;
/// see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TELEPHONY_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "telephony-operator",
    version = VERSION,
    about = "Phone numbers as Kubernetes resources, bought and renewed at Twilio"
)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the operator against the cluster of --kubeconfig/--context, KUBECONFIG, or the
    /// in-cluster configuration.
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions (YAML) generated from the Rust types.
    Crd,
    /// Start a Kubernetes API emulator, the Twilio simulator and the operator on 127.0.0.1,
    /// apply examples/ and show them converge.
    #[cfg(feature = "sandbox")]
    Sandbox(sandbox::SandboxArgs),
    /// Serve the Twilio simulator alone (for local development and CI).
    #[cfg(feature = "sandbox")]
    TwilioSim(sandbox::twilio_sim_cmd::TwilioSimArgs),
    /// The kubectl plugin (`kubectl telephony …`; also what the binary runs when it is installed
    /// as `kubectl-telephony`): search, buy and inventory in the current kubeconfig context.
    #[command(name = "kubectl-telephony", disable_help_flag = true)]
    KubectlTelephony {
        /// The plugin's arguments (`kubectl-telephony --help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

/// `run`'s flags: the cluster to talk to, and the operator's configuration.
#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    operator: OperatorConfig,
}

fn main() -> ExitCode {
    telephony_operator::allocator::tune();
    // Installed as `kubectl-telephony`, the binary is the kubectl plugin.
    let as_plugin = std::env::args_os()
        .next()
        .is_some_and(|argv0| plugin::invoked_as_plugin(&argv0));
    let cli = if as_plugin { None } else { Some(Cli::parse()) };
    telephony_operator::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(cli) = cli else {
        return runtime.block_on(plugin::main(std::env::args_os()));
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Crd => match api::crds_yaml() {
                Ok(yaml) => {
                    print!("{yaml}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: rendering the CRDs: {error}");
                    ExitCode::FAILURE
                }
            },
            Command::Run(args) => {
                observability::init_logging(cli.log_json, "info,kube=warn,hyper=warn");
                let RunArgs { cluster, operator } = *args;
                run_operator(cluster, operator).await
            }
            #[cfg(feature = "sandbox")]
            Command::Sandbox(args) => {
                observability::init_logging(cli.log_json, "error");
                sandbox::run(args).await
            }
            #[cfg(feature = "sandbox")]
            Command::TwilioSim(args) => {
                observability::init_logging(cli.log_json, "info");
                sandbox::twilio_sim_cmd::run(args).await
            }
            Command::KubectlTelephony { args } => {
                let argv = std::iter::once(plugin::PLUGIN_BINARY.into()).chain(args);
                plugin::main(argv.collect::<Vec<std::ffi::OsString>>()).await
            }
        }
    })
}

async fn run_operator(cluster: ClusterArgs, config: OperatorConfig) -> ExitCode {
    tracing::info!(version = VERSION, "starting telephony-operator");
    let kube = match cluster.kube_config().await.map(kube::Client::try_from) {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => {
            eprintln!("error: creating the Kubernetes client: {error}");
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = match operator::build_context(kube, config, Arc::new(SystemClock)) {
        Ok(ctx) => Arc::new(ctx),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        on_signal.cancel();
    });
    match operator::run(ctx, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn run_args(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["telephony-operator", "run"].iter().chain(args))
            .unwrap_or_else(|e| panic!("{args:?} parses: {e}"));
        match cli.command {
            Command::Run(args) => *args,
            _ => panic!("not the run command"),
        }
    }

    #[test]
    fn run_takes_kubeconfig_and_context_like_kubectl() {
        let args = run_args(&["--kubeconfig", "some/kubeconfig", "--context", "prod"]);
        assert_eq!(
            args.cluster,
            ClusterArgs {
                kubeconfig: Some("some/kubeconfig".into()),
                context: Some("prod".into()),
            }
        );
        let args = run_args(&["--context=staging", "--leader-election"]);
        assert_eq!(args.cluster.kubeconfig, None);
        assert_eq!(args.cluster.context.as_deref(), Some("staging"));
        assert!(args.operator.leader_election);
        // Neither: KUBECONFIG / ~/.kube/config, else in-cluster (kube's inference).
        assert_eq!(run_args(&[]).cluster, ClusterArgs::default());
        assert!(Cli::try_parse_from(["telephony-operator", "run", "--kubeconfig"]).is_err());
    }

    #[test]
    fn version_names_the_crate_version_and_the_commit() {
        let version = Cli::command().render_version();
        assert!(
            version.starts_with(&format!(
                "telephony-operator {} (commit ",
                env!("CARGO_PKG_VERSION")
            )),
            "{version}"
        );
        let commit = env!("TELEPHONY_GIT_COMMIT");
        assert!(
            commit == "unknown"
                || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit}"
        );
    }
}
