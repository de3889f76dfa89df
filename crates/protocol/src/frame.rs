//! The frames of every WebSocket, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::{
    ChatMessage, ClientMessageId, ErrorCode, ErrorFrame, MessageId, MessageText, SenderKind,
    SessionId, SessionSummary, UserId,
};

/// What a browser may send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    #[serde(rename = "chat.activate")]
    ChatActivate,
    #[serde(rename = "chat.deactivate")]
    ChatDeactivate,
    #[serde(rename = "chat.open")]
    ChatOpen {
        session: Option<SessionId>,
        after: Option<MessageId>,
    },
    #[serde(rename = "chat.close")]
    ChatClose { session: SessionId },
    #[serde(rename = "chat.send")]
    ChatSend {
        cmid: ClientMessageId,
        text: MessageText,
        session: Option<SessionId>,
    },
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
        session: SessionId,
    },
    #[serde(rename = "chat.message")]
    ChatMessage(ChatMessage),
    #[serde(rename = "chat.state")]
    ChatState { session: SessionId, active: bool },
    #[serde(rename = "sessions")]
    Sessions { sessions: Vec<SessionSummary> },
    #[serde(rename = "session")]
    Session { session: SessionSummary },
    #[serde(rename = "session.gone")]
    SessionGone { session: SessionId },
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
            session,
        } = f
        else {
            panic!("wrong frame {f:?}")
        };
        assert_eq!((cmid.as_str(), text.as_str(), session), ("c1", "hi", None));
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
