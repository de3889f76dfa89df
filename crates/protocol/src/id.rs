//! Identifiers that arrive from outside. Each has a parsing constructor; once built it is
//! valid, so code behind the boundary never re-checks it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} may only hold letters, digits and - _ . @ :")]
    BadCharacter { what: &'static str },
}

fn check_token_chars(what: &'static str, value: &str, max: usize) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { what });
    }
    if value.chars().count() > max {
        return Err(IdError::TooLong { what, max });
    }
    // Ids end up in Redis key names and log fields: keep them to a safe alphabet (no
    // braces, which would break Redis Cluster hash tags, no spaces, no control characters).
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':'))
    {
        return Err(IdError::BadCharacter { what });
    }
    Ok(())
}

macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in characters.
            pub const MAX_LEN: usize = $max;

            /// Parses an identifier received from outside.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_token_chars($what, &value, Self::MAX_LEN)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

token_id!(
    /// A host application's interview session.
    SessionId, "session id", 128
);
token_id!(
    /// A user or operator, as named by the host application.
    UserId, "user id", 128
);
token_id!(
    /// The client's own id for a message it sends, so a retried send is stored once.
    ClientMessageId, "cmid", 64
);

/// A partner role requested by a session and selected by operators. Case-sensitive and
/// free text ("family law"), so it allows spaces but not control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PartnerRole(String);

impl PartnerRole {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        let what = "partner role";
        if value.trim().is_empty() {
            return Err(IdError::Empty { what });
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(IdError::TooLong {
                what,
                max: Self::MAX_LEN,
            });
        }
        if value.chars().any(char::is_control) {
            return Err(IdError::BadCharacter { what });
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PartnerRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_keep_to_a_safe_alphabet() {
        assert!(SessionId::parse("s-42_a.b@c:d").is_ok());
        assert_eq!(
            SessionId::parse(""),
            Err(IdError::Empty { what: "session id" })
        );
        assert!(matches!(
            SessionId::parse("a{b}"),
            Err(IdError::BadCharacter { .. })
        ));
        assert!(matches!(
            SessionId::parse("x".repeat(129)),
            Err(IdError::TooLong { .. })
        ));
    }

    #[test]
    fn ids_are_checked_when_deserialized() {
        let bad: Result<SessionId, _> = serde_json::from_str("\"has space\"");
        assert!(bad.is_err());
        let good: SessionId = serde_json::from_str("\"s1\"").expect("valid id");
        assert_eq!(good.as_str(), "s1");
    }

    #[test]
    fn partner_roles_allow_spaces_but_not_control_characters() {
        assert!(PartnerRole::parse("family law").is_ok());
        assert!(PartnerRole::parse("  ").is_err());
        assert!(PartnerRole::parse("a\nb").is_err());
    }
}
