//! telephony-operator: a Kubernetes operator that turns `TelephonyAccount` and `PhoneNumber`
//! objects into phone numbers bought, configured, renewed and released at Twilio.
//!
//! Functional core, imperative shell: `reconcile` and `billing` decide (pure functions of spec,
//! observed state and time); `controller` performs (Kubernetes and Twilio I/O). The core — `api`,
//! `billing`, `reconcile` and Twilio's data model — is its own crate, `telephony-core`, which links
//! no client, runtime or HTTP, so the compiler keeps I/O out of it; it is re-exported here under
//! its old paths. The stand-ins used
//! by tests and the sandbox live in their own crates (`twilio-sim`, `kube-emulator`); only the
//! `sandbox` module depends on them, behind the `sandbox` cargo feature (default on for the
//! README's commands, off for the deployable operator: `cargo build --release --no-default-features`).

pub mod allocator;
pub mod clock;
pub mod config;
pub mod controller;
pub mod observability;
pub mod operator;
pub mod plugin;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod twilio;

pub use telephony_core::{api, billing, reconcile};

/// Version of the platform's terms that Managed accounts must accept (overridable by
/// `--terms-version`).
pub const DEFAULT_TERMS_VERSION: &str = "2026-01";

/// Installs the process-wide TLS crypto provider (ring), the only one compiled in: kube-rs and
/// reqwest (built without a provider of its own) both use it. Call it before creating a
/// Kubernetes client or a Twilio client. Calling it again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
