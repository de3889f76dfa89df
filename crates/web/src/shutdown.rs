//! Draining: on SIGTERM a service reports unready, closes its WebSockets with 1001 so
//! clients reconnect to another instance, then stops within the grace period.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Shutdown {
    draining: Arc<AtomicBool>,
    signal: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            draining: Arc::new(AtomicBool::new(false)),
            signal: watch::Sender::new(false),
        }
    }
}

impl Shutdown {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Starts draining: readiness turns off and every WebSocket session is told to close.
    pub fn begin(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.signal.send_replace(true);
    }

    /// Resolves once draining has begun; WebSocket loops select on it.
    pub async fn wait(&self) {
        let mut rx = self.signal.subscribe();
        // An error means the sender is gone, which only happens at process exit.
        let _ = rx.wait_for(|draining| *draining).await;
    }
}
