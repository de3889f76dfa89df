//! Chat events other than messages, published on a session's chat channel: relayed to the
//! gateways' connections, never stored.

use livehelp_protocol::{ConversationId, MessageId, Sender, SessionId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChatEvent {
    Typing {
        conversation: ConversationId,
        from: Sender,
        typing: bool,
    },
    Read {
        conversation: ConversationId,
        by: Sender,
        up_to: MessageId,
    },
    /// The session's chats changed (activation, assignment, queue, mode, block): users'
    /// chat states must be recomputed.
    Changed { session: SessionId },
    /// The session was blocked: operators leave its help conversations at once.
    Blocked { session: SessionId },
}

impl ChatEvent {
    pub fn session(&self) -> &SessionId {
        match self {
            Self::Typing { conversation, .. } | Self::Read { conversation, .. } => {
                &conversation.session
            }
            Self::Changed { session } | Self::Blocked { session } => session,
        }
    }
}
