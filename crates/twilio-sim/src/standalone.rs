//! Running the simulator on its own (the `twilio-sim` subcommand of the operator binary).

use crate::config::{FaultConfig, SeedAccount, SimConfig};
use crate::sim::Simulator;
use rust_decimal::Decimal;
use std::net::SocketAddr;

/// Serves until Ctrl-C. `accounts` are `(SID, token)` pairs given on the command line (the only
/// tokens printed); each also gets test credentials.
pub async fn run_standalone(
    listen: SocketAddr,
    accounts: Vec<(String, String)>,
    faults: FaultConfig,
) -> std::io::Result<()> {
    let seeds: Vec<SeedAccount> = accounts
        .iter()
        .enumerate()
        .map(|(i, (sid, token))| SeedAccount {
            sid: sid.clone(),
            auth_token: token.clone(),
            friendly_name: format!("Account {}", i + 1),
            balance: Decimal::new(2000, 2),
            account_type: "Full".into(),
        })
        .collect();
    let sim = Simulator::new(SimConfig {
        accounts: seeds,
        faults,
        ..Default::default()
    });
    let server = sim.serve(listen).await?;
    let url = server.base_url();
    println!("Twilio simulator listening on {url}");
    println!("  API:     {url}/2010-04-01/...   Pricing: {url}/v1/... {url}/v2/...");
    println!("  Admin:   {url}/_sim/state  {url}/_sim/counters  PUT {url}/_sim/faults");
    for (sid, token) in &accounts {
        println!("  account {sid}  token {token}");
    }
    if accounts.is_empty() {
        println!("  no accounts: give at least one with --account SID:TOKEN");
    }
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    server.shutdown().await;
    Ok(())
}
