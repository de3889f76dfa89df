//! Which conversation a message belongs to. In `help` mode each user of a session has a
//! private conversation with the operators; in `peer` and `peerhelp` modes the session's
//! users share one group conversation (with operators in `peerhelp`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{IdError, SessionId, UserId};

/// `<session>` for the group conversation, `<session>/<user>` for a user's private help
/// conversation. Neither id may hold `/`, so the form is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId {
    pub session: SessionId,
    /// The user of a private help conversation; `None` for the session's group.
    pub user: Option<UserId>,
}

impl ConversationId {
    pub fn group(session: SessionId) -> Self {
        Self {
            session,
            user: None,
        }
    }

    pub fn private(session: SessionId, user: UserId) -> Self {
        Self {
            session,
            user: Some(user),
        }
    }

    pub fn is_group(&self) -> bool {
        self.user.is_none()
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(u) => write!(f, "{}/{u}", self.session),
            None => write!(f, "{}", self.session),
        }
    }
}

impl std::str::FromStr for ConversationId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, IdError> {
        match s.split_once('/') {
            Some((session, user)) => Ok(Self::private(
                SessionId::parse(session)?,
                UserId::parse(user)?,
            )),
            None => Ok(Self::group(SessionId::parse(s)?)),
        }
    }
}

impl Serialize for ConversationId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConversationId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_round_trip() {
        for text in ["s1", "s1/u2"] {
            let id: ConversationId = text.parse().expect("valid");
            assert_eq!(id.to_string(), text);
        }
        assert!("s1/u2/x".parse::<ConversationId>().is_err());
        assert!("/u".parse::<ConversationId>().is_err());
    }
}
