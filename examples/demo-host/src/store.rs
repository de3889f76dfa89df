//! The demo host's server-side state, in memory: the interview answers of each session and
//! the join links already used.
//!
//! Both stand in for what a real host keeps elsewhere: answers in its database, used join
//! links in a store every instance shares (e.g. Redis `SET jti NX EXAT exp`). The demo host is
//! one process, so plain maps behind a mutex do; a restart forgets both (answers start
//! empty again; a link used before the restart has expired by the time anyone could reuse
//! it, since links live at most [`MAX_JOIN_LINK_SECONDS`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::session::Mode;

/// How many interview sessions the store keeps; past that, the one written least recently
/// is forgotten.
pub const MAX_SESSIONS: usize = 10_000;

/// The longest a join link may live, in seconds: session-monitor issues links for at most
/// 600 s (`monitor.join_link_seconds`), plus a minute for clocks that disagree. A link that
/// claims to live longer is refused, so a used link is never remembered for longer than this.
pub const MAX_JOIN_LINK_SECONDS: u64 = 600 + 60;

/// The answers of one interview session, shared by everyone taking part in it (its user,
/// people invited to a multi-user interview, operators who joined from the monitor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// Step 1: the name given.
    pub name: Option<String>,
    /// Step 1: several people fill in the interview together.
    pub multi: bool,
    /// Step 2: what the user needs help with.
    pub topic: Option<String>,
    /// Step 3: anything else.
    pub notes: Option<String>,
}

impl Answers {
    /// The live-help mode the answers call for.
    pub fn wanted_mode(&self) -> Mode {
        if self.multi {
            Mode::PeerHelp
        } else {
            Mode::Help
        }
    }
}

/// What the store keeps per interview session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interview {
    pub answers: Answers,
    /// The mode chat-gateway last accepted for the session; `None` until a call succeeded.
    pub announced: Option<Mode>,
}

#[derive(Debug, Default)]
struct InterviewsInner {
    /// Session id to its interview and the write sequence number it was last written at.
    by_session: HashMap<String, (Interview, u64)>,
    /// Write sequence number to session id: the first entry is the least recently written.
    by_write: BTreeMap<u64, String>,
    next_write: u64,
}

/// The interview answers of every session, bounded to a number of sessions (the demo host's
/// stand-in for a real host's database).
#[derive(Debug)]
pub struct Interviews {
    inner: Mutex<InterviewsInner>,
    capacity: usize,
}

impl Default for Interviews {
    fn default() -> Self {
        Self::with_capacity(MAX_SESSIONS)
    }
}

impl Interviews {
    /// A store that keeps at most `capacity` sessions (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, InterviewsInner> {
        // The maps stay consistent whatever panicked while holding the lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session's interview as stored now (empty if unknown or forgotten).
    pub fn get(&self, sid: &str) -> Interview {
        self.lock()
            .by_session
            .get(sid)
            .map(|(interview, _)| interview.clone())
            .unwrap_or_default()
    }

    /// Changes the session's interview (creating it if needed) and returns what `change`
    /// returns. The session becomes the most recently written; the least recently written
    /// one is forgotten when there are more than the capacity allows.
    pub fn update<R>(&self, sid: &str, change: impl FnOnce(&mut Interview) -> R) -> R {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let seq = inner.next_write;
        inner.next_write += 1;
        let (interview, written) = inner
            .by_session
            .entry(sid.to_owned())
            .or_insert_with(|| (Interview::default(), seq));
        let result = change(interview);
        inner.by_write.remove(written);
        *written = seq;
        inner.by_write.insert(seq, sid.to_owned());
        while inner.by_session.len() > self.capacity {
            let Some((_, oldest)) = inner.by_write.pop_first() else {
                break;
            };
            inner.by_session.remove(&oldest);
        }
        result
    }

    /// How many sessions are stored.
    pub fn len(&self) -> usize {
        self.lock().by_session.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a join link is refused once its signature, audience and expiry checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    /// Its `jti` was used before.
    Used,
    /// It claims to live longer than any link session-monitor issues.
    TooLong,
}

/// The `jti`s of join links already used, each remembered until its link expires.
#[derive(Debug, Default)]
pub struct UsedJoinLinks {
    /// `jti` to the link's `exp` (seconds since the epoch).
    used: Mutex<HashMap<String, u64>>,
}

impl UsedJoinLinks {
    /// Records that the link `jti`, valid until `exp`, is used now (`now` in seconds since
    /// the epoch). Refuses a `jti` seen before. Links that have expired are forgotten first:
    /// they are refused as expired anyway, so memory holds only links still alive.
    pub fn claim(&self, jti: &str, exp: u64, now: u64) -> Result<(), ClaimError> {
        if exp.saturating_sub(now) > MAX_JOIN_LINK_SECONDS {
            return Err(ClaimError::TooLong);
        }
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        // A link is valid up to and including its `exp` second.
        used.retain(|_, until| *until >= now);
        if used.contains_key(jti) {
            return Err(ClaimError::Used);
        }
        used.insert(jti.to_owned(), exp);
        Ok(())
    }

    /// How many used links are remembered.
    pub fn len(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_shared_per_session_and_unknown_sessions_are_empty() {
        let store = Interviews::default();
        assert_eq!(store.get("s-1"), Interview::default());
        store.update("s-1", |i| i.answers.name = Some("Ada".into()));
        store.update("s-1", |i| i.answers.topic = Some("Housing".into()));
        let got = store.get("s-1");
        assert_eq!(got.answers.name.as_deref(), Some("Ada"));
        assert_eq!(got.answers.topic.as_deref(), Some("Housing"));
        assert_eq!(store.get("s-2"), Interview::default());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn the_least_recently_written_session_is_forgotten_past_the_capacity() {
        let store = Interviews::with_capacity(2);
        store.update("a", |i| i.answers.multi = true);
        store.update("b", |i| i.answers.multi = true);
        store.update("a", |i| i.answers.name = Some("Ada".into()));
        store.update("c", |i| i.answers.multi = true);
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.get("b"),
            Interview::default(),
            "b was written least recently"
        );
        assert_eq!(store.get("a").answers.name.as_deref(), Some("Ada"));
        assert!(store.get("c").answers.multi);
        for n in 0..100 {
            store.update(&format!("s{n}"), |_| ());
        }
        assert_eq!(store.len(), 2);
        let inner = store.lock();
        assert_eq!(inner.by_write.len(), 2, "the order index stays in step");
    }

    #[test]
    fn a_join_link_is_claimed_once_and_forgotten_after_it_expires() {
        let used = UsedJoinLinks::default();
        assert_eq!(used.claim("j1", 1_060, 1_000), Ok(()));
        assert_eq!(used.claim("j1", 1_060, 1_001), Err(ClaimError::Used));
        assert_eq!(used.claim("j1", 1_060, 1_060), Err(ClaimError::Used));
        assert_eq!(used.claim("j2", 1_100, 1_010), Ok(()));
        assert_eq!(used.len(), 2);
        // Past j1's expiry, inserting prunes it; j2 is still alive.
        assert_eq!(used.claim("j3", 1_200, 1_061), Ok(()));
        assert_eq!(used.len(), 2);
        assert_eq!(used.claim("j2", 1_100, 1_062), Err(ClaimError::Used));
        assert_eq!(
            used.claim("j4", 2_000 + MAX_JOIN_LINK_SECONDS + 1, 2_000),
            Err(ClaimError::TooLong)
        );
        assert_eq!(
            used.claim("j5", 2_000 + MAX_JOIN_LINK_SECONDS, 2_000),
            Ok(())
        );
    }
}
