//! Tells users when an access code lapsed unused: Redis expires the code by itself, and
//! this sweep publishes the change so the offer leaves the user's help panel within a
//! second. Every instance sweeps; each lapsed offer is announced by one.

use std::sync::Arc;
use std::time::Duration;

use livehelp_web::Context;

const EVERY: Duration = Duration::from_millis(500);

/// The sweep's loop; it runs until the server drains.
pub async fn run(ctx: Arc<Context>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if ctx.shutdown.is_draining() {
            return;
        }
        if let Err(e) = ctx.bus.sweep_voice_offers().await {
            tracing::debug!(error = %e, "voice offer sweep skipped");
        }
    }
}
