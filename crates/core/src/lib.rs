//! telephony-core: the functional core of the telephony operator — the CRD types (`api`), money
//! and the credits ledger (`billing`), every decision (`reconcile`), the condition helpers
//! (`conditions`) and Twilio's data model (`twilio`).
//!
//! Decisions are pure functions of (spec, observed state, now) that return an action and the next
//! status; they perform no I/O and never read the clock. This crate exists so that the compiler
//! enforces it: it depends on no Kubernetes client or runtime, no async runtime and no HTTP client
//! (`kube-core` and `kube-derive` only, for the types and the `CustomResource` derive), so a
//! decision cannot reach a server even by accident. The operator crate (`telephony-operator`) is
//! the imperative shell around it: it observes, performs the action and writes the status.

pub mod api;
pub mod billing;
pub mod conditions;
pub mod reason;
pub mod reconcile;
pub mod twilio;
