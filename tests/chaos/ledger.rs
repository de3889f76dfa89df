//! The invariants over what every participant recorded: every acknowledged message reached
//! every participant of its conversation exactly once and in order, and nothing was stored
//! twice.

use std::collections::{BTreeSet, HashMap};

use livehelp_protocol::MessageId;

use crate::participant::Participant;

#[derive(Debug, Default, Clone)]
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
    /// What each participant missing messages got around the hole, and how it resumed.
    pub gaps: Vec<String>,
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
            let missing: Vec<MessageId> = want.difference(&ids).copied().collect();
            t.lost += missing.len() as u64;
            if !missing.is_empty() {
                t.gaps.push(gap(p, &r, conversation, got, &missing));
            }
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

/// Explains a participant's missing messages: the ones received just before and after the
/// first one missing (with the connection that brought them), and how each connection
/// resumed the conversation.
fn gap(
    p: &Participant,
    r: &crate::participant::Record,
    conversation: &str,
    got: &[crate::participant::Received],
    missing: &[MessageId],
) -> String {
    let first = missing[0];
    let before = got.iter().filter(|m| m.id < first).max_by_key(|m| m.id);
    let after = got.iter().filter(|m| m.id > first).min_by_key(|m| m.id);
    let show = |m: Option<&crate::participant::Received>| {
        m.map(|m| format!("{} from {} on connection {}", m.id, m.from, m.connection))
    };
    // The connections that brought the messages around the hole, and any between them.
    let (from, to) = (
        before.map_or(1, |m| m.connection),
        after.map_or(r.connects, |m| m.connection),
    );
    let resumes: Vec<String> = (from..=to)
        .filter_map(|n| {
            let resume = r.resumed.get(n.checked_sub(1)? as usize)?;
            let after = resume.after.iter().find(|(c, _)| c == conversation)?.1;
            Some(format!("#{n} at {} ms after {after:?}", resume.at_ms))
        })
        .collect();
    format!(
        "{} misses {missing:?} in {conversation}; got {:?} before and {:?} after; resumed {resumes:?}",
        p.spec.id,
        show(before),
        show(after),
    )
}
