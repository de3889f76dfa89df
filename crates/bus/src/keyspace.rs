//! Every Redis key and channel name. On Redis Cluster a script or transaction may only touch
//! keys of one slot, so keys used together share a hash tag:
//! - a session's messages, presence, mirror state and audit: `{<session id>}`;
//! - the operator directory, the queue and every session's chat records, which dispatching a
//!   help chat reads and writes in one script: `{dir}`;
//! - call forwarding: `{voice}`.
//!
//! Channels carry their session's tag too, so on a cluster a session's messages stay on its
//! shard.

use livehelp_protocol::{ConversationId, PartnerRole, SessionId, UserId};

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

    /// The start of every key in the operator directory's slot.
    fn directory(&self) -> String {
        format!("{}:{{dir}}", self.prefix)
    }

    /// Hash: the host's status (availability, mode, roles, title), the user's name, and
    /// whether the session is blocked.
    pub fn session(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}", self.prefix)
    }

    fn conversation_part(c: &ConversationId) -> String {
        match &c.user {
            Some(u) => format!("u:{u}"),
            None => "group".to_owned(),
        }
    }

    /// Stream: a conversation's messages, in order.
    pub fn chat(&self, c: &ConversationId) -> String {
        format!(
            "{}:session:{{{}}}:chat:{}",
            self.prefix,
            c.session,
            Self::conversation_part(c)
        )
    }

    /// Hash: `<sender>|<client message id>` → server id, so a retried send is stored once.
    /// Holds the latest sends; once full it becomes [`Keyspace::chat_cmids_old`].
    pub fn chat_cmids(&self, c: &ConversationId) -> String {
        format!(
            "{}:session:{{{}}}:cmids:{}",
            self.prefix,
            c.session,
            Self::conversation_part(c)
        )
    }

    /// Hash: the [`Keyspace::chat_cmids`] before the last one filled, so that sends made
    /// just before it did are still found.
    pub fn chat_cmids_old(&self, c: &ConversationId) -> String {
        format!(
            "{}:session:{{{}}}:cmids-old:{}",
            self.prefix,
            c.session,
            Self::conversation_part(c)
        )
    }

    /// Hash: reader id → the last message id they read in the conversation.
    pub fn chat_reads(&self, c: &ConversationId) -> String {
        format!(
            "{}:session:{{{}}}:reads:{}",
            self.prefix,
            c.session,
            Self::conversation_part(c)
        )
    }

    /// Hash: user → their chat record (active, operator) in the session. In the directory's
    /// slot: attaching an operator changes both in one script.
    pub fn chats(&self, s: &SessionId) -> String {
        format!("{}:chats:{s}", self.directory())
    }

    /// Sorted set: the users' live connections (`<user>|<connection>`), scored by expiry (ms).
    pub fn connections(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}:conns", self.prefix)
    }

    /// Channel: everything that happens in a session's conversations.
    pub fn chat_channel(&self, s: &SessionId) -> String {
        format!("{}:chan:chat:{{{s}}}", self.prefix)
    }

    /// Sorted set: sessions with a user seen recently, scored by last-seen time (ms).
    pub fn live_sessions(&self) -> String {
        format!("{}:sessions:live", self.prefix)
    }

    /// Sorted set: help conversations waiting for an operator, scored by arrival (ms).
    pub fn queue(&self) -> String {
        format!("{}:chat:queue", self.directory())
    }

    /// Sorted set: operators with a monitor open, scored by when that expires (ms).
    pub fn operators_online(&self) -> String {
        format!("{}:operators:online", self.directory())
    }

    /// Sorted set: one operator's monitor connections, scored by expiry (ms).
    pub fn operator_connections(&self, o: &UserId) -> String {
        format!("{}{o}:conns", self.operator_prefix())
    }

    /// Set: the help conversations attached to an operator.
    pub fn operator_chats(&self, o: &UserId) -> String {
        format!("{}{o}:chats", self.operator_prefix())
    }

    /// Set: offline sessions the operator dismissed from their list.
    pub fn operator_dismissed(&self, o: &UserId) -> String {
        format!("{}{o}:dismissed", self.operator_prefix())
    }

    /// Hash: one operator's name, availability and roles.
    pub fn operator(&self, o: &UserId) -> String {
        format!("{}{o}", self.operator_prefix())
    }

    /// Set: operators who selected a role.
    pub fn role_operators(&self, r: &PartnerRole) -> String {
        format!("{}{}", self.role_operators_prefix(), r.as_str())
    }

    /// The prefix of [`Keyspace::role_operators`] keys, for scripts that build them.
    pub fn role_operators_prefix(&self) -> String {
        format!("{}:operators:role:", self.directory())
    }

    /// The prefix of [`Keyspace::operator`] keys, for scripts that build them.
    pub fn operator_prefix(&self) -> String {
        format!("{}:operator:", self.directory())
    }

    /// Sorted set: operators by the number of help chats attached to them.
    pub fn operators_load(&self) -> String {
        format!("{}:operators:load", self.directory())
    }

    /// Sorted set: partner roles live sessions asked for, scored by when (ms).
    pub fn recent_roles(&self) -> String {
        format!("{}:roles:recent", self.directory())
    }

    /// Channel: operator presence, availability or roles changed.
    pub fn operators_channel(&self) -> String {
        format!("{}:chan:operators", self.prefix)
    }

    /// Whether `channel` is [`Keyspace::operators_channel`] (without building its name).
    pub fn is_operators_channel(&self, channel: &str) -> bool {
        channel
            .strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest == ":chan:operators")
    }

    /// Channel: frames towards a session's user on the mirror socket (snapshot requests,
    /// control, operator input).
    pub fn mirror_user_channel(&self, s: &SessionId) -> String {
        format!("{}:chan:mirror:{{{s}}}:user", self.prefix)
    }

    /// Channel: frames towards a session's observers (the user's page events, control).
    pub fn mirror_watch_channel(&self, s: &SessionId) -> String {
        format!("{}:chan:mirror:{{{s}}}:watch", self.prefix)
    }

    /// String with expiry: the operator controlling a session's screen.
    pub fn mirror_lock(&self, s: &SessionId) -> String {
        format!("{}:mirror:{{{s}}}:lock", self.prefix)
    }

    /// Hash: `<kind>|<operator>` → until when (ms) the user agreed that the operator may
    /// observe or control.
    pub fn mirror_consent(&self, s: &SessionId) -> String {
        format!("{}:mirror:{{{s}}}:consent", self.prefix)
    }

    /// Sorted set: a session's observer connections, scored by expiry (ms).
    pub fn mirror_watchers(&self, s: &SessionId) -> String {
        format!("{}:mirror:{{{s}}}:watchers", self.prefix)
    }

    /// Stream: the session's audit trail (observe, control, join, block).
    pub fn audit(&self, s: &SessionId) -> String {
        format!("{}:session:{{{s}}}:audit", self.prefix)
    }

    /// Channel: ids of sessions whose monitor row changed.
    pub fn monitor_channel(&self) -> String {
        format!("{}:chan:monitor", self.prefix)
    }

    // Call forwarding. Every key a voice script touches shares the hash tag `{voice}`: a
    // code is looked up by its digits alone, so it cannot live in its session's slot.

    /// String: a live access code → JSON `{operator, session}`; expires with the code.
    pub fn voice_code(&self, code: &str) -> String {
        format!("{}{code}", self.voice_code_prefix())
    }

    /// The prefix of [`Keyspace::voice_code`] keys, for scripts that build them.
    pub fn voice_code_prefix(&self) -> String {
        format!("{}:voice:{{voice}}:code:", self.prefix)
    }

    /// Hash: a session's live call offers, operator → JSON `{code, number, expires_at_ms}`.
    pub fn voice_session(&self, s: &SessionId) -> String {
        format!("{}{s}", self.voice_session_prefix())
    }

    /// The prefix of [`Keyspace::voice_session`] keys, for scripts that build them.
    pub fn voice_session_prefix(&self) -> String {
        format!("{}:voice:{{voice}}:session:", self.prefix)
    }

    /// Hash: an operator's live access codes, session → code.
    pub fn voice_operator(&self, o: &UserId) -> String {
        format!("{}{o}", self.voice_operator_prefix())
    }

    /// The prefix of [`Keyspace::voice_operator`] keys, for scripts that build them.
    pub fn voice_operator_prefix(&self) -> String {
        format!("{}:voice:{{voice}}:operator:", self.prefix)
    }

    /// Sorted set: sessions with a call offer, scored by when their latest offer expires
    /// (ms), so that users are told when it lapses.
    pub fn voice_expiries(&self) -> String {
        format!("{}:voice:{{voice}}:expiries", self.prefix)
    }

    /// Counter: the code prompts of one call (by Twilio's CallSid).
    pub fn voice_call(&self, call_sid: &str) -> String {
        format!("{}:voice:call:{call_sid}", self.prefix)
    }

    /// Counter: code guesses from one caller number in the current window.
    pub fn voice_caller_attempts(&self, caller: &str) -> String {
        format!("{}:voice:{{voice}}:attempts:caller:{caller}", self.prefix)
    }

    /// Counter: code guesses from every caller in the current window.
    pub fn voice_attempts(&self) -> String {
        format!("{}:voice:{{voice}}:attempts:all", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::Keyspace;

    #[test]
    fn recognises_its_own_operators_channel_only() {
        let keys = Keyspace::new("lh");
        assert!(keys.is_operators_channel(&keys.operators_channel()));
        assert!(!keys.is_operators_channel("lh:chan:operators:x"));
        assert!(!keys.is_operators_channel("lh:chan:chat:{s}"));
        assert!(!Keyspace::new("lh2").is_operators_channel(&keys.operators_channel()));
    }
}
