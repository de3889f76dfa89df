//! What a monitor row shows, derived from what Redis holds (SPEC §6).

use livehelp_bus::{Bus, BusError, OperatorPresence, SessionRecord};
use livehelp_protocol::{Availability, SessionId, SessionStatus, SessionSummary};

/// How long an offline session stays listed before it drops off.
pub const OFFLINE_WINDOW_MS: u64 = 60 * 60 * 1000;

/// The row of a session, or `None` when the host made it invisible.
pub fn summarize(record: SessionRecord, operators: OperatorPresence) -> Option<SessionSummary> {
    let status = match record.status.availability {
        Availability::Unavailable => return None,
        _ if !record.connected => SessionStatus::Offline,
        Availability::ObserveOnly => SessionStatus::Off,
        Availability::Available if record.chat_active => SessionStatus::On,
        Availability::Available if operators.online > 0 => SessionStatus::Standby,
        Availability::Available => SessionStatus::Waiting,
    };
    Some(SessionSummary {
        session: record.status.session,
        title: record.status.title,
        user_name: record.user_name,
        status,
        availability: record.status.availability,
        mode: record.status.mode,
        partner_roles: record.status.partner_roles,
    })
}

/// One session's row.
pub async fn load(bus: &Bus, session: &SessionId) -> Result<Option<SessionSummary>, BusError> {
    let operators = bus.operator_presence().await?;
    Ok(summarize(bus.session_record(session).await?, operators))
}

/// Every listed row, most recently seen first.
pub async fn load_all(bus: &Bus) -> Result<Vec<SessionSummary>, BusError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let operators = bus.operator_presence().await?;
    let mut rows = Vec::new();
    for session in bus
        .live_sessions(now.saturating_sub(OFFLINE_WINDOW_MS))
        .await?
    {
        if let Some(row) = summarize(bus.session_record(&session).await?, operators) {
            rows.push(row);
        }
    }
    Ok(rows)
}
