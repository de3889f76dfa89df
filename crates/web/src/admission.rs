//! How many WebSockets a process admits: a cap for the whole process and one per identity,
//! so a connection flood (or one user opening socket after socket, in one session or many)
//! meets a clear refusal before it costs a task, a queue and Redis presence writes.
//!
//! The counts are per process, not cluster-wide: with N instances behind the ingress one
//! identity may hold up to N times its cap. That keeps admission free of Redis round trips
//! and of counts a killed instance would leave behind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use livehelp_identity::Principal;
use livehelp_protocol::ErrorCode;

use crate::ApiError;

/// The open WebSockets of one process.
#[derive(Debug)]
pub struct Admission {
    max_total: usize,
    max_per_identity: usize,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_identity: HashMap<String, usize>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Admitted {
    admission: Arc<Admission>,
    identity: String,
}

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The process holds `limits.max_connections` sockets.
    ProcessFull,
    /// The identity holds `limits.max_connections_per_identity` sockets here.
    IdentityFull,
}

impl Refused {
    /// The metric label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::ProcessFull => "process_cap",
            Self::IdentityFull => "identity_cap",
        }
    }

    /// 503 (the client retries, usually reaching another instance) or 429 (this identity
    /// must close a socket first).
    pub fn error(self) -> ApiError {
        match self {
            Self::ProcessFull => ApiError::new(
                ErrorCode::Unavailable,
                "this instance holds as many connections as it may; retry shortly",
            ),
            Self::IdentityFull => ApiError::new(
                ErrorCode::RateLimited,
                "this identity holds as many connections as it may; close one first",
            ),
        }
    }
}

impl Admission {
    pub fn new(max_total: usize, max_per_identity: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_identity,
            open: Mutex::default(),
        })
    }

    /// Takes a place for one more socket of `who`, or says which cap is reached.
    pub fn admit(self: &Arc<Self>, who: &Principal) -> Result<Admitted, Refused> {
        let identity = identity_key(who);
        let mut open = self.lock();
        if open.total >= self.max_total {
            return Err(Refused::ProcessFull);
        }
        let held = open.by_identity.get(&identity).copied().unwrap_or(0);
        if held >= self.max_per_identity {
            return Err(Refused::IdentityFull);
        }
        open.total += 1;
        open.by_identity.insert(identity.clone(), held + 1);
        Ok(Admitted {
            admission: self.clone(),
            identity,
        })
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The critical sections cannot panic half-way, so a poisoned lock still holds
        // consistent counts.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.admission.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(held) = open.by_identity.get_mut(&self.identity) {
            *held -= 1;
            if *held == 0 {
                open.by_identity.remove(&self.identity);
            }
        }
    }
}

/// Users count by user id across all their sessions; staff by their id.
fn identity_key(who: &Principal) -> String {
    match who {
        Principal::User(u) => format!("user:{}", u.id),
        Principal::Operator(_) | Principal::Staff(_) => format!("staff:{}", who.id()),
    }
}

#[cfg(test)]
mod tests {
    use livehelp_identity::User;
    use livehelp_protocol::{SessionId, UserId};

    use super::*;

    fn user(id: &str, session: &str) -> Principal {
        Principal::User(User {
            id: UserId::parse(id).expect("id"),
            session: SessionId::parse(session).expect("session"),
            name: None,
            email: None,
            first_name: None,
            last_name: None,
        })
    }

    #[test]
    fn an_identity_holds_its_cap_across_sessions_and_frees_places_on_drop() {
        let (one, same_user_elsewhere, other) =
            (user("u1", "s1"), user("u1", "s2"), user("u2", "s1"));
        let admission = Admission::new(10, 2);
        let a = admission.admit(&one).expect("first");
        let _b = admission
            .admit(&same_user_elsewhere)
            .expect("second, other session");
        assert_eq!(
            admission.admit(&one).err(),
            Some(Refused::IdentityFull),
            "sessions do not multiply a user's cap"
        );
        let _c = admission.admit(&other).expect("others are unaffected");
        drop(a);
        assert_eq!(admission.open(), 2);
        admission.admit(&one).expect("a place was freed");
    }

    #[test]
    fn the_process_cap_holds_for_everyone() {
        let admission = Admission::new(1, 1);
        let held = admission.admit(&user("u1", "s1")).expect("first");
        assert_eq!(
            admission.admit(&user("u2", "s1")).err(),
            Some(Refused::ProcessFull)
        );
        drop(held);
        assert!(admission.admit(&user("u2", "s1")).is_ok());
    }
}
