//! Every Redis key and channel name. Keys of one session share a hash tag (`{sid}`) so a
//! script may touch several of them on Redis Cluster.

use livehelp_protocol::SessionId;

#[derive(Debug, Clone)]
pub struct Keyspace {
    prefix: String,
}

impl Keyspace {
    /// `prefix` must be non-empty letters, digits, `-`, `_` or `.` (settings check it).
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Hash: the host's status (availability, mode, roles, title) and the user's state
    /// (name, chat active).
    pub fn session(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}", self.prefix)
    }

    /// Stream: the session's chat messages, in order.
    pub fn chat(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}:chat", self.prefix)
    }

    /// Hash: client message id → server id, so a retried send is stored once.
    pub fn chat_cmids(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}:cmids", self.prefix)
    }

    /// Sorted set: the user's live connections, scored by when they expire (ms).
    pub fn connections(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}:conns", self.prefix)
    }

    /// Channel: chat events of one session.
    pub fn chat_channel(&self, s: &SessionId) -> String {
        format!("{}:chan:chat:{{{s}}}", self.prefix)
    }

    /// Sorted set: sessions with a user seen recently, scored by last-seen time (ms).
    pub fn live_sessions(&self) -> String {
        format!("{}:sessions:live", self.prefix)
    }

    /// Sorted set: operators with a monitor open, scored by when that expires (ms).
    pub fn operators_online(&self) -> String {
        format!("{}:operators:online", self.prefix)
    }

    /// Channel: ids of sessions whose monitor row changed.
    pub fn monitor_channel(&self) -> String {
        format!("{}:chan:monitor", self.prefix)
    }
}
