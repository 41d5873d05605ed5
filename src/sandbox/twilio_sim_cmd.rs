//! `telephony-operator twilio-sim`: the Twilio simulator on its own, for users' local
//! development and CI (part of the `sandbox` feature: the deployable operator does not link it).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct TwilioSimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: std::net::SocketAddr,
    /// An account to create at start, as SID:TOKEN (repeatable). Without one, a random account
    /// is created and its credentials printed.
    #[arg(long = "account", value_name = "SID:TOKEN")]
    pub accounts: Vec<String>,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction of requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
}

/// Serves the simulator until the process is stopped.
pub async fn run(args: TwilioSimArgs) -> ExitCode {
    let mut accounts = Vec::new();
    for spec in &args.accounts {
        match spec.split_once(':') {
            Some((sid, token)) if !sid.is_empty() && !token.is_empty() => {
                accounts.push((sid.to_string(), token.to_string()))
            }
            _ => {
                eprintln!("error: --account takes SID:TOKEN (got a value without a colon)");
                return ExitCode::FAILURE;
            }
        }
    }
    let faults = twilio_sim::FaultConfig {
        latency_ms: args.latency_ms,
        error_5xx_rate: args.error_rate,
        ..Default::default()
    };
    match twilio_sim::run_standalone(args.listen, accounts, faults).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "error: serving the Twilio simulator on {}: {error}",
                args.listen
            );
            ExitCode::FAILURE
        }
    }
}
