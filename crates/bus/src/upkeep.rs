//! Which sends also keep their conversation's keys up: refresh their expiry and rotate its
//! client id index once full. Doing that on every send cost Redis three of the store
//! script's eight commands per message; a process does it on a conversation's first send,
//! then again once a minute has passed or [`UPKEEP_EVERY`] sends have gone by, whichever
//! comes first. So a conversation's keys outlive its last message by at least the retention
//! (their expiry is set to the retention plus [`UPKEEP_INTERVAL`]), and each process lets an
//! index overfill by fewer than [`UPKEEP_EVERY`] ids. A send without upkeep never creates a
//! conversation's keys: when they are gone, it keeps them up itself (see the store script).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Longest time between two upkeeps of a conversation by one process.
pub(crate) const UPKEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Most sends to a conversation, by one process, between two upkeeps.
pub const UPKEEP_EVERY: u32 = 64;

struct Kept {
    at: Instant,
    sends_since: u32,
}

/// The conversations this process kept up within the last [`UPKEEP_INTERVAL`], by their
/// stream's key; older entries are pruned once an interval.
pub(crate) struct Upkeep {
    kept: HashMap<String, Kept>,
    pruned_at: Instant,
}

impl Upkeep {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            kept: HashMap::new(),
            pruned_at: now,
        }
    }

    /// Counts a send to the conversation whose stream is `stream` and tells whether it is
    /// to keep the conversation up.
    pub(crate) fn due(&mut self, stream: &str, now: Instant) -> bool {
        if now.duration_since(self.pruned_at) >= UPKEEP_INTERVAL {
            self.kept
                .retain(|_, kept| now.duration_since(kept.at) < UPKEEP_INTERVAL);
            self.pruned_at = now;
        }
        if let Some(kept) = self.kept.get_mut(stream)
            && now.duration_since(kept.at) < UPKEEP_INTERVAL
            && kept.sends_since + 1 < UPKEEP_EVERY
        {
            kept.sends_since += 1;
            return false;
        }
        let fresh = Kept {
            at: now,
            sends_since: 0,
        };
        match self.kept.get_mut(stream) {
            Some(kept) => *kept = fresh,
            None => {
                self.kept.insert(stream.to_owned(), fresh);
            }
        }
        true
    }

    /// The sends that were to keep these streams' conversations up were not stored: the
    /// next ones do.
    pub(crate) fn failed(&mut self, streams: Vec<String>) {
        for stream in streams {
            self.kept.remove(&stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_send_and_then_every_upkeep_every_th_keeps_a_conversation_up() {
        let start = Instant::now();
        let mut upkeep = Upkeep::new(start);
        let due: Vec<bool> = (0..UPKEEP_EVERY * 2 + 1)
            .map(|_| upkeep.due("a", start))
            .collect();
        let kept: Vec<usize> = (0..due.len()).filter(|&i| due[i]).collect();
        let every = UPKEEP_EVERY as usize;
        assert_eq!(kept, [0, every, every * 2]);
        assert!(
            upkeep.due("b", start),
            "another conversation is kept up apart"
        );
    }

    #[test]
    fn a_conversation_is_kept_up_again_once_the_interval_has_passed_or_a_send_failed() {
        let start = Instant::now();
        let mut upkeep = Upkeep::new(start);
        assert!(upkeep.due("a", start));
        assert!(!upkeep.due("a", start + UPKEEP_INTERVAL / 2));
        assert!(upkeep.due("a", start + UPKEEP_INTERVAL));
        upkeep.failed(vec!["a".to_owned()]);
        assert!(upkeep.due("a", start + UPKEEP_INTERVAL));
    }

    #[test]
    fn conversations_kept_up_over_an_interval_ago_are_forgotten() {
        let start = Instant::now();
        let mut upkeep = Upkeep::new(start);
        for c in ["a", "b", "c"] {
            upkeep.due(c, start);
        }
        upkeep.due("d", start + UPKEEP_INTERVAL / 2);
        upkeep.due("d", start + UPKEEP_INTERVAL);
        assert_eq!(upkeep.kept.len(), 1);
    }
}
