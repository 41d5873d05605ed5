//! `telephony-operator sandbox`: the whole product on a bare machine. Starts the Kubernetes API
//! emulator and the Twilio simulator on 127.0.0.1, installs the CRDs, applies `examples/`, runs
//! the operator, shows progress until the examples are Ready, prints a table, writes a kubeconfig
//! for the real `kubectl`, and keeps serving until Ctrl-C.
//!
//! Test and demo infrastructure: the operator core never depends on this module.

pub mod apply;
pub mod examples;
pub mod progress;
pub mod stack;
pub mod twilio_sim_cmd;

use crate::api::{PhoneNumber, TelephonyAccount};
use kube::Api;
use kube::api::ListParams;
use stack::{Stack, StackOptions};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Options of `telephony-operator sandbox`.
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Exit once every example is Ready (0), or with the reasons when they are not within
    /// `--timeout` (1). Without it, the sandbox keeps serving until Ctrl-C.
    #[arg(long)]
    pub exit_when_ready: bool,
    /// Run the operator's clock N times faster, to watch renewals, grace and lapse of Managed
    /// numbers (e.g. 100000: 28 days in about 24 seconds).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Address of the Kubernetes API emulator (default: a free port on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub kube_listen: SocketAddr,
    /// Address of the Twilio simulator (default: a free port on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub twilio_listen: SocketAddr,
    /// Where to write the kubeconfig for `kubectl`.
    #[arg(long, default_value = "target/sandbox/kubeconfig")]
    pub kubeconfig_out: PathBuf,
    /// Directory of manifests to apply (the embedded examples when it does not exist).
    #[arg(long, default_value = "examples")]
    pub examples: PathBuf,
    /// Seconds to wait for the examples to become Ready.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// Runs the sandbox command.
pub async fn run(args: SandboxArgs) -> ExitCode {
    for addr in [args.kube_listen, args.twilio_listen] {
        if !addr.ip().is_loopback() {
            eprintln!("error: the sandbox only listens on 127.0.0.1 (got {addr})");
            return ExitCode::FAILURE;
        }
    }
    let started = Instant::now();
    let opts = StackOptions {
        kube_listen: args.kube_listen,
        twilio_listen: args.twilio_listen,
        time_scale: args.time_scale,
        ..Default::default()
    };
    let stack = match Stack::start(opts).await {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(emulator) = stack.emulator.as_ref() else {
        eprintln!("error: the sandbox needs its own Kubernetes API emulator");
        return ExitCode::FAILURE;
    };
    println!("Kubernetes API emulator  {}", emulator.url());
    println!("Twilio simulator         {}", stack.twilio_url());
    if let Some(dir) = args.kubeconfig_out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match emulator.write_kubeconfig(&args.kubeconfig_out) {
        Ok(()) => println!(
            "kubeconfig               {}\n  try: kubectl --kubeconfig {} get tacct,pn -A\n  try: telephony-operator kubectl-telephony --kubeconfig {} -n acme search --account acme-twilio --country US --area-code 415",
            args.kubeconfig_out.display(),
            args.kubeconfig_out.display(),
            args.kubeconfig_out.display()
        ),
        Err(error) => eprintln!(
            "warning: could not write {}: {error}",
            args.kubeconfig_out.display()
        ),
    }
    println!(
        "Example Twilio account   {} / {}\n  try: curl -u {}:{} {}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        examples::BYO_ACCOUNT_SID,
        examples::BYO_AUTH_TOKEN,
        examples::BYO_ACCOUNT_SID,
        examples::BYO_AUTH_TOKEN,
        stack.twilio_url(),
        examples::BYO_ACCOUNT_SID
    );
    if args.time_scale != 1.0 {
        println!(
            "Operator clock runs {}x faster than real time",
            args.time_scale
        );
    }

    let applied = apply_examples(&stack, &args).await;
    if let Err(error) = applied {
        eprintln!("error: {error}");
        stack.shutdown().await;
        return ExitCode::FAILURE;
    }

    let all_ready = wait_until_ready(&stack, Duration::from_secs(args.timeout)).await;
    let (accounts, numbers) = snapshot(&stack).await;
    println!("\n{}\n", progress::table(&numbers));
    if !all_ready {
        eprintln!("Not Ready after {} s:", args.timeout);
        for line in progress::not_ready_reasons(&accounts, &numbers) {
            eprintln!("  {line}");
        }
    } else {
        println!(
            "Every example is Ready ({:.1} s).",
            started.elapsed().as_secs_f64()
        );
    }
    if args.exit_when_ready {
        stack.shutdown().await;
        return if all_ready {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    println!("Serving until Ctrl-C. Phase changes are printed as they happen.");
    watch_until_ctrl_c(&stack).await;
    stack.shutdown().await;
    ExitCode::SUCCESS
}

async fn apply_examples(stack: &Stack, args: &SandboxArgs) -> Result<(), String> {
    let (origin, files) = examples::load(&args.examples)
        .map_err(|e| format!("reading {}: {e}", args.examples.display()))?;
    println!("Applying {origin}:");
    for (name, text) in files {
        let docs = apply::parse_documents(&name, &text).map_err(|e| e.to_string())?;
        for (index, doc) in docs.into_iter().enumerate() {
            // The emulator accepts objects as soon as their namespace exists; retry briefly
            // in case a CRD or namespace is still settling.
            let mut attempt = 0;
            loop {
                match apply::apply_object(&stack.client, &name, index, doc.clone(), stack::MANAGER)
                    .await
                {
                    Ok(what) => {
                        println!("  {name}: {what}");
                        break;
                    }
                    Err(error) if attempt < 5 => {
                        attempt += 1;
                        tracing::debug!(%error, "retrying apply");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(error) => return Err(error.to_string()),
                }
            }
        }
    }
    Ok(())
}

async fn snapshot(stack: &Stack) -> (Vec<TelephonyAccount>, Vec<PhoneNumber>) {
    let accounts = Api::<TelephonyAccount>::all(stack.client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let numbers = Api::<PhoneNumber>::all(stack.client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    (accounts, numbers)
}

async fn wait_until_ready(stack: &Stack, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let tty = std::io::stdout().is_terminal();
    let mut last = String::new();
    let started = Instant::now();
    loop {
        let (accounts, numbers) = snapshot(stack).await;
        let done = !numbers.is_empty()
            && accounts.iter().all(progress::account_ready)
            && numbers.iter().all(progress::number_ready);
        let line = progress::summary_line(&accounts, &numbers);
        if tty {
            print!(
                "\r\x1b[2K[{:>5.1}s] {line}",
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stdout().flush();
        } else if line != last {
            println!("[{:>5.1}s] {line}", started.elapsed().as_secs_f64());
        }
        last = line;
        if done || Instant::now() >= deadline {
            if tty {
                println!();
            }
            return done;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn watch_until_ctrl_c(stack: &Stack) {
    use kube::ResourceExt;
    // Per number: (phase, next renewal); a change of either is printed.
    let mut seen: std::collections::BTreeMap<String, (String, Option<jiff::Timestamp>)> =
        Default::default();
    loop {
        let (_, numbers) = snapshot(stack).await;
        for pn in &numbers {
            let key = format!("{}/{}", pn.namespace().unwrap_or_default(), pn.name_any());
            let status = pn.status.clone().unwrap_or_default();
            let phase = status.phase.map(|p| p.to_string()).unwrap_or_default();
            let next = status
                .renewal
                .as_ref()
                .and_then(|r| r.next_renewal_at.as_ref())
                .map(|t| t.0);
            let now = stack.clock.now().strftime("%Y-%m-%d %H:%M").to_string();
            match seen.get(&key) {
                Some((old_phase, _)) if *old_phase != phase => println!(
                    "[{now}] {key}: {old_phase} -> {phase}{}",
                    status
                        .message
                        .as_ref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ),
                Some((_, old_next)) if *old_next != next && old_next.is_some() => {
                    if let Some(next) = next {
                        println!(
                            "[{now}] {key}: renewed; next renewal {}",
                            next.strftime("%Y-%m-%d %H:%M")
                        );
                    }
                }
                _ => {}
            }
            seen.insert(key, (phase, next));
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}
