//! A user's chat situation, computed from Redis: what the widget shows (SPEC §5).

use livehelp_bus::{Bus, BusError, conversation_for};
use livehelp_identity::User;
use livehelp_protocol::{Availability, ChatState, Mode, Partner, PhoneOffer};

/// Whether a mode has operators helping.
pub fn has_help(mode: Mode) -> bool {
    matches!(mode, Mode::Help | Mode::PeerHelp)
}

/// Whether a mode has users talking to each other.
pub fn has_peers(mode: Mode) -> bool {
    matches!(mode, Mode::Peer | Mode::PeerHelp)
}

pub async fn chat_state(bus: &Bus, user: &User) -> Result<ChatState, BusError> {
    let record = bus.session_record(&user.session).await?;
    let status = &record.status;
    let enabled = status.availability == Availability::Available;
    let conversation = conversation_for(&user.session, &user.id, status.mode);
    let chat = bus
        .chat_record(&user.session, &user.id)
        .await?
        .filter(|c| c.active && c.conversation == conversation);
    let help = if enabled && has_help(status.mode) && !record.blocked {
        bus.count_qualifying(&status.partner_roles).await?
    } else {
        0
    };
    let peer = if enabled && has_peers(status.mode) {
        record
            .users_online
            .iter()
            .filter(|u| **u != user.id)
            .count()
    } else {
        0
    };
    let operator = match chat.as_ref().and_then(|c| c.operator.clone()) {
        Some(id) => Some(Partner {
            name: bus.operator_name(&id).await?,
            id,
        }),
        None => None,
    };
    let queue_position = if chat.is_some() && operator.is_none() && !conversation.is_group() {
        bus.queue_position(&conversation).await?
    } else {
        None
    };
    // The offer names the service's number and the code, never the operator's number.
    let phone = bus.voice_offer(&user.session).await?.map(|o| PhoneOffer {
        number: o.number,
        code: o.code,
        expires_at: rfc3339_ms(o.expires_at_ms),
    });
    Ok(ChatState {
        session: user.session.clone(),
        conversation,
        mode: status.mode,
        enabled,
        active: chat.is_some(),
        blocked: record.blocked,
        help,
        peer,
        operator,
        queue_position,
        phone,
    })
}

/// Milliseconds since the epoch as RFC 3339 UTC.
fn rfc3339_ms(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}
