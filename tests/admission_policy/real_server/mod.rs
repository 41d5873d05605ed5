//! The policies enforced by a real kube-apiserver (`TELEPHONY_E2E_KUBECONFIG`; skipped with a
//! message without one): for the tenant and an admin-group member, with deploy/'s file as the
//! server holds it.

mod fixtures;

mod mode_lock;

mod skip_release;

mod fail_closed;

mod type_checking;

mod credit_grants;

mod finalizer_at_create;
