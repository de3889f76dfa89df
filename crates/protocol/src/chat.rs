//! Chat messages as stored and delivered.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{ClientMessageId, ConversationId, IdError, UserId};

/// A message's server id: its Redis stream id `<milliseconds>-<sequence>`. Ids grow within a
/// session, which is what lets a client resume "after" the last one it saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId {
    pub millis: u64,
    pub seq: u64,
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.seq)
    }
}

impl FromStr for MessageId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        let bad = IdError::BadCharacter { what: "message id" };
        let (millis, seq) = s.split_once('-').ok_or(bad.clone())?;
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(millis) || !digits(seq) {
            return Err(bad);
        }
        Ok(Self {
            millis: millis.parse().map_err(|_| bad.clone())?,
            seq: seq.parse().map_err(|_| bad)?,
        })
    }
}

impl Serialize for MessageId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderKind {
    User,
    Operator,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub kind: SenderKind,
    pub id: UserId,
    pub name: Option<String>,
}

/// What the chat log tells the host about a sender, beyond the name. Stored with each
/// message, never sent to other participants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A stored message, as every participant receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub conversation: ConversationId,
    pub id: MessageId,
    pub cmid: ClientMessageId,
    pub from: Sender,
    pub text: String,
    /// RFC 3339, UTC.
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_order_numerically_not_as_text() {
        let a: MessageId = "999-5".parse().expect("valid");
        let b: MessageId = "1000-0".parse().expect("valid");
        assert!(a < b);
        assert_eq!(b.to_string(), "1000-0");
    }

    #[test]
    fn malformed_message_ids_are_refused() {
        for bad in ["", "1", "-1", "1-", "a-1", "1-1-1", "+1-0", "1 -0"] {
            assert!(bad.parse::<MessageId>().is_err(), "{bad:?} was accepted");
        }
    }
}

/// The text of a message: 1 to [`MessageText::MAX_CHARS`] characters. Always text, never
/// markup: clients render it with `textContent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        let what = "text";
        if value.trim().is_empty() {
            return Err(IdError::Empty { what });
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(IdError::TooLong {
                what,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for MessageText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
