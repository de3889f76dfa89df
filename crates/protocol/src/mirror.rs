//! Frames of the screen-mirror socket (`/mirror/ws`). rrweb events pass through as opaque
//! JSON: the server checks the envelope and the size, never the page content, so it does not
//! parse (or keep) what a user's screen shows.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{ErrorCode, ErrorFrame, SessionId};

/// What a client sent on the mirror socket. Parsed as a flat envelope so the events stay
/// raw: only their JSON validity is checked.
#[derive(Debug, Deserialize)]
pub struct MirrorEnvelope<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(default)]
    pub session: Option<SessionId>,
    #[serde(default, borrow)]
    pub events: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub action: Option<&'a RawValue>,
    #[serde(default)]
    pub on: Option<bool>,
    #[serde(default, rename = "kind")]
    pub consent: Option<ConsentKind>,
    #[serde(default)]
    pub operator: Option<crate::UserId>,
    #[serde(default)]
    pub granted: Option<bool>,
}

/// What a user may be asked to agree to (when the host requires it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentKind {
    Observe,
    Control,
}

impl ConsentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Observe => "observe",
            Self::Control => "control",
        }
    }
}

/// A decoded mirror frame.
#[derive(Debug)]
pub enum MirrorFrame<'a> {
    /// User: a batch of rrweb events (a JSON array) from their page.
    Events(&'a RawValue),
    /// User: stop every observer now (the "Stop" button).
    StopObserving,
    /// Operator: start or stop observing a session.
    Observe { session: SessionId, on: bool },
    /// Operator: take or give back control of a session's screen.
    Control { session: SessionId, on: bool },
    /// Operator holding control: an edit or click to apply on the user's page.
    Input {
        session: SessionId,
        action: &'a RawValue,
    },
    /// User: their answer to an operator's request to observe or control.
    Consent {
        kind: ConsentKind,
        operator: crate::UserId,
        granted: bool,
    },
}

fn bad(message: impl Into<String>) -> ErrorFrame {
    ErrorFrame {
        code: ErrorCode::BadFrame,
        message: message.into(),
        reference: None,
    }
}

/// Parses one text frame of the mirror socket.
pub fn decode_mirror_frame(text: &str) -> Result<MirrorFrame<'_>, ErrorFrame> {
    let env: MirrorEnvelope<'_> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let session = |s: Option<SessionId>| s.ok_or_else(|| bad("session: required"));
    let on = |o: Option<bool>| o.ok_or_else(|| bad("on: required"));
    match env.kind {
        "mirror.events" => {
            let events = env.events.ok_or_else(|| bad("events: required"))?;
            if !events.get().trim_start().starts_with('[') {
                return Err(bad("events: must be a list"));
            }
            Ok(MirrorFrame::Events(events))
        }
        "mirror.stop" => Ok(MirrorFrame::StopObserving),
        "mirror.observe" => Ok(MirrorFrame::Observe {
            session: session(env.session)?,
            on: on(env.on)?,
        }),
        "mirror.control" => Ok(MirrorFrame::Control {
            session: session(env.session)?,
            on: on(env.on)?,
        }),
        "mirror.input" => Ok(MirrorFrame::Input {
            session: session(env.session)?,
            action: env.action.ok_or_else(|| bad("action: required"))?,
        }),
        "mirror.consent" => Ok(MirrorFrame::Consent {
            kind: env
                .consent
                .ok_or_else(|| bad("kind: required (observe or control)"))?,
            operator: env.operator.ok_or_else(|| bad("operator: required"))?,
            granted: env.granted.ok_or_else(|| bad("granted: required"))?,
        }),
        other => Err(bad(format!("unknown frame type {other:?}"))),
    }
}

/// `mirror.events` as observers receive it: built by concatenation so the events are
/// forwarded byte for byte.
pub fn events_for_observers(session: &SessionId, events: &RawValue) -> String {
    format!(
        r#"{{"type":"mirror.events","session":"{session}","events":{}}}"#,
        events.get()
    )
}

/// The session a relayed `mirror.events` frame belongs to, read off its fixed prefix
/// without parsing the events.
pub fn events_session(frame: &str) -> Option<&str> {
    frame
        .strip_prefix(r#"{"type":"mirror.events","session":""#)
        .and_then(|rest| rest.split_once('"'))
        .map(|(session, _)| session)
}

/// `mirror.input` as the user receives it.
pub fn input_for_user(action: &RawValue) -> String {
    format!(r#"{{"type":"mirror.input","action":{}}}"#, action.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_raw_and_envelopes_are_checked() {
        let text =
            r#"{"type":"mirror.events","events":[{"type":3,"data":{"source":5,"text":"a"}}]}"#;
        let MirrorFrame::Events(events) = decode_mirror_frame(text).expect("valid") else {
            panic!("not events")
        };
        let s = SessionId::parse("s1").expect("id");
        assert_eq!(
            events_for_observers(&s, events),
            r#"{"type":"mirror.events","session":"s1","events":[{"type":3,"data":{"source":5,"text":"a"}}]}"#
        );
        for bad in [
            r#"{"type":"mirror.events","events":{"a":1}}"#,
            r#"{"type":"mirror.events"}"#,
            r#"{"type":"mirror.observe","on":true}"#,
            r#"{"type":"mirror.observe","session":"a b","on":true}"#,
            r#"{"type":"mirror.input","session":"s"}"#,
            r#"{"type":"mirror.nope"}"#,
            "[1,2",
        ] {
            assert!(decode_mirror_frame(bad).is_err(), "{bad}");
        }
    }
}

/// Notices the mirror socket sends (besides relayed events and inputs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MirrorNotice {
    /// To the user: an observer arrived; send a full snapshot of the page.
    #[serde(rename = "mirror.snapshot")]
    SnapshotRequest,
    /// To the user: how many operators are viewing the screen now.
    #[serde(rename = "mirror.watchers")]
    Watchers { count: usize },
    /// To the user and the observers: who controls the screen (`null`: the user).
    #[serde(rename = "mirror.control")]
    Control {
        session: SessionId,
        controller: Option<crate::Partner>,
    },
    /// To the observers: the view ended (the user pressed Stop, or left).
    #[serde(rename = "mirror.ended")]
    Ended { session: SessionId, reason: String },
    /// To the user: an operator asks to observe or control (the host requires consent).
    #[serde(rename = "mirror.ask")]
    Ask {
        session: SessionId,
        kind: ConsentKind,
        operator: crate::Partner,
    },
    /// To the operator: waiting for the user's answer.
    #[serde(rename = "mirror.pending")]
    Pending {
        session: SessionId,
        kind: ConsentKind,
    },
    /// To the observers: the user's answer to an operator's request.
    #[serde(rename = "mirror.answer")]
    Answer {
        session: SessionId,
        kind: ConsentKind,
        operator: crate::UserId,
        granted: bool,
    },
}

impl MirrorNotice {
    pub fn to_json(&self) -> String {
        // Plain strings, numbers and options: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
