//! What a session's chat channel carries: `m <id> <body>` for a stored message (its body as
//! the stream holds it, [`crate::chat_store`]) and `e <json>` for a chat event.
//!
//! A message's body is the message as every participant receives it, without its id, so its
//! `chat.message` frame is the body with the id spliced in: a gateway reads only what it
//! routes by (the conversation, the sender and the client id) and never encodes the text
//! again. A body with anything else (the sender's profile, which earlier versions published
//! inside it) is decoded in full and its frame encoded without it.

use livehelp_protocol::{ClientMessageId, ConversationId, MessageId, ServerFrame, UserId};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::chat_store::Body;
use crate::{BusError, ChatEvent};

/// Something published on a session's chat channel.
#[derive(Debug)]
pub enum ChatPayload {
    Message(PublishedMessage),
    Event(ChatEvent),
}

/// A stored message as published: what a gateway routes it by, and its frame.
#[derive(Debug)]
pub struct PublishedMessage {
    pub conversation: ConversationId,
    pub id: MessageId,
    pub cmid: ClientMessageId,
    /// The sender's id.
    pub from: UserId,
    /// The `chat.message` frame, ready to send.
    pub frame: String,
}

/// The parts of a body a gateway routes by; any field it does not know makes it fail, so
/// that nothing unknown is passed on to participants.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Routing {
    conversation: ConversationId,
    cmid: ClientMessageId,
    from: RoutingSender,
    #[serde(rename = "text")]
    _text: IgnoredAny,
    #[serde(rename = "at")]
    _at: IgnoredAny,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingSender {
    id: UserId,
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(rename = "name")]
    _name: IgnoredAny,
}

/// Parses a payload of a session's chat channel.
pub fn decode_published(payload: &[u8]) -> Result<ChatPayload, BusError> {
    let text = std::str::from_utf8(payload).map_err(|e| BusError::Corrupt(e.to_string()))?;
    if let Some(rest) = text.strip_prefix("m ") {
        let (id, body) = rest
            .split_once(' ')
            .ok_or_else(|| BusError::Corrupt("published message without id".into()))?;
        let id: MessageId = id.parse().map_err(|e| BusError::Corrupt(format!("{e}")))?;
        return Ok(ChatPayload::Message(message(id, body)?));
    }
    if let Some(event) = text.strip_prefix("e ") {
        return serde_json::from_str(event)
            .map(ChatPayload::Event)
            .map_err(|e| BusError::Corrupt(e.to_string()));
    }
    Err(BusError::Corrupt("unknown chat payload".into()))
}

fn message(id: MessageId, body: &str) -> Result<PublishedMessage, BusError> {
    let routing = body
        .strip_prefix('{')
        .and_then(|fields| Some((fields, serde_json::from_str::<Routing>(body).ok()?)));
    if let Some((fields, routing)) = routing {
        return Ok(PublishedMessage {
            frame: format!(r#"{{"type":"chat.message","id":"{id}",{fields}"#),
            conversation: routing.conversation,
            id,
            cmid: routing.cmid,
            from: routing.from.id,
        });
    }
    let body: Body = serde_json::from_str(body).map_err(|e| BusError::Corrupt(e.to_string()))?;
    let (message, _profile) = body.split(id);
    Ok(PublishedMessage {
        conversation: message.conversation.clone(),
        id,
        cmid: message.cmid.clone(),
        from: message.from.id.clone(),
        frame: ServerFrame::ChatMessage(message).to_json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use livehelp_protocol::{ChatMessage, Profile, Sender, SenderKind, SessionId};

    fn stored() -> (ChatMessage, String) {
        let message = ChatMessage {
            conversation: ConversationId::group(SessionId::parse("s1").expect("valid")),
            id: "1700000000000-7".parse().expect("valid"),
            cmid: ClientMessageId::parse("c-1").expect("valid"),
            from: Sender {
                kind: SenderKind::User,
                id: UserId::parse("u1").expect("valid"),
                name: Some("Ada \"A\" \u{e9}".into()),
            },
            text: "hello \"there\"\n\\ <b> \u{1f600}".into(),
            at: "2026-12-03T23:00:00Z".into(),
        };
        let payload = format!("m {} {}", message.id, body(&message));
        (message, payload)
    }

    /// The body a gateway stores and publishes for `message`.
    fn body(message: &ChatMessage) -> String {
        serde_json::to_string(&Body {
            conversation: message.conversation.clone(),
            cmid: message.cmid.clone(),
            from: message.from.clone(),
            text: message.text.clone(),
            at: message.at.clone(),
            profile: Some(Profile {
                email: Some("never@example.com".into()),
                ..Profile::default()
            }),
        })
        .expect("JSON")
    }

    fn frame(payload: &str) -> (PublishedMessage, serde_json::Value) {
        let Ok(ChatPayload::Message(published)) = decode_published(payload.as_bytes()) else {
            panic!("a message: {payload}");
        };
        let frame = serde_json::from_str(&published.frame).expect("the frame is JSON");
        (published, frame)
    }

    #[test]
    fn a_published_messages_frame_is_the_one_the_protocol_encodes() {
        let (message, payload) = stored();
        let (published, frame) = frame(&payload);
        let expected: serde_json::Value =
            serde_json::from_str(&ServerFrame::ChatMessage(message.clone()).to_json())
                .expect("JSON");
        assert_eq!(frame, expected);
        let spliced = format!(
            r#"{{"type":"chat.message","id":"{}","conversation":"#,
            message.id
        );
        assert!(
            published.frame.starts_with(&spliced),
            "spliced, not encoded again"
        );
        assert_eq!(published.conversation, message.conversation);
        assert_eq!(published.id, message.id);
        assert_eq!(published.cmid, message.cmid);
        assert_eq!(published.from, message.from.id);
    }

    #[test]
    fn a_profile_published_inside_the_body_never_reaches_the_frame() {
        let (message, _) = stored();
        let profile = Profile {
            email: Some("ada@example.com".into()),
            ..Profile::default()
        };
        let mut body: serde_json::Value = serde_json::from_str(&body(&message)).expect("JSON");
        body["profile"] = serde_json::to_value(&profile).expect("JSON");
        let (published, frame) = frame(&format!("m {} {body}", message.id));
        let expected: serde_json::Value =
            serde_json::from_str(&ServerFrame::ChatMessage(message).to_json()).expect("JSON");
        assert_eq!(frame, expected);
        assert!(!published.frame.contains("@example.com"));
    }

    #[test]
    fn a_body_written_as_an_array_is_decoded_not_spliced() {
        let (message, _) = stored();
        let fields = serde_json::json!([
            message.conversation,
            message.cmid,
            message.from,
            message.text,
            message.at
        ]);
        let (_, frame) = frame(&format!("m {} {fields}", message.id));
        let expected: serde_json::Value =
            serde_json::from_str(&ServerFrame::ChatMessage(message).to_json()).expect("JSON");
        assert_eq!(frame, expected);
    }

    #[test]
    fn a_body_that_is_not_a_message_is_corrupt() {
        for payload in [
            "m 1-0 {\"conversation\":\"s1\"}",
            "m 1-0 not json",
            "m not-an-id {}",
            "m 1-0",
            "x 1-0 {}",
        ] {
            assert!(
                matches!(
                    decode_published(payload.as_bytes()),
                    Err(BusError::Corrupt(_))
                ),
                "{payload}"
            );
        }
    }
}
