//! The whole product on 127.0.0.1: the Kubernetes API emulator, the Twilio simulator and the
//! operator, wired together. The sandbox command and the end-to-end tests both start it.

use super::examples::{BYO_ACCOUNT_SID, BYO_AUTH_TOKEN, PRE_OWNED_NUMBER};
use crate::api;
use crate::clock::{ScaledClock, SharedClock};
use crate::config::OperatorConfig;
use crate::controller::Context;
use crate::operator;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Field manager of everything the sandbox applies.
pub const MANAGER: &str = "telephony-sandbox";

/// How to start the stack.
#[derive(Clone)]
pub struct StackOptions {
    pub kube_listen: SocketAddr,
    pub twilio_listen: SocketAddr,
    /// Clock of the operator; default: wall time `time_scale` times faster.
    pub clock: Option<SharedClock>,
    pub time_scale: f64,
    pub resync_seconds: u64,
    /// Start the operator right away.
    pub start_operator: bool,
    /// Faults injected into the Twilio simulator from the start.
    pub twilio_faults: twilio_sim::FaultConfig,
    /// Use this real cluster instead of starting the emulator (end-to-end tests on kind/k3d).
    /// The stack's own setup (CRDs, the operator's namespace and master credentials) and the
    /// tests' client use it, so it needs cluster-admin rights.
    pub external_kubeconfig: Option<std::path::PathBuf>,
    /// The identity the operator runs as on the real cluster (for example a token of deploy/'s
    /// ServiceAccount, so deploy/'s RBAC is what it has); default: `external_kubeconfig`.
    pub operator_kubeconfig: Option<std::path::PathBuf>,
    /// Only objects with these labels are the operator's (`--label-selector`): keeps stacks that
    /// share one real cluster out of each other's objects.
    pub label_selector: Option<String>,
    /// Run the operator behind its Lease (`--leader-election`).
    pub leader_election: bool,
}

impl Default for StackOptions {
    fn default() -> Self {
        let local = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            kube_listen: local,
            twilio_listen: local,
            clock: None,
            time_scale: 1.0,
            resync_seconds: 30,
            start_operator: true,
            twilio_faults: twilio_sim::FaultConfig::default(),
            external_kubeconfig: None,
            operator_kubeconfig: None,
            label_selector: None,
            leader_election: false,
        }
    }
}

/// Why the stack did not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("starting the Kubernetes API emulator: {0}")]
    Emulator(String),
    #[error("starting the Twilio simulator on {addr}: {source}")]
    Simulator {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("connecting to the Kubernetes API emulator: {0}")]
    Client(String),
    #[error("installing the CRDs: {0}")]
    Crds(String),
    #[error("creating the operator's namespace and master credentials: {0}")]
    Setup(String),
    #[error("starting the operator: {0}")]
    Operator(#[from] operator::StartError),
}

/// The running stack.
pub struct Stack {
    /// The emulator (absent when running against a real cluster).
    pub emulator: Option<kube_emulator::EmulatorHandle>,
    pub sim: twilio_sim::Simulator,
    pub sim_server: twilio_sim::SimServer,
    pub client: Client,
    /// The client the operator uses (the same as `client` unless `operator_kubeconfig` is set).
    pub operator_client: Client,
    pub clock: SharedClock,
    pub config: OperatorConfig,
    /// The platform's master account (for Managed accounts).
    pub master: twilio_sim::SeedAccount,
    operator: Option<(CancellationToken, JoinHandle<()>)>,
}

impl Stack {
    /// Starts emulator and simulator, installs the CRDs and the operator's namespace and master
    /// credentials, and (if asked) the operator.
    pub async fn start(opts: StackOptions) -> Result<Stack, StackError> {
        crate::install_crypto_provider();
        let (emulator, client) = match &opts.external_kubeconfig {
            Some(path) => (None, client_from_kubeconfig(path).await?),
            None => {
                let emulator = kube_emulator::start(kube_emulator::EmulatorConfig {
                    listen: opts.kube_listen,
                    ..Default::default()
                })
                .await
                .map_err(|e| StackError::Emulator(e.to_string()))?;
                let url: http::Uri = emulator
                    .url()
                    .parse()
                    .map_err(|e: http::uri::InvalidUri| StackError::Client(e.to_string()))?;
                let client = Client::try_from(kube::Config::new(url))
                    .map_err(|e| StackError::Client(e.to_string()))?;
                (Some(emulator), client)
            }
        };

        let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig {
            accounts: vec![twilio_sim::SeedAccount {
                sid: BYO_ACCOUNT_SID.into(),
                auth_token: BYO_AUTH_TOKEN.into(),
                friendly_name: "Acme (sandbox)".into(),
                balance: rust_decimal::Decimal::new(2000, 2),
                account_type: "Full".into(),
            }],
            faults: opts.twilio_faults.clone(),
            ..Default::default()
        });
        let master = sim.add_account("Agni platform (sandbox)");
        sim.assign_number(BYO_ACCOUNT_SID, PRE_OWNED_NUMBER);
        let sim_server =
            sim.serve(opts.twilio_listen)
                .await
                .map_err(|source| StackError::Simulator {
                    addr: opts.twilio_listen,
                    source,
                })?;

        let twilio_url: url::Url = sim_server
            .base_url()
            .parse()
            .map_err(|e: url::ParseError| StackError::Setup(e.to_string()))?;
        let mut config = OperatorConfig::for_local(&twilio_url);
        config.resync_seconds = opts.resync_seconds;
        config.label_selector = opts.label_selector.clone();
        config.leader_election = opts.leader_election;
        let operator_client = match (&opts.external_kubeconfig, &opts.operator_kubeconfig) {
            (Some(_), Some(path)) => client_from_kubeconfig(path).await?,
            _ => client.clone(),
        };

        install_crds(&client).await?;
        setup_operator_namespace(&client, &config, &master).await?;
        let clock: SharedClock = opts
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(ScaledClock::new(jiff::Timestamp::now(), opts.time_scale)));
        let mut stack = Stack {
            emulator,
            sim,
            sim_server,
            client,
            operator_client,
            clock,
            config,
            master,
            operator: None,
        };
        if opts.start_operator {
            stack.start_operator()?;
        }
        Ok(stack)
    }

    /// Starts (or restarts) the operator in this process.
    pub fn start_operator(&mut self) -> Result<Arc<Context>, StackError> {
        let ctx = Arc::new(operator::build_context(
            self.operator_client.clone(),
            self.config.clone(),
            self.clock.clone(),
        )?);
        let token = CancellationToken::new();
        let run_ctx = ctx.clone();
        let run_token = token.clone();
        let handle = tokio::spawn(async move {
            if let Err(error) = operator::run(run_ctx, run_token).await {
                tracing::error!(%error, "operator stopped");
            }
        });
        self.operator = Some((token, handle));
        Ok(ctx)
    }

    /// Stops the operator: gracefully, or abruptly (`kill`: the task is aborted mid-flight,
    /// like a process killed with SIGKILL).
    pub async fn stop_operator(&mut self, kill: bool) {
        if let Some((token, handle)) = self.operator.take() {
            if kill {
                handle.abort();
            } else {
                token.cancel();
            }
            let _ = handle.await;
        }
    }

    /// URL of the Twilio simulator.
    pub fn twilio_url(&self) -> String {
        self.sim_server.base_url()
    }

    /// Stops everything.
    pub async fn shutdown(mut self) {
        self.stop_operator(false).await;
        self.sim_server.shutdown().await;
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

async fn client_from_kubeconfig(path: &std::path::Path) -> Result<Client, StackError> {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(path).map_err(|e| StackError::Client(e.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .map_err(|e| StackError::Client(e.to_string()))?;
    Client::try_from(config).map_err(|e| StackError::Client(e.to_string()))
}

/// Installs (server-side applies) the operator's CRDs and waits until they are served.
pub async fn install_crds(client: &Client) -> Result<(), StackError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in api::crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .map_err(|e| StackError::Crds(format!("{name}: {e}")))?;
        let established = kube::runtime::wait::await_condition(
            api.clone(),
            &name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        tokio::time::timeout(Duration::from_secs(20), established)
            .await
            .map_err(|_| StackError::Crds(format!("{name} was not Established within 20 s")))?
            .map_err(|e| StackError::Crds(format!("{name}: {e}")))?;
    }
    Ok(())
}

/// The operator's namespace and the master credentials Secret named by `config`.
async fn setup_operator_namespace(
    client: &Client,
    config: &OperatorConfig,
    master: &twilio_sim::SeedAccount,
) -> Result<(), StackError> {
    use k8s_openapi::api::core::v1::{Namespace, Secret};
    let ns = serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": config.operator_namespace}
    });
    Api::<Namespace>::all(client.clone())
        .patch(
            &config.operator_namespace,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(ns),
        )
        .await
        .map_err(|e| StackError::Setup(e.to_string()))?;
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": config.master_credentials_secret, "namespace": config.operator_namespace},
        "type": "Opaque",
        "stringData": {"accountSid": master.sid, "authToken": master.auth_token}
    });
    Api::<Secret>::namespaced(client.clone(), &config.operator_namespace)
        .patch(
            &config.master_credentials_secret,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(secret),
        )
        .await
        .map_err(|e| StackError::Setup(e.to_string()))?;
    Ok(())
}
