//! The plugin's errors: each one line a person can act on.

/// Why a plugin command failed.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("no usable kubeconfig context ({0}); set KUBECONFIG or pass --kubeconfig/--context")]
    NoContext(String),
    #[error(
        "forbidden: you may not {verb} {resource} in namespace {namespace} (ask for the telephony-operator-edit or -view role there)"
    )]
    Forbidden {
        verb: &'static str,
        resource: &'static str,
        namespace: String,
    },
    #[error(
        "no TelephonyAccount {name} in namespace {namespace} (kubectl get telephonyaccounts -n {namespace})"
    )]
    NoAccount { name: String, namespace: String },
    #[error(
        "the telephony operator's CRDs are not installed in this cluster ({resource} not found)"
    )]
    NotInstalled { resource: &'static str },
    #[error("{verb} {what} in namespace {namespace}: {source}")]
    Kube {
        what: &'static str,
        verb: &'static str,
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error(
        "the operator did not answer NumberSearch {namespace}/{name} within {seconds} s (is the operator running and watching this namespace?)"
    )]
    Timeout {
        namespace: String,
        name: String,
        seconds: u64,
    },
    #[error("the search failed: {0}")]
    SearchFailed(String),
    #[error(
        "{number} is not available as a {country} {kind} number in account {account} (search again: kubectl telephony search --account {account})"
    )]
    NotAvailable {
        number: String,
        country: String,
        kind: String,
        account: String,
    },
    #[error("PhoneNumber {namespace}/{name} already exists (choose another --name)")]
    AlreadyExists { namespace: String, name: String },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "plan -k needs kubectl on PATH (it runs `kubectl kustomize {dir}`): install kubectl, or render the directory yourself and pass the result with -f"
    )]
    KubectlMissing { dir: String },
    #[error("kubectl kustomize {dir} failed: {stderr}")]
    KustomizeFailed { dir: String, stderr: String },
    #[error("the plan refuses {0} change(s)")]
    Refused(usize),
    #[error("writing the output: {0}")]
    Io(#[from] std::io::Error),
}

impl PluginError {
    /// A Kubernetes error of `verb` on `resource` in `namespace`, as a person reads it.
    pub fn kube(
        source: kube::Error,
        verb: &'static str,
        resource: &'static str,
        namespace: &str,
    ) -> Self {
        match &source {
            kube::Error::Api(s) if s.code == 403 => PluginError::Forbidden {
                verb,
                resource,
                namespace: namespace.to_string(),
            },
            kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound" && verb == "list" => {
                PluginError::NotInstalled { resource }
            }
            _ => PluginError::Kube {
                what: resource,
                verb,
                namespace: namespace.to_string(),
                source,
            },
        }
    }
}
