//! Signs off operators whose monitors vanished without closing (a crashed browser, a lost
//! network): their presence expires and their help chats go back to the queue. Every
//! instance sweeps; signing off is idempotent.

use std::sync::Arc;
use std::time::Duration;

use livehelp_web::Context;

pub fn spawn(ctx: Arc<Context>) {
    let every = Duration::from_secs(ctx.settings.limits.presence_seconds);
    tokio::spawn(async move {
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
    });
}
