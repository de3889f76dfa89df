//! The frames of every WebSocket, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::{
    ChatMessage, ClientMessageId, ConversationId, ErrorCode, ErrorFrame, MessageId, MessageText,
    Mode, PartnerRole, PhoneNumber, Sender, SenderKind, SessionId, SessionSummary, UserId,
};

/// What a browser may send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    /// User: start chatting (help: ask for an operator; peer: join the group).
    #[serde(rename = "chat.activate")]
    ChatActivate,
    /// User: stop chatting; the log stays readable.
    #[serde(rename = "chat.deactivate")]
    ChatDeactivate,
    /// Receive a conversation's stored messages after `after`, then live ones. Users may
    /// omit the conversation: theirs, by the session's mode.
    #[serde(rename = "chat.open")]
    ChatOpen {
        conversation: Option<ConversationId>,
        after: Option<MessageId>,
    },
    #[serde(rename = "chat.close")]
    ChatClose { conversation: ConversationId },
    #[serde(rename = "chat.send")]
    ChatSend {
        cmid: ClientMessageId,
        text: MessageText,
        conversation: Option<ConversationId>,
    },
    /// The sender started or stopped typing; relayed, not stored.
    #[serde(rename = "chat.typing")]
    ChatTyping {
        conversation: Option<ConversationId>,
        typing: bool,
    },
    /// The sender has read the conversation up to `up_to`.
    #[serde(rename = "chat.read")]
    ChatRead {
        conversation: Option<ConversationId>,
        up_to: MessageId,
    },
    /// Operator, on the monitor socket: availability and the partner roles served.
    #[serde(rename = "operator.status")]
    OperatorStatus {
        available: bool,
        roles: Vec<PartnerRole>,
    },
    /// Operator, on the monitor socket: the number calls are forwarded to (E.164), or
    /// `null` to clear it.
    #[serde(rename = "operator.phone")]
    OperatorPhone { phone: Option<String> },
    /// Operator, on the monitor socket: end every help chat of a session and refuse new
    /// ones until unblocked.
    #[serde(rename = "session.block")]
    SessionBlock { session: SessionId },
    #[serde(rename = "session.unblock")]
    SessionUnblock { session: SessionId },
    /// Operator, on the monitor socket: hide an offline row until its user comes back.
    #[serde(rename = "session.dismiss")]
    SessionDismiss { session: SessionId },
}

impl ClientFrame {
    /// The frame's `type`, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ChatActivate => "chat.activate",
            Self::ChatDeactivate => "chat.deactivate",
            Self::ChatOpen { .. } => "chat.open",
            Self::ChatClose { .. } => "chat.close",
            Self::ChatSend { .. } => "chat.send",
            Self::ChatTyping { .. } => "chat.typing",
            Self::ChatRead { .. } => "chat.read",
            Self::OperatorStatus { .. } => "operator.status",
            Self::OperatorPhone { .. } => "operator.phone",
            Self::SessionBlock { .. } => "session.block",
            Self::SessionUnblock { .. } => "session.unblock",
            Self::SessionDismiss { .. } => "session.dismiss",
        }
    }
}

/// Parses one text frame. The error is ready to send back as an `error` frame.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, ErrorFrame> {
    serde_json::from_str(text).map_err(|e| ErrorFrame {
        code: ErrorCode::BadFrame,
        message: e.to_string(),
        reference: cmid_of(text),
    })
}

/// Best effort: the `cmid` of a frame that failed to parse, so the client can tell which
/// of its sends was refused.
fn cmid_of(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct WithCmid {
        cmid: ClientMessageId,
    }
    serde_json::from_str::<WithCmid>(text)
        .ok()
        .map(|w| w.cmid.as_str().to_owned())
}

/// The `hello` frame, first on every socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub you: HelloYou,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    pub heartbeat_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloYou {
    pub kind: SenderKind,
    pub id: UserId,
    pub name: Option<String>,
}

/// Who is helping a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    pub id: UserId,
    pub name: Option<String>,
}

/// A user's whole chat situation, sent whenever any part of it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatState {
    pub session: SessionId,
    /// The conversation the user chats in under the current mode.
    pub conversation: ConversationId,
    pub mode: Mode,
    /// The host made chat available (`availability: available`).
    pub enabled: bool,
    /// The user turned chat on.
    pub active: bool,
    pub blocked: bool,
    /// Operators who could take a help chat now.
    pub help: usize,
    /// Other users of the session connected now (peer modes).
    pub peer: usize,
    /// The operator attached to the user's help chat.
    pub operator: Option<Partner>,
    /// 1-based place in the queue while waiting for an operator.
    pub queue_position: Option<usize>,
    /// An operator offers a telephone call: call `number` and enter `code`.
    #[serde(default)]
    pub phone: Option<PhoneOffer>,
}

/// How a user reaches an operator by telephone: the service's number (never the
/// operator's) and a one-time access code, valid until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneOffer {
    /// The service's (Twilio) number, E.164.
    pub number: PhoneNumber,
    /// The access code to enter on the phone's keypad: 4 digits.
    pub code: String,
    /// When the code stops working, RFC 3339 UTC.
    pub expires_at: String,
}

/// What the services send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    #[serde(rename = "hello")]
    Hello(Hello),
    #[serde(rename = "chat.ack")]
    ChatAck {
        cmid: ClientMessageId,
        id: MessageId,
        conversation: ConversationId,
    },
    #[serde(rename = "chat.message")]
    ChatMessage(ChatMessage),
    #[serde(rename = "chat.state")]
    ChatState(ChatState),
    #[serde(rename = "chat.typing")]
    ChatTyping {
        conversation: ConversationId,
        from: Sender,
        typing: bool,
    },
    #[serde(rename = "chat.read")]
    ChatRead {
        conversation: ConversationId,
        by: Sender,
        up_to: MessageId,
    },
    /// The operator may no longer take part in a conversation (the session was blocked).
    #[serde(rename = "chat.closed")]
    ChatClosed {
        conversation: ConversationId,
        reason: String,
    },
    #[serde(rename = "sessions")]
    Sessions { sessions: Vec<SessionSummary> },
    #[serde(rename = "session")]
    Session { session: SessionSummary },
    #[serde(rename = "session.gone")]
    SessionGone { session: SessionId },
    /// The operator's own status, and every role live sessions asked for recently.
    #[serde(rename = "operator.state")]
    OperatorState {
        available: bool,
        roles: Vec<PartnerRole>,
        known_roles: Vec<PartnerRole>,
        phone: Option<PhoneNumber>,
        /// Call forwarding is configured: offer the "Forward calls" toggle.
        voice: bool,
    },
    #[serde(rename = "error")]
    Error(ErrorFrame),
}

impl ServerFrame {
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every field is a string, number, bool or a
        // list/map of those.
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!(r#"{{"type":"error","code":"internal","message":"{e}"}}"#))
    }

    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error(ErrorFrame {
            code,
            message: message.into(),
            reference: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_frame_decodes() {
        let f = decode_client_frame(r#"{"type":"chat.send","cmid":"c1","text":"hi"}"#)
            .expect("valid frame");
        let ClientFrame::ChatSend {
            cmid,
            text,
            conversation,
        } = f
        else {
            panic!("wrong frame {f:?}")
        };
        assert_eq!(
            (cmid.as_str(), text.as_str(), conversation),
            ("c1", "hi", None)
        );
    }

    #[test]
    fn bad_frames_get_a_bad_frame_error_naming_the_cmid() {
        let e = decode_client_frame(r#"{"type":"chat.send","cmid":"c9","text":""}"#)
            .expect_err("empty text");
        assert_eq!(e.code, ErrorCode::BadFrame);
        assert_eq!(e.reference.as_deref(), Some("c9"));
        for bad in [
            "",
            "{",
            "[]",
            r#"{"type":"nope"}"#,
            r#"{"type":"chat.close"}"#,
            r#"{"type":"chat.open","conversation":"a/b/c"}"#,
        ] {
            assert!(decode_client_frame(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_frames_carry_their_type() {
        let json = ServerFrame::error(ErrorCode::Forbidden, "no").to_json();
        assert_eq!(
            json,
            r#"{"type":"error","code":"forbidden","message":"no"}"#
        );
    }
}
