//! Signs off operators whose monitors vanished without closing (a crashed browser, a lost
//! network): their presence expires and their help chats go back to the queue. Every
//! instance sweeps; signing off is idempotent.

use std::sync::Arc;
use std::time::Duration;

use livehelp_web::Context;

/// The sweep's loop; it runs for as long as the server does.
pub async fn run(ctx: Arc<Context>) {
    let every = Duration::from_secs(ctx.settings.limits.presence_seconds);
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match ctx.bus.expired_operators().await {
            Ok(expired) => {
                for operator in expired {
                    if let Err(e) = ctx.bus.sign_off(&operator).await {
                        tracing::warn!(error = %e, operator = %operator, "sign-off failed");
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "operator sweep skipped"),
        }
    }
}
