//! A verified identity.

use livehelp_protocol::{SenderKind, SessionId, UserId};

/// Privileges that make a staff member an operator (SPEC §3).
pub fn is_operator_privilege(p: &str) -> bool {
    matches!(p, "admin" | "advocate")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub session: SessionId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Staff with `admin` or `advocate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: UserId,
    pub name: Option<String>,
    pub privileges: Vec<String>,
}

/// Staff without an operator privilege: known, but allowed nothing operators may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: UserId,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(User),
    Operator(Operator),
    Staff(Staff),
}

impl Principal {
    pub fn id(&self) -> &UserId {
        match self {
            Self::User(u) => &u.id,
            Self::Operator(o) => &o.id,
            Self::Staff(s) => &s.id,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Self::User(u) => u.name.as_deref(),
            Self::Operator(o) => o.name.as_deref(),
            Self::Staff(s) => s.name.as_deref(),
        }
    }

    /// How the principal appears as a message sender; staff who are not operators never
    /// send.
    pub fn sender_kind(&self) -> SenderKind {
        match self {
            Self::User(_) => SenderKind::User,
            Self::Operator(_) | Self::Staff(_) => SenderKind::Operator,
        }
    }
}
