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

/// A session's parts, or `None` when it is not listed: the host made it invisible, or no
/// user of it was seen within the offline window.
pub async fn fetch(
    bus: &Bus,
    session: &SessionId,
    now_ms: u64,
) -> Result<Option<RowParts>, BusError> {
    let seen = bus.last_seen(session).await?;
    if seen.is_none_or(|t| t < now_ms.saturating_sub(OFFLINE_WINDOW_MS)) {
        return Ok(None);
    }
    let record = bus.session_record(session).await?;
    if record.status.availability == Availability::Unavailable {
        return Ok(None);
    }
    let mut chats: Vec<ChatRecord> = bus.chat_records(session).await?.into_values().collect();
    chats.sort_by(|a, b| a.conversation.cmp(&b.conversation));
    Ok(Some(RowParts { record, chats }))
}

#[cfg(test)]
mod tests {
    use livehelp_protocol::{ConversationId, LiveHelpStatus};

    use super::*;

    fn record(availability: Availability, mode: Mode, online: bool) -> SessionRecord {
        let session = SessionId::parse("s").expect("id");
        let mut status = LiveHelpStatus::new(session);
        status.availability = availability;
        status.mode = mode;
        SessionRecord {
            status,
            user_name: None,
            blocked: false,
            users_online: if online {
                vec![UserId::parse("u").expect("id")]
            } else {
                vec![]
            },
        }
    }

    fn chat(group: bool, active: bool, operator: Option<&str>) -> ChatRecord {
        let s = SessionId::parse("s").expect("id");
        ChatRecord {
            active,
            conversation: if group {
                ConversationId::group(s)
            } else {
                ConversationId::private(s, UserId::parse("u").expect("id"))
            },
            operator: operator.map(|o| UserId::parse(o).expect("id")),
            user_name: None,
        }
    }

    #[test]
    fn every_indicator_follows_its_definition() {
        use SessionStatus::*;
        let help = record(Availability::Available, Mode::Help, true);
        assert_eq!(status(&help, &[], 0), Waiting, "nobody qualifies");
        assert_eq!(
            status(&help, &[], 1),
            Standby,
            "a partner is available, chat not on"
        );
        assert_eq!(
            status(&help, &[chat(false, true, None)], 0),
            Waiting,
            "chat on, still queued"
        );
        assert_eq!(status(&help, &[chat(false, true, Some("o"))], 1), On);
        assert_eq!(
            status(&help, &[chat(false, false, None)], 1),
            Standby,
            "chat turned off"
        );
        let peer = record(Availability::Available, Mode::Peer, true);
        assert_eq!(status(&peer, &[], 0), Standby, "peers need no operator");
        assert_eq!(status(&peer, &[chat(true, true, None)], 0), On);
        let observe = record(Availability::ObserveOnly, Mode::Help, true);
        assert_eq!(status(&observe, &[chat(false, true, Some("o"))], 1), Off);
        let gone = record(Availability::Available, Mode::Help, false);
        assert_eq!(status(&gone, &[chat(false, true, Some("o"))], 1), Offline);
    }
}
