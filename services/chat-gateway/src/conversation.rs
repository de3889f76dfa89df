//! The conversations one connection has open: a subscription per session, forwarded into
//! one bounded queue, and the last message id delivered so that nothing is sent twice.

use std::collections::HashMap;

use livehelp_bus::{Bus, BusError, Published};
use livehelp_protocol::{ChatMessage, MessageId, SessionId};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Something the connection must act on for one of its conversations.
#[derive(Debug)]
pub enum Delivery {
    /// A payload published on the session's channel.
    Published(SessionId, Published),
    /// Payloads were dropped for this subscriber: re-read the stream.
    Lagged(SessionId),
}

struct Open {
    last: Option<MessageId>,
    /// The hub generation in which the stream was last read.
    synced: u64,
    forwarder: JoinHandle<()>,
}

/// The open conversations of one connection.
pub struct Conversations {
    open: HashMap<SessionId, Open>,
    tx: mpsc::Sender<Delivery>,
    /// Set when the queue overflowed: the client is too slow and must be closed.
    overflowed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Most conversations one connection may have open at once.
pub const MAX_OPEN: usize = 200;

impl Drop for Conversations {
    fn drop(&mut self) {
        for open in self.open.values() {
            open.forwarder.abort();
        }
    }
}

impl Conversations {
    pub fn new(queue: usize) -> (Self, mpsc::Receiver<Delivery>) {
        let (tx, rx) = mpsc::channel(queue);
        (
            Self {
                open: HashMap::new(),
                tx,
                overflowed: Default::default(),
            },
            rx,
        )
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn is_open(&self, session: &SessionId) -> bool {
        self.open.contains_key(session)
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn sessions(&self) -> Vec<SessionId> {
        self.open.keys().cloned().collect()
    }

    /// Subscribes to the session's channel (confirmed before returning, so nothing
    /// published after the history read below can be missed).
    pub async fn open(&mut self, bus: &Bus, session: SessionId, after: Option<MessageId>) {
        if let Some(open) = self.open.get_mut(&session) {
            open.last = open.last.max(after);
            return;
        }
        let mut sub = bus.hub().subscribe(bus.chat_channel(&session)).await;
        let synced = bus.hub().current_generation();
        let tx = self.tx.clone();
        let overflowed = self.overflowed.clone();
        let sid = session.clone();
        let forwarder = tokio::spawn(async move {
            loop {
                let delivery = match sub.recv().await {
                    Ok(payload) => Delivery::Published(sid.clone(), payload),
                    Err(RecvError::Lagged(_)) => Delivery::Lagged(sid.clone()),
                    Err(RecvError::Closed) => return,
                };
                if tx.try_send(delivery).is_err() {
                    overflowed.store(true, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
            }
        });
        self.open.insert(
            session,
            Open {
                last: after,
                synced,
                forwarder,
            },
        );
    }

    pub fn close(&mut self, session: &SessionId) {
        if let Some(open) = self.open.remove(session) {
            open.forwarder.abort();
        }
    }

    /// Stored messages the connection has not been given yet, all pages of them.
    pub async fn backlog(
        &self,
        bus: &Bus,
        session: &SessionId,
    ) -> Result<Vec<ChatMessage>, BusError> {
        let Some(open) = self.open.get(session) else {
            return Ok(Vec::new());
        };
        let mut after = open.last;
        let mut all = Vec::new();
        loop {
            let page = bus.messages_after(session, after).await?;
            let full = page.len() == livehelp_bus::HISTORY_PAGE;
            after = page.last().map(|m| m.id).or(after);
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// Whether a payload arrived in a newer connection generation than the conversation's
    /// last read of the stream: then the stream must be read first, since payloads published
    /// while the connection was down never arrive.
    pub fn needs_sync(&self, session: &SessionId, generation: u64) -> bool {
        self.open
            .get(session)
            .is_some_and(|o| o.synced != generation)
    }

    /// Records a read of the stream in `generation`.
    pub fn synced(&mut self, session: &SessionId, generation: u64) {
        if let Some(open) = self.open.get_mut(session) {
            open.synced = generation;
        }
    }

    /// Whether `message` is new for this connection; if so, it becomes the last delivered.
    pub fn admit(&mut self, message: &ChatMessage) -> bool {
        match self.open.get_mut(&message.session) {
            Some(open) if open.last.is_none_or(|last| message.id > last) => {
                open.last = Some(message.id);
                true
            }
            _ => false,
        }
    }
}
