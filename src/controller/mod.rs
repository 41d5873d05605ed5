//! The imperative shell: kube-rs controllers around the pure decisions in `crate::reconcile`
//! and `crate::billing`. Watches, finalizers, status patches, events, requeues, and the Twilio
//! calls the decisions ask for.
//!
//! Layout: `context` (shared state handed to every reconcile), `account_access` (from a
//! TelephonyAccount to an authenticated Twilio API), `account` and `phone_number` (one
//! controller each; `phone_number_caches` lends the second's cache to the first, which holds each object in the
//! compact form of `compact_phone_number`), `inventory`
//! and `pricing` (caches shared by all numbers of an account), `claims` (one number, one owner,
//! across namespaces and replicas), `events` (Kubernetes events with a bounded series memory),
//! `leader` (Lease-based leader election), `metrics`.

pub mod account;
pub mod account_access;
pub mod account_changes;
pub mod backoff;
pub mod cache_trim;
pub mod claims;
pub mod compact_phone_number;
pub mod conditions;
pub mod context;
pub mod credits;
pub mod events;
pub mod inventory;
pub mod leader;
pub mod metrics;
pub mod number_search;
pub mod phone_number;
pub mod phone_number_caches;
pub mod pricing;

pub use context::Context;

use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs the controllers until `shutdown` is cancelled.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    tokio::join!(
        account::run(ctx.clone(), shutdown.clone()),
        number_search::run(ctx.clone(), shutdown.clone()),
        phone_number::run(ctx, shutdown),
    );
}
