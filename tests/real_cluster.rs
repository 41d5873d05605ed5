//! What only a real kube-apiserver can tell (run by `tests/real-cluster/run-suite.sh`, or any
//! cluster named by `TELEPHONY_E2E_KUBECONFIG`; without one every test is skipped with a
//! message):
//! - **CRD acceptance**: `crds/` applied as it is is accepted — Established, names accepted,
//!   structural, no warning about CEL rule cost; `kubectl explain` shows the field docs;
//!   `kubectl get` shows the printer columns the CRDs declare, filled from status, also under
//!   the short names.
//! - **Tenant roles** (`deploy/base/tenant-roles.yaml`): bound in a namespace, the edit role lets the
//!   tenant create, read, change and delete TelephonyAccounts and PhoneNumbers there and nowhere
//!   else, never their status (prices, phase, credits ledger are the operator's), and no Secrets;
//!   the view role only reads.
//!
//! kubectl is the one on `PATH` (the harness puts the server's own release first), run with a
//! private `HOME` so its discovery cache is this test's.
//!
//! This file only declares the modules (one concern each, under `tests/real_cluster/`) and the
//! settings the shared real-server plumbing (`support`, also used by `tests/admission_policy.rs`)
//! reads.

use std::time::Duration;

/// Printed, and the test skipped, when no cluster is configured.
const NO_CLUSTER: &str = "skipped: the real-cluster checks need a cluster: run tests/real-cluster/run-suite.sh \
                          (or tests/real-cluster/start.sh -- cargo test --test real_cluster), or set \
                          TELEPHONY_E2E_KUBECONFIG (and TELEPHONY_E2E_TENANT_KUBECONFIG)";
/// The field manager of this target's server-side applies.
const FIELD_MANAGER: &str = "telephony-real-cluster-test";
/// How long the server may take to see a new RoleBinding or CRD (RBAC cache, OpenAPI).
const PROPAGATION: Duration = Duration::from_secs(30);
/// How often `support::eventually` looks again.
const POLL: Duration = Duration::from_millis(200);

#[path = "real_cluster/support.rs"]
mod support;

#[path = "real_cluster/namespaces.rs"]
mod namespaces;

#[path = "real_cluster/kubectl.rs"]
mod kubectl;

#[path = "real_cluster/crd_acceptance.rs"]
mod crd_acceptance;

#[path = "real_cluster/kubectl_explain.rs"]
mod kubectl_explain;

#[path = "real_cluster/printer_columns.rs"]
mod printer_columns;

#[path = "real_cluster/tenant/mod.rs"]
mod tenant;
