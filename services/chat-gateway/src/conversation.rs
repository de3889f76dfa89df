//! What one connection follows: its channels (through a bounded [`Inbox`]) and, per open
//! conversation, the last message id delivered, so nothing is sent twice and nothing is
//! skipped.

use std::collections::BTreeMap;
use std::sync::Arc;

use livehelp_bus::{Bus, BusError, Inbox, Mailbox};
use livehelp_protocol::{ChatMessage, ConversationId, MessageId, SessionId};

struct Open {
    last: Option<MessageId>,
    /// The hub generation in which the stream was last read.
    synced: u64,
}

/// Most conversations one connection may have open at once.
pub const MAX_OPEN: usize = 200;

/// The channels and conversations of one connection.
pub struct Follows {
    inbox: Inbox,
    /// A map of its own size: a `HashMap` holds a hasher too, in every idle connection.
    open: BTreeMap<ConversationId, Open>,
}

impl Follows {
    pub fn new(queue: usize) -> (Self, Arc<Mailbox>) {
        let (inbox, arrivals) = Inbox::new(queue);
        let follows = Self {
            inbox,
            open: BTreeMap::new(),
        };
        (follows, arrivals)
    }

    /// Whether the queue overflowed (payloads were dropped) since the last call.
    pub fn take_overflow(&self) -> bool {
        self.inbox.take_overflow()
    }

    /// Subscribes to a channel (confirmed before returning) unless already following it.
    pub async fn follow(&mut self, bus: &Bus, channel: String) {
        self.inbox.follow(bus.hub(), channel).await;
    }

    pub fn is_open(&self, conversation: &ConversationId) -> bool {
        self.open.contains_key(conversation)
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    pub fn open_in(&self, session: &SessionId) -> Vec<ConversationId> {
        self.open
            .keys()
            .filter(|c| c.session == *session)
            .cloned()
            .collect()
    }

    pub fn all_open(&self) -> Vec<ConversationId> {
        self.open.keys().cloned().collect()
    }

    /// Follows the conversation's session channel, then marks it open from `after`.
    pub async fn open(
        &mut self,
        bus: &Bus,
        conversation: ConversationId,
        after: Option<MessageId>,
    ) {
        self.follow(bus, bus.chat_channel(&conversation.session))
            .await;
        let synced = bus.hub().current_generation();
        self.open
            .entry(conversation)
            .and_modify(|o| o.last = o.last.max(after))
            .or_insert(Open {
                last: after,
                synced,
            });
    }

    /// Stops following a conversation; its session channel too, unless `keep_channel`.
    pub fn close(&mut self, bus: &Bus, conversation: &ConversationId, keep_channel: bool) {
        self.open.remove(conversation);
        let session = &conversation.session;
        if !keep_channel && !self.open.keys().any(|c| c.session == *session) {
            self.inbox.unfollow(&bus.chat_channel(session));
        }
    }

    /// Stored messages the connection has not been given yet, all pages of them.
    pub async fn backlog(
        &self,
        bus: &Bus,
        conversation: &ConversationId,
    ) -> Result<Vec<ChatMessage>, BusError> {
        let Some(open) = self.open.get(conversation) else {
            return Ok(Vec::new());
        };
        let mut after = open.last;
        let mut all = Vec::new();
        loop {
            let page = bus.messages_after(conversation, after).await?;
            let full = page.len() == livehelp_bus::HISTORY_PAGE;
            after = page.last().map(|(m, _)| m.id).or(after);
            all.extend(page.into_iter().map(|(m, _)| m));
            if !full {
                return Ok(all);
            }
        }
    }

    /// Whether a payload arrived in a newer connection generation than the conversation's
    /// last read of its stream: then the stream must be read first, because payloads
    /// published while the connection was down never arrive.
    pub fn needs_sync(&self, conversation: &ConversationId, generation: u64) -> bool {
        self.open
            .get(conversation)
            .is_some_and(|o| o.synced != generation)
    }

    /// Records a read of the stream in `generation`.
    pub fn synced(&mut self, conversation: &ConversationId, generation: u64) {
        if let Some(open) = self.open.get_mut(conversation) {
            open.synced = generation;
        }
    }

    /// Whether message `id` of `conversation` is new for this connection; if so, it becomes
    /// the last delivered.
    pub fn admit(&mut self, conversation: &ConversationId, id: MessageId) -> bool {
        match self.open.get_mut(conversation) {
            Some(open) if open.last.is_none_or(|last| id > last) => {
                open.last = Some(id);
                true
            }
            _ => false,
        }
    }
}
