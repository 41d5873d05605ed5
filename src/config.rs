//! Operator configuration: flags and environment variables of `telephony-operator run`
//! (the sandbox fills the same struct in code).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which cluster `run` talks to, with kubectl's flags. Neither given: `KUBECONFIG` (or
/// `~/.kube/config`) with its current context, else the in-cluster ServiceAccount of the pod.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file to use (instead of `KUBECONFIG` and `~/.kube/config`).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Name of the kubeconfig context to use (default: its current-context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// Why no Kubernetes client configuration could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("reading the kubeconfig {path}: {source}")]
    Read {
        path: String,
        source: kube::config::KubeconfigError,
    },
    #[error("using the kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    #[error("no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a pod: {0}")]
    Infer(#[from] kube::config::InferConfigError),
}

impl ClusterArgs {
    /// The client configuration these flags select.
    pub async fn kube_config(&self) -> Result<kube::Config, ClusterError> {
        let options = kube::config::KubeConfigOptions {
            context: self.context.clone(),
            ..Default::default()
        };
        match (&self.kubeconfig, &self.context) {
            (Some(path), _) => {
                let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|source| {
                    ClusterError::Read {
                        path: path.display().to_string(),
                        source,
                    }
                })?;
                Ok(kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?)
            }
            (None, Some(_)) => Ok(kube::Config::from_kubeconfig(&options).await?),
            (None, None) => Ok(kube::Config::infer().await?),
        }
    }
}

/// Everything the operator needs to know besides the cluster and the clock.
#[derive(clap::Args, Debug, Clone)]
pub struct OperatorConfig {
    /// Base URL of Twilio's REST API (v2010). Point it at `telephony-operator twilio-sim` for
    /// local development.
    #[arg(
        long,
        env = "TWILIO_API_BASE",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_base: url::Url,
    /// Base URL of Twilio's Pricing API.
    #[arg(
        long,
        env = "TWILIO_PRICING_BASE",
        default_value = "https://pricing.twilio.com"
    )]
    pub twilio_pricing_base: url::Url,
    /// Namespaces to watch (comma-separated). Empty: all namespaces.
    #[arg(long, env = "WATCH_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// Only reconcile objects matching this label selector (for sharding a large cluster).
    #[arg(long, env = "LABEL_SELECTOR")]
    pub label_selector: Option<String>,
    /// How often each account's Twilio inventory is listed to detect drift, in seconds.
    #[arg(long, env = "RESYNC_SECONDS", default_value_t = 300)]
    pub resync_seconds: u64,
    /// How many objects of each kind are reconciled at once.
    #[arg(long, env = "RECONCILE_CONCURRENCY", default_value_t = 64)]
    pub reconcile_concurrency: u16,
    /// Most Twilio requests in flight per Twilio account.
    #[arg(long, env = "TWILIO_ACCOUNT_CONCURRENCY", default_value_t = 10)]
    pub twilio_account_concurrency: usize,
    /// Most Twilio requests per second per Twilio account (0: no limit besides concurrency).
    #[arg(long, env = "TWILIO_ACCOUNT_RATE", default_value_t = 0.0)]
    pub twilio_account_rate: f64,
    /// Timeout of one Twilio request, in seconds.
    #[arg(long, env = "TWILIO_TIMEOUT_SECONDS", default_value_t = 30)]
    pub twilio_timeout_seconds: u64,
    /// Address of the metrics and health endpoint (`/metrics`, `/healthz`, `/readyz`).
    #[arg(long, env = "METRICS_ADDR", default_value = "127.0.0.1:9464")]
    pub metrics_addr: SocketAddr,
    /// Version of the platform's terms a Managed account must accept.
    #[arg(long, env = "TERMS_VERSION", default_value = crate::DEFAULT_TERMS_VERSION)]
    pub terms_version: String,
    /// Rate card for Managed prices (YAML file); default: the embedded card (US 1.15/month).
    #[arg(long, env = "RATE_CARD")]
    pub rate_card: Option<std::path::PathBuf>,
    /// Namespace the operator runs in (holds the master credentials Secret and the Lease).
    #[arg(long, env = "POD_NAMESPACE", default_value = "telephony-system")]
    pub operator_namespace: String,
    /// Secret (in the operator namespace) with the platform's master Twilio credentials for
    /// Managed accounts: keys `accountSid` and `authToken` (or `apiKeySid`/`apiKeySecret`).
    #[arg(
        long,
        env = "MASTER_CREDENTIALS_SECRET",
        default_value = "twilio-master-credentials"
    )]
    pub master_credentials_secret: String,
    /// Take a coordination.k8s.io Lease so only one replica acts.
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    /// Name of the leader-election Lease.
    #[arg(long, env = "LEASE_NAME", default_value = "telephony-operator")]
    pub lease_name: String,
    /// Identity of this replica in the Lease (default: the hostname).
    #[arg(long, env = "POD_NAME")]
    pub instance_id: Option<String>,
    /// How long a NumberSearch is kept after its last search (or its creation), in seconds; the
    /// operator deletes it then.
    #[arg(long, env = "NUMBER_SEARCH_TTL_SECONDS", default_value_t = 3600)]
    pub number_search_ttl_seconds: u64,
    /// How long a number whose PhoneNumber was deleted is held by its account before it is
    /// released at Twilio, in seconds (0: release at once). A PhoneNumber of the same account
    /// naming the number in `spec.number` within that time adopts it (a rename or a prune in Git
    /// does not lose it). A Managed number is never held past its paid period.
    #[arg(long, env = "RELEASE_QUARANTINE_SECONDS", default_value_t = 3600)]
    pub release_quarantine_seconds: u64,
}

impl OperatorConfig {
    pub fn resync_period(&self) -> Duration {
        Duration::from_secs(self.resync_seconds.max(1))
    }

    /// How long a NumberSearch is kept (`--number-search-ttl-seconds`, at least 1 s).
    pub fn number_search_ttl(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(
            self.number_search_ttl_seconds.clamp(1, i64::MAX as u64) as i64
        )
    }

    /// The quarantine window of a deleted PhoneNumber's number (`--release-quarantine-seconds`).
    pub fn release_quarantine(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(self.release_quarantine_seconds.min(i64::MAX as u64) as i64)
    }

    /// Defaults for tests and the sandbox, pointing Twilio at `twilio_base`.
    pub fn for_local(twilio_base: &url::Url) -> Self {
        Self {
            twilio_api_base: twilio_base.clone(),
            twilio_pricing_base: twilio_base.clone(),
            namespaces: Vec::new(),
            label_selector: None,
            resync_seconds: 300,
            reconcile_concurrency: 64,
            twilio_account_concurrency: 10,
            twilio_account_rate: 0.0,
            twilio_timeout_seconds: 10,
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            terms_version: crate::DEFAULT_TERMS_VERSION.to_string(),
            rate_card: None,
            operator_namespace: "telephony-system".into(),
            master_credentials_secret: "twilio-master-credentials".into(),
            leader_election: false,
            lease_name: "telephony-operator".into(),
            instance_id: None,
            number_search_ttl_seconds: 3600,
            release_quarantine_seconds: 3600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CONTEXTS: &str = r#"
apiVersion: v1
kind: Config
current-context: first
clusters:
  - name: one
    cluster: { server: "https://127.0.0.1:6443" }
  - name: two
    cluster: { server: "https://127.0.0.1:7443" }
users:
  - name: someone
    user: { token: not-a-real-token }
contexts:
  - name: first
    context: { cluster: one, user: someone, namespace: team-a }
  - name: second
    context: { cluster: two, user: someone }
"#;

    #[tokio::test]
    async fn kubeconfig_and_context_select_the_cluster() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config");
        std::fs::write(&path, TWO_CONTEXTS).expect("kubeconfig written");
        let current = ClusterArgs {
            kubeconfig: Some(path.clone()),
            context: None,
        }
        .kube_config()
        .await
        .expect("current context");
        assert_eq!(current.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(current.default_namespace, "team-a");
        let second = ClusterArgs {
            kubeconfig: Some(path.clone()),
            context: Some("second".into()),
        }
        .kube_config()
        .await
        .expect("named context");
        assert_eq!(second.cluster_url.to_string(), "https://127.0.0.1:7443/");
        let missing = ClusterArgs {
            kubeconfig: Some(path),
            context: Some("third".into()),
        }
        .kube_config()
        .await;
        assert!(missing.is_err(), "an unknown context is an error");
        let absent = ClusterArgs {
            kubeconfig: Some(dir.path().join("absent")),
            context: None,
        }
        .kube_config()
        .await;
        assert!(
            matches!(absent, Err(ClusterError::Read { .. })),
            "{absent:?}"
        );
    }
}
