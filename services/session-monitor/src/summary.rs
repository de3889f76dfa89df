//! What a monitor row shows, derived from what Redis holds (SPEC §6).

use std::collections::HashMap;

use livehelp_bus::{Bus, BusError, ChatRecord, SessionRecord};
use livehelp_protocol::{
    Availability, ChatSummary, Mode, Partner, SessionId, SessionStatus, SessionSummary, UserId,
};

/// How long an offline session stays listed before it drops off.
pub const OFFLINE_WINDOW_MS: u64 = 60 * 60 * 1000;

/// The status indicator: offline when no user is connected, off when observe-only, on while
/// a chat goes on (a help chat only once an operator is attached), otherwise standby when
/// an operator qualifies (or in peer mode, where no operator is needed) and waiting when
/// none does.
pub fn status(record: &SessionRecord, chats: &[ChatRecord], qualifying: usize) -> SessionStatus {
    if !record.connected() {
        return SessionStatus::Offline;
    }
    if record.status.availability == Availability::ObserveOnly {
        return SessionStatus::Off;
    }
    let chatting = chats
        .iter()
        .any(|c| c.active && (c.conversation.is_group() || c.operator.is_some()));
    if chatting {
        SessionStatus::On
    } else if qualifying > 0 || record.status.mode == Mode::Peer {
        SessionStatus::Standby
    } else {
        SessionStatus::Waiting
    }
}

/// What Redis holds about one listed session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowParts {
    pub record: SessionRecord,
    pub chats: Vec<ChatRecord>,
}

impl RowParts {
    /// The operators attached to the session's chats.
    pub fn operators(&self) -> impl Iterator<Item = &UserId> {
        self.chats.iter().filter_map(|c| c.operator.as_ref())
    }

    /// The row, given how many operators qualify for its roles and operators' names.
    pub fn summary(
        &self,
        qualifying: usize,
        names: &HashMap<UserId, Option<String>>,
    ) -> SessionSummary {
        let record = &self.record;
        let qualifying = if record.blocked { 0 } else { qualifying };
        let chats = self
            .chats
            .iter()
            .filter(|c| c.active)
            .map(|c| ChatSummary {
                conversation: c.conversation.clone(),
                user_name: c.user_name.clone(),
                operator: c.operator.clone().map(|id| Partner {
                    name: names.get(&id).cloned().flatten(),
                    id,
                }),
            })
            .collect();
        SessionSummary {
            session: record.status.session.clone(),
            title: record.status.title.clone(),
            user_name: record.user_name.clone(),
            status: status(record, &self.chats, qualifying),
            availability: record.status.availability,
            mode: record.status.mode,
            partner_roles: record.status.partner_roles.clone(),
            blocked: record.blocked,
            chats,
        }
    }
}

/// A session's parts, or `None` when the host made it invisible.
pub async fn fetch(bus: &Bus, session: &SessionId) -> Result<Option<RowParts>, BusError> {
    let record = bus.session_record(session).await?;
    if record.status.availability == Availability::Unavailable {
        return Ok(None);
    }
    let mut chats: Vec<ChatRecord> = bus.chat_records(session).await?.into_values().collect();
    chats.sort_by(|a, b| a.conversation.cmp(&b.conversation));
    Ok(Some(RowParts { record, chats }))
}
