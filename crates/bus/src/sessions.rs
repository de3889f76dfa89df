//! Sessions as the monitor sees them: the host's status, the user's presence and chat
//! state, and which operators are online. Every change publishes the session id on the
//! monitor channel.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use livehelp_protocol::{
    Availability, LiveHelpStatus, Mode, PartnerRole, SessionId, StatusPatch, UserId,
};

use crate::{Bus, BusError};

/// Published on the monitor channel instead of a session id when every row may have changed.
pub const ALL_SESSIONS: &str = "*";

/// Most sessions one monitor listing returns.
pub const MAX_LISTED_SESSIONS: usize = 5_000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Everything the monitor needs to show one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub status: LiveHelpStatus,
    pub user_name: Option<String>,
    pub chat_active: bool,
    /// At least one of the user's connections is live.
    pub connected: bool,
}

/// Whether any operator has a monitor open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorPresence {
    pub online: usize,
}

fn text<T: serde::Serialize>(v: &T) -> String {
    // Unit enums and lists of strings always serialise.
    serde_json::to_value(v)
        .ok()
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| Some(v.to_string()))
        })
        .unwrap_or_default()
}

fn parse_record(
    session: &SessionId,
    h: HashMap<String, String>,
) -> Result<SessionRecord, BusError> {
    let field = |name: &str| h.get(name).map(String::as_str);
    let quoted = |v: &str| format!("\"{v}\"");
    let corrupt = |e: serde_json::Error| BusError::Corrupt(e.to_string());
    let availability: Availability = match field("availability") {
        Some(v) => serde_json::from_str(&quoted(v)).map_err(corrupt)?,
        None => Availability::default(),
    };
    let mode: Mode = match field("mode") {
        Some(v) => serde_json::from_str(&quoted(v)).map_err(corrupt)?,
        None => Mode::default(),
    };
    let partner_roles: Vec<PartnerRole> = match field("partner_roles") {
        Some(v) => serde_json::from_str(v).map_err(corrupt)?,
        None => Vec::new(),
    };
    Ok(SessionRecord {
        status: LiveHelpStatus {
            session: session.clone(),
            availability,
            mode,
            partner_roles,
            title: field("title").map(str::to_owned),
        },
        user_name: field("user_name")
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        chat_active: field("chat_active") == Some("1"),
        connected: false,
    })
}

impl Bus {
    async fn notify_monitor(&self, session: &SessionId) -> Result<(), BusError> {
        self.publish(self.keys.monitor_channel(), session.to_string())
            .await
    }

    /// Applies the host's patch (only the fields it names) and returns the whole status.
    pub async fn update_status(
        &self,
        session: &SessionId,
        patch: StatusPatch,
    ) -> Result<LiveHelpStatus, BusError> {
        let mut fields: Vec<(&str, String)> = Vec::new();
        if let Some(a) = patch.availability {
            fields.push(("availability", text(&a)));
        }
        if let Some(m) = patch.mode {
            fields.push(("mode", text(&m)));
        }
        if let Some(r) = patch.partner_roles {
            fields.push(("partner_roles", text(&r.into_vec())));
        }
        if let Some(t) = patch.title {
            fields.push(("title", t));
        }
        if !fields.is_empty() {
            let key = self.keys.session(session);
            self.run(async |c| {
                redis::cmd("HSET")
                    .arg(&key)
                    .arg(&fields)
                    .query_async::<i64>(c)
                    .await
            })
            .await?;
            self.notify_monitor(session).await?;
        }
        Ok(self.session_record(session).await?.status)
    }

    /// The session's status, user state and presence.
    pub async fn session_record(&self, session: &SessionId) -> Result<SessionRecord, BusError> {
        let key = self.keys.session(session);
        let conns = self.keys.connections(session);
        let now = now_ms();
        let (hash, live): (HashMap<String, String>, usize) = self
            .run(async |c| {
                redis::pipe()
                    .hgetall(&key)
                    .zcount(&conns, now, "+inf")
                    .query_async(c)
                    .await
            })
            .await?;
        let mut record = parse_record(session, hash)?;
        record.connected = live > 0;
        Ok(record)
    }

    /// Records (or refreshes) one of the user's connections, live until `ttl_ms` from now.
    pub async fn user_connected(
        &self,
        session: &SessionId,
        connection: &str,
        user_name: Option<&str>,
        ttl_ms: u64,
    ) -> Result<(), BusError> {
        let now = now_ms();
        let (key, conns, live) = (
            self.keys.session(session),
            self.keys.connections(session),
            self.keys.live_sessions(),
        );
        self.run(async |c| {
            redis::pipe()
                .zadd(&conns, connection, now + ttl_ms)
                .zrembyscore(&conns, "-inf", now)
                .zadd(&live, session.as_str(), now)
                .hset(&key, "user_name", user_name.unwrap_or(""))
                .query_async::<()>(c)
                .await
        })
        .await?;
        self.notify_monitor(session).await
    }

    /// Forgets one of the user's connections.
    pub async fn user_disconnected(
        &self,
        session: &SessionId,
        connection: &str,
    ) -> Result<(), BusError> {
        let (conns, live) = (self.keys.connections(session), self.keys.live_sessions());
        let now = now_ms();
        self.run(async |c| {
            redis::pipe()
                .zrem(&conns, connection)
                .zadd(&live, session.as_str(), now)
                .query_async::<()>(c)
                .await
        })
        .await?;
        self.notify_monitor(session).await
    }

    /// Turns the user's chat on or off.
    pub async fn set_chat_active(&self, session: &SessionId, active: bool) -> Result<(), BusError> {
        let key = self.keys.session(session);
        self.run(async |c| {
            redis::cmd("HSET")
                .arg(&key)
                .arg("chat_active")
                .arg(if active { "1" } else { "0" })
                .query_async::<i64>(c)
                .await
        })
        .await?;
        self.notify_monitor(session).await
    }

    /// Sessions whose user was seen at or after `since_ms`, most recent first.
    pub async fn live_sessions(&self, since_ms: u64) -> Result<Vec<SessionId>, BusError> {
        let live = self.keys.live_sessions();
        let ids: Vec<String> = self
            .run(async |c| {
                redis::cmd("ZREVRANGEBYSCORE")
                    .arg(&live)
                    .arg("+inf")
                    .arg(since_ms)
                    .arg("LIMIT")
                    .arg(0)
                    .arg(MAX_LISTED_SESSIONS)
                    .query_async(c)
                    .await
            })
            .await?;
        // Ids were checked when stored; one that no longer parses is skipped, not fatal.
        Ok(ids
            .into_iter()
            .filter_map(|s| SessionId::parse(s).ok())
            .collect())
    }

    /// Tells every monitor that operator presence changed, so every row's status may have.
    pub async fn notify_all_sessions(&self) -> Result<(), BusError> {
        self.publish(self.keys.monitor_channel(), ALL_SESSIONS.to_owned())
            .await
    }

    /// The channel on which changed session ids (or [`ALL_SESSIONS`]) are published.
    pub fn monitor_channel(&self) -> String {
        self.keys.monitor_channel()
    }

    /// Records that an operator's monitor connection is live until `ttl_ms` from now.
    pub async fn operator_online(
        &self,
        operator: &UserId,
        connection: &str,
        ttl_ms: u64,
    ) -> Result<(), BusError> {
        let key = self.keys.operators_online();
        let member = format!("{operator}|{connection}");
        let now = now_ms();
        self.run(async |c| {
            redis::pipe()
                .zadd(&key, &member, now + ttl_ms)
                .zrembyscore(&key, "-inf", now)
                .query_async::<()>(c)
                .await
        })
        .await
    }

    pub async fn operator_offline(
        &self,
        operator: &UserId,
        connection: &str,
    ) -> Result<(), BusError> {
        let key = self.keys.operators_online();
        let member = format!("{operator}|{connection}");
        self.run(async |c| {
            redis::cmd("ZREM")
                .arg(&key)
                .arg(&member)
                .query_async::<i64>(c)
                .await
        })
        .await
        .map(|_| ())
    }

    /// How many distinct operators have a live monitor connection.
    pub async fn operator_presence(&self) -> Result<OperatorPresence, BusError> {
        let key = self.keys.operators_online();
        let now = now_ms();
        let members: Vec<String> = self
            .run(async |c| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&key)
                    .arg(now)
                    .arg("+inf")
                    .query_async(c)
                    .await
            })
            .await?;
        let mut ids: Vec<&str> = members.iter().filter_map(|m| m.split('|').next()).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(OperatorPresence { online: ids.len() })
    }
}
