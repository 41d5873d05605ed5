//! telephony-operator: a Kubernetes operator that turns `TelephonyAccount` and `PhoneNumber`
//! objects into phone numbers bought, configured, renewed and released at Twilio.
//!
//! Functional core, imperative shell: `reconcile` and `billing` decide (pure functions of spec,
//! observed state and time); `controller` performs (Kubernetes and Twilio I/O). The stand-ins used
//! by tests and the sandbox live in their own crates (`twilio-sim`, `kube-emulator`) and only the
//! `sandbox` module and the binary depend on them.

pub mod api;
pub mod billing;
pub mod clock;
pub mod config;
pub mod controller;
pub mod observability;
pub mod operator;
pub mod reconcile;
pub mod sandbox;
pub mod twilio;

/// Version of the platform's terms that Managed accounts must accept (overridable by
/// `--terms-version`).
pub const DEFAULT_TERMS_VERSION: &str = "2026-01";

/// Selects the process-wide TLS crypto provider (ring). Two providers are compiled in (kube-rs
/// uses ring, reqwest aws-lc-rs), so rustls cannot choose by itself; call this before creating a
/// Kubernetes client. Calling it again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
