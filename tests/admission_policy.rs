//! The ValidatingAdmissionPolicies shipped in `deploy/base/admission-policy.yaml` (the mode lock and
//! the skip-release guard), checked twice:
//! - offline: their CEL expressions (read from the YAML file itself) run with `kube_cel`'s VAP
//!   evaluator against admission requests from admins and non-admins;
//! - on a real kube-apiserver (`TELEPHONY_E2E_KUBECONFIG`, see `tests/real-cluster/`): the server
//!   enforces the same file for real identities — the tenant user of
//!   `TELEPHONY_E2E_TENANT_KUBECONFIG` (bound to deploy/'s tenant edit role) and a member of the
//!   admin group (impersonated from the admin kubeconfig). Without a cluster that part is skipped
//!   with a message.
//!
//! This file only declares the modules (one concern each, under `tests/admission_policy/`) and
//! the settings the real-server plumbing shared with `tests/real_cluster.rs`
//! (`tests/real_cluster/support.rs`) reads.

use std::time::Duration;

/// Printed, and the real-server test skipped, when no cluster is configured.
const NO_CLUSTER: &str = "skipped: the real-server part of the admission-policy tests needs a cluster: \
                          run through tests/real-cluster/start.sh or set TELEPHONY_E2E_KUBECONFIG \
                          (and TELEPHONY_E2E_TENANT_KUBECONFIG)";
/// The field manager of this target's server-side applies.
const FIELD_MANAGER: &str = "telephony-admission-policy-test";
/// How long the server may take to see a new RoleBinding, CRD or policy binding.
const PROPAGATION: Duration = Duration::from_secs(20);
/// How often `support::eventually` looks again.
const POLL: Duration = Duration::from_millis(100);

#[path = "admission_policy/policy.rs"]
mod policy;

#[path = "admission_policy/deploy_manifests.rs"]
mod deploy_manifests;

#[path = "admission_policy/offline/mod.rs"]
mod offline;

#[path = "real_cluster/support.rs"]
mod support;

#[path = "admission_policy/real_server/mod.rs"]
mod real_server;
