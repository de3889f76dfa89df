//! The invariants over what every participant recorded: every acknowledged message reached
//! every participant of its conversation exactly once and in order, and nothing was stored
//! twice.

use std::collections::{BTreeSet, HashMap};

use livehelp_protocol::MessageId;

use crate::participant::Participant;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Distinct messages written.
    pub sent: u64,
    /// Distinct messages acknowledged (stored).
    pub acknowledged: u64,
    /// Acknowledged messages received, summed over the participants who should see them.
    pub delivered: u64,
    /// Acknowledged messages a participant who should see them never received.
    pub lost: u64,
    /// A message id received twice by one participant, a cmid acknowledged with two ids,
    /// or one send stored as two messages.
    pub duplicated: u64,
    /// A message received after a newer one of its conversation.
    pub reordered: u64,
    /// Sends still waiting for their acknowledgement.
    pub unacknowledged: u64,
    /// Received messages whose id, sender and cmid disagree with the acknowledgement.
    pub mismatched: u64,
}

impl Tally {
    /// Everything delivered and acknowledged, nothing lost or duplicated.
    pub fn settled(&self) -> bool {
        self.lost == 0 && self.unacknowledged == 0
    }

    pub fn clean(&self) -> bool {
        self.settled() && self.duplicated == 0 && self.reordered == 0 && self.mismatched == 0
    }
}

pub fn tally(participants: &[Participant]) -> Tally {
    let mut t = Tally::default();
    // Every acknowledged message: by conversation, and (conversation, id) → (sender, cmid).
    // Ids are stream ids, unique within their conversation only.
    let mut stored: HashMap<String, BTreeSet<MessageId>> = HashMap::new();
    let mut by_id: HashMap<(String, MessageId), (String, String)> = HashMap::new();
    let mut by_cmid: HashMap<(String, String), MessageId> = HashMap::new();
    for p in participants {
        let r = p.record();
        t.sent += r.sent;
        t.acknowledged += r.acks.len() as u64;
        t.unacknowledged += r.pending.len() as u64;
        t.duplicated += r.duplicated + r.ack_conflicts;
        t.reordered += r.reordered;
        for (cmid, (conversation, id)) in &r.acks {
            stored.entry(conversation.clone()).or_default().insert(*id);
            by_id.insert(
                (conversation.clone(), *id),
                (p.spec.id.clone(), cmid.clone()),
            );
            by_cmid.insert((p.spec.id.clone(), cmid.clone()), *id);
        }
    }
    let empty = BTreeSet::new();
    for p in participants {
        let r = p.record();
        for conversation in &p.spec.follows {
            let got = r.received.get(conversation).map_or(&[][..], Vec::as_slice);
            let ids: BTreeSet<MessageId> = got.iter().map(|m| m.id).collect();
            let want = stored.get(conversation).unwrap_or(&empty);
            t.delivered += want.intersection(&ids).count() as u64;
            t.lost += want.difference(&ids).count() as u64;
            for m in got {
                match by_id.get(&(conversation.clone(), m.id)) {
                    Some((from, cmid)) if *from == m.from && *cmid == m.cmid => {}
                    Some(_) => t.mismatched += 1,
                    // Stored but never acknowledged under this id: a second copy of an
                    // acknowledged send, or a send still pending.
                    None if by_cmid.contains_key(&(m.from.clone(), m.cmid.clone())) => {
                        t.duplicated += 1;
                    }
                    None => {}
                }
            }
        }
    }
    t
}
