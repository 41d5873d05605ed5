//! `telephony-operator`: the operator (`run`), its CRDs (`crd`), and — with the default
//! `sandbox` feature, not in the deployable build — the self-contained demo (`sandbox`) and the
//! Twilio simulator on its own (`twilio-sim`).

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;
use telephony_operator::clock::SystemClock;
use telephony_operator::config::OperatorConfig;
#[cfg(feature = "sandbox")]
use telephony_operator::sandbox;
use telephony_operator::{api, observability, operator};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "telephony-operator",
    version,
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
    /// Run the operator against the cluster in KUBECONFIG or the in-cluster configuration.
    Run(Box<OperatorConfig>),
    /// Print the CustomResourceDefinitions (YAML) generated from the Rust types.
    Crd,
    /// Start a Kubernetes API emulator, the Twilio simulator and the operator on 127.0.0.1,
    /// apply examples/ and show them converge.
    #[cfg(feature = "sandbox")]
    Sandbox(sandbox::SandboxArgs),
    /// Serve the Twilio simulator alone (for local development and CI).
    #[cfg(feature = "sandbox")]
    TwilioSim(sandbox::twilio_sim_cmd::TwilioSimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            Command::Run(config) => {
                observability::init_logging(cli.log_json, "info,kube=warn,hyper=warn");
                run_operator(*config).await
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
        }
    })
}

async fn run_operator(config: OperatorConfig) -> ExitCode {
    let kube = match kube::Client::try_default().await {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: connecting to Kubernetes (KUBECONFIG or in-cluster): {error}");
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
