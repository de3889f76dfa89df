//! What the operators' monitor shows of a session (SPEC §6).

use serde::{Deserialize, Serialize};

use crate::{Availability, ConversationId, Mode, Partner, PartnerRole, SessionId};

/// The status indicator of a session row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// The user wants chat and nobody qualifies.
    Waiting,
    /// A partner is available; chat is not activated.
    Standby,
    /// Chat is active.
    On,
    /// Observe-only: no chat, the screen can still be observed.
    Off,
    /// The user went away.
    Offline,
}

/// A chat going on in a session: a user's private help conversation, or the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummary {
    pub conversation: ConversationId,
    pub user_name: Option<String>,
    /// The operator attached to a help chat; `None` while it waits in the queue, and for
    /// peer chats.
    pub operator: Option<Partner>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub session: SessionId,
    pub title: Option<String>,
    pub user_name: Option<String>,
    pub status: SessionStatus,
    pub availability: Availability,
    pub mode: Mode,
    pub partner_roles: Vec<PartnerRole>,
    pub blocked: bool,
    pub chats: Vec<ChatSummary>,
}
