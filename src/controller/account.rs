//! Placeholder; replaced by the controller for this kind.

use super::Context;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs the controller until `shutdown` is cancelled.
pub async fn run(_ctx: Arc<Context>, shutdown: CancellationToken) {
    shutdown.cancelled().await;
}
