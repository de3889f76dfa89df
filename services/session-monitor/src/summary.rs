//! What a monitor row shows, derived from what Redis holds (SPEC §6).

use livehelp_bus::{Bus, BusError, ChatRecord, SessionRecord};
use livehelp_protocol::{
    Availability, ChatSummary, Mode, Partner, SessionId, SessionStatus, SessionSummary,
};

/// How long an offline session stays listed before it drops off.
pub const OFFLINE_WINDOW_MS: u64 = 60 * 60 * 1000;

/// The status indicator: offline when no user is connected, off when observe-only, on while
/// a chat goes on (a help chat only once an operator is attached), otherwise standby when
/// an operator qualifies and waiting when none does.
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

/// One session's row, or `None` when the host made it invisible.
pub async fn load(bus: &Bus, session: &SessionId) -> Result<Option<SessionSummary>, BusError> {
    let record = bus.session_record(session).await?;
    if record.status.availability == Availability::Unavailable {
        return Ok(None);
    }
    let mut chats: Vec<ChatRecord> = bus.chat_records(session).await?.into_values().collect();
    chats.sort_by(|a, b| a.conversation.cmp(&b.conversation));
    let qualifying = if record.blocked {
        0
    } else {
        bus.count_qualifying(&record.status.partner_roles).await?
    };
    let status = status(&record, &chats, qualifying);
    let mut summaries = Vec::new();
    for chat in chats.into_iter().filter(|c| c.active) {
        let operator = match chat.operator {
            Some(id) => Some(Partner {
                name: bus.operator_name(&id).await?,
                id,
            }),
            None => None,
        };
        summaries.push(ChatSummary {
            conversation: chat.conversation,
            user_name: chat.user_name,
            operator,
        });
    }
    Ok(Some(SessionSummary {
        session: record.status.session,
        title: record.status.title,
        user_name: record.user_name,
        status,
        availability: record.status.availability,
        mode: record.status.mode,
        partner_roles: record.status.partner_roles,
        blocked: record.blocked,
        chats: summaries,
    }))
}

/// Every listed row, most recently seen first.
pub async fn load_all(bus: &Bus) -> Result<Vec<SessionSummary>, BusError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut rows = Vec::new();
    for session in bus
        .live_sessions(now.saturating_sub(OFFLINE_WINDOW_MS))
        .await?
    {
        if let Some(row) = load(bus, &session).await? {
            rows.push(row);
        }
    }
    Ok(rows)
}
