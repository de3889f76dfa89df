//! A connection's sends queued for storage: a socket reads its next frame while its last
//! send is being stored, and acknowledges each once stored, in the order they came.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use livehelp_bus::{BusError, PendingStore, Stored};
use livehelp_protocol::{ClientMessageId, ConversationId};

/// A `chat.send` queued for storage, acknowledged once stored.
pub struct QueuedSend {
    pub cmid: ClientMessageId,
    pub conversation: ConversationId,
    pub queued: Instant,
    pub stored: PendingStore,
}

/// A queued send and how its storing ended.
pub type Outcome = Box<(QueuedSend, Result<Stored, BusError>)>;

/// Sends queued for storage, oldest first (they are stored, and acknowledged, in this order).
/// Made on the first send, so that an idle connection pays one word for it (the outcome is
/// boxed for the same reason: docs/benchmarks.md, idle connections).
#[derive(Default)]
#[allow(
    clippy::box_collection,
    reason = "one word in every idle connection's task instead of a VecDeque's four"
)]
pub struct Sends(Option<Box<VecDeque<QueuedSend>>>);

impl Sends {
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |q| q.len())
    }

    /// Whether this send is queued (not yet acknowledged).
    pub fn holds(&self, cmid: &ClientMessageId, conversation: &ConversationId) -> bool {
        self.0.as_ref().is_some_and(|q| {
            q.iter()
                .any(|s| s.cmid == *cmid && s.conversation == *conversation)
        })
    }

    pub fn push(&mut self, send: QueuedSend) {
        self.0.get_or_insert_default().push_back(send);
    }

    /// The oldest send, once stored (or refused). Cancel-safe: the sends stay queued.
    pub async fn next_stored(&mut self) -> Outcome {
        std::future::poll_fn(|cx| {
            let Some(queue) = self.0.as_mut() else {
                return Poll::Pending;
            };
            let Some(oldest) = queue.front_mut() else {
                return Poll::Pending;
            };
            let result = std::task::ready!(Pin::new(&mut oldest.stored).poll(cx));
            match queue.pop_front() {
                Some(send) => Poll::Ready(Box::new((send, result))),
                None => Poll::Pending,
            }
        })
        .await
    }
}
