//! One task per gateway process that attaches queued help chats to operators whenever
//! operator presence, availability or load changes. Every instance runs one; the
//! attachment script is atomic, so they never double-assign.

use std::sync::Arc;
use std::time::Duration;

use livehelp_web::Context;

/// Also runs this often with no event, to catch what a lost event would have missed.
const SWEEP: Duration = Duration::from_secs(5);

/// The dispatcher's loop; it runs for as long as the server does.
pub async fn run(ctx: Arc<Context>) {
    let mut changes = ctx.bus.hub().subscribe(ctx.bus.operators_channel()).await;
    let mut sweep = tokio::time::interval(SWEEP);
    let cap = ctx.settings.chat.max_chats_per_operator;
    loop {
        tokio::select! {
            _ = changes.recv() => {}
            _ = sweep.tick() => {}
        }
        if let Err(e) = ctx.bus.dispatch(cap).await {
            tracing::warn!(error = %e, "queue dispatch failed");
        }
    }
}
