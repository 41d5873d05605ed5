//! Starting the operator: from configuration, a Kubernetes client and a clock to running
//! controllers (behind leader election when asked), with metrics and health served.
//! Used by `telephony-operator run` and by the sandbox.

use crate::billing::RateCard;
use crate::clock::SharedClock;
use crate::config::OperatorConfig;
use crate::controller::{self, Context, leader};
use crate::observability::{self, Readiness};
use crate::twilio::{TwilioClient, TwilioClientConfig, TwilioError};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why the operator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("creating the Twilio client: {0}")]
    Twilio(#[from] TwilioError),
    #[error("loading the rate card {path}: {message}")]
    RateCard { path: String, message: String },
    #[error("lost the leader lease; exiting so that a restart competes for it again")]
    LeadershipLost,
    #[error("serving metrics on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Builds the shared context of both controllers.
pub fn build_context(
    kube: kube::Client,
    config: OperatorConfig,
    clock: SharedClock,
) -> Result<Context, StartError> {
    let twilio = TwilioClient::new(TwilioClientConfig {
        api_base: config.twilio_api_base.clone(),
        pricing_base: config.twilio_pricing_base.clone(),
        timeout: Duration::from_secs(config.twilio_timeout_seconds.max(1)),
        per_account_concurrency: config.twilio_account_concurrency.max(1),
        per_account_rate_per_sec: config.twilio_account_rate.max(0.0),
        ..TwilioClientConfig::default()
    })?;
    let rate_card = match &config.rate_card {
        None => RateCard::default(),
        Some(path) => RateCard::from_file(path).map_err(|e| StartError::RateCard {
            path: path.display().to_string(),
            message: e.to_string(),
        })?,
    };
    Ok(Context::new(kube, twilio, clock, config, rate_card))
}

/// Runs the operator until `shutdown`: metrics/health, leader election (if configured), both
/// controllers. Returns an error when leadership is lost (the process should exit).
///
/// Ready (`/readyz`) as soon as it serves and has its Kubernetes client, leader or standby:
/// leadership is the `telephony_operator_leader` gauge and a log line, not readiness, so every
/// replica of a Deployment becomes Available. On shutdown the controllers stop first, then the
/// Lease is released so a standby takes over at once.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) -> Result<(), StartError> {
    let ready = Readiness::default();
    let addr = ctx.config.metrics_addr;
    let bound = observability::serve(addr, &ctx.metrics, ready.clone(), shutdown.clone())
        .await
        .map_err(|source| StartError::Metrics { addr, source })?;
    tracing::info!(%bound, "serving /metrics, /healthz and /readyz");
    ready.set(true);

    let leadership = if ctx.config.leader_election {
        let identity = ctx.config.instance_id.clone().unwrap_or_else(hostname);
        let settings = leader::LeaseSettings::new(
            &ctx.config.operator_namespace,
            &ctx.config.lease_name,
            &identity,
        );
        match leader::lead(ctx.kube.clone(), settings, shutdown.clone()).await {
            Some(leadership) => Some(leadership),
            None => {
                ready.set(false);
                return Ok(());
            }
        }
    } else {
        None
    };
    let acting = match &leadership {
        Some(leadership) => leadership.acting(),
        None => shutdown.child_token(),
    };
    ctx.metrics.leader.set(1);
    run_controllers(&ctx, acting).await;
    ctx.metrics.leader.set(0);
    ready.set(false);
    if let Some(leadership) = leadership {
        leadership.release().await;
    }
    if !shutdown.is_cancelled() {
        return Err(StartError::LeadershipLost);
    }
    Ok(())
}

/// Runs the controllers until `acting` is cancelled and they have stopped — but no longer than
/// a grace period after that: kube-runtime holds a controller until its caches are ready, so one
/// whose first list cannot succeed (a kind not installed, a right missing) would never stop.
/// In-flight work cut off there is resumed by the next leader, exactly as after a crash (every
/// step is crash-safe: docs/exactly-once-purchase.md).
async fn run_controllers(ctx: &Arc<Context>, acting: CancellationToken) {
    let grace = shutdown_grace(ctx.config.twilio_timeout_seconds);
    let controllers = controller::run(ctx.clone(), acting.clone());
    tokio::pin!(controllers);
    tokio::select! {
        _ = &mut controllers => {}
        _ = async {
            acting.cancelled().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "the controllers did not stop within the grace period; stopping them");
        }
    }
}

/// How long stopping controllers may take: an in-flight Twilio call (its timeout) and a little.
fn shutdown_grace(twilio_timeout_seconds: u64) -> std::time::Duration {
    std::time::Duration::from_secs(twilio_timeout_seconds.max(1) + 5)
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("telephony-operator-{}", std::process::id()))
}
