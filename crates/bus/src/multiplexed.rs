//! Connections that many commands use at once: each command is written to one of a few
//! multiplexed connections, taken in turn, without waiting for the commands before it. A
//! busy process thus pipelines: Redis reads and answers many commands per system call, and
//! no command waits for a free connection (an exclusive pool caps a process at one command
//! in flight per connection).
//!
//! A connection used within [`TRUSTED_FOR`] is handed out as is; an idle one is checked
//! first ([`Manager::check`]). A connection a command failed on is dropped and reopened by
//! the next command that takes its turn.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

use crate::BusError;
use crate::pool::{Manager, TRUSTED_FOR};

pub(crate) struct Multiplexed {
    manager: Manager,
    slots: Vec<Mutex<Option<Slot>>>,
    next: AtomicUsize,
    opened: AtomicU64,
    timeout: Duration,
}

struct Slot {
    conn: MultiplexedConnection,
    /// Which opening of the slot this is, so a late failure cannot drop its successor.
    serial: u64,
    last_used: Instant,
}

/// A command's share of one connection.
pub(crate) struct Share {
    pub(crate) conn: MultiplexedConnection,
    slot: usize,
    serial: u64,
}

impl Multiplexed {
    pub(crate) fn new(manager: Manager, connections: usize, timeout: Duration) -> Self {
        Self {
            manager,
            slots: (0..connections.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            opened: AtomicU64::new(0),
            timeout,
        }
    }

    /// The next connection in turn, opened or checked first when needed.
    pub(crate) async fn get(&self) -> Result<Share, BusError> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[index].lock().await;
        if let Some(s) = slot.as_mut() {
            if s.last_used.elapsed() < TRUSTED_FOR || self.checked(&mut s.conn).await {
                s.last_used = Instant::now();
                return Ok(Share {
                    conn: s.conn.clone(),
                    slot: index,
                    serial: s.serial,
                });
            }
            *slot = None;
        }
        let conn = tokio::time::timeout(self.timeout, self.manager.open())
            .await
            .map_err(|_| BusError::Timeout(self.timeout))??;
        let serial = self.opened.fetch_add(1, Ordering::Relaxed);
        *slot = Some(Slot {
            conn: conn.clone(),
            serial,
            last_used: Instant::now(),
        });
        Ok(Share {
            conn,
            slot: index,
            serial,
        })
    }

    async fn checked(&self, conn: &mut MultiplexedConnection) -> bool {
        matches!(
            tokio::time::timeout(self.timeout, self.manager.check(conn)).await,
            Ok(Ok(()))
        )
    }

    /// Drops the connection a command failed on (unless it was replaced meanwhile).
    pub(crate) async fn discard(&self, share: Share) {
        let mut slot = self.slots[share.slot].lock().await;
        if slot.as_ref().is_some_and(|s| s.serial == share.serial) {
            *slot = None;
        }
    }
}
