//! Sessions as the host configures them and as users come and go: the host's status, the
//! users' presence, block. Every change publishes the session id on the monitor channel.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use livehelp_protocol::{
    Availability, LiveHelpStatus, Mode, PartnerRole, SessionId, StatusPatch, UserId,
};

use crate::{Bus, BusError, ChatEvent};

/// Published on the monitor channel instead of a session id when every row may have changed.
pub const ALL_SESSIONS: &str = "*";

/// Records a connection of a user. KEYS: the session's connections, the session. ARGV: now
/// (ms), the connection's member (`user|connection`), its expiry (ms), the user's prefix
/// (`user|`), the name it brings (empty: none). Returns `{arrived, renamed}`: whether the
/// user had no other live connection, and whether the session's user name changed. Only a
/// connection that was not live reads the others and the name; a nameless one never erases
/// the name a newer one brought.
static CONNECTED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local live = redis.call('ZSCORE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
if live then
  return {0, 0}
end
local arrived = 1
for _, other in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if other ~= ARGV[2] and string.sub(other, 1, #ARGV[4]) == ARGV[4] then
    arrived = 0
    break
  end
end
local renamed = 0
if ARGV[5] ~= '' and redis.call('HGET', KEYS[2], 'user_name') ~= ARGV[5] then
  redis.call('HSET', KEYS[2], 'user_name', ARGV[5])
  renamed = 1
end
return {arrived, renamed}
",
    )
});

/// Most sessions one monitor listing returns.
pub const MAX_LISTED_SESSIONS: usize = 5_000;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Everything stored about a session itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub status: LiveHelpStatus,
    /// The most recent user's display name.
    pub user_name: Option<String>,
    pub blocked: bool,
    /// Users with at least one live connection.
    pub users_online: Vec<UserId>,
}

impl SessionRecord {
    pub fn connected(&self) -> bool {
        !self.users_online.is_empty()
    }
}

fn text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
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
            observe_consent: field("observe_consent") == Some("1"),
            control_consent: field("control_consent") == Some("1"),
        },
        user_name: field("user_name")
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        blocked: field("blocked") == Some("1"),
        users_online: Vec::new(),
    })
}

impl Bus {
    pub(crate) async fn notify_monitor(&self, session: &SessionId) -> Result<(), BusError> {
        self.publish(self.keys.monitor_channel(), session.to_string())
            .await
    }

    /// Tells every monitor that every row may have changed (operator presence changed).
    pub async fn notify_all_sessions(&self) -> Result<(), BusError> {
        self.publish(self.keys.monitor_channel(), ALL_SESSIONS.to_owned())
            .await
    }

    /// The channel on which changed session ids (or [`ALL_SESSIONS`]) are published.
    pub fn monitor_channel(&self) -> String {
        self.keys.monitor_channel()
    }

    /// Applies the host's patch (only the fields it names) and returns the whole status.
    pub async fn update_status(
        &self,
        session: &SessionId,
        patch: StatusPatch,
    ) -> Result<LiveHelpStatus, BusError> {
        let key = self.keys.session(session);
        let mut pipe = redis::pipe();
        let mut changed = false;
        if let Some(a) = patch.availability {
            pipe.hset(&key, "availability", text(&a)).ignore();
            changed = true;
        }
        if let Some(m) = patch.mode {
            pipe.hset(&key, "mode", text(&m)).ignore();
            changed = true;
        }
        let roles_changed = patch.partner_roles.is_some();
        if let Some(r) = patch.partner_roles {
            let roles = r.into_vec();
            self.note_roles(&mut pipe, &roles);
            pipe.hset(&key, "partner_roles", text(&roles)).ignore();
            changed = true;
        }
        if let Some(t) = patch.title {
            pipe.hset(&key, "title", t).ignore();
            changed = true;
        }
        for (field, value) in [
            ("observe_consent", patch.observe_consent),
            ("control_consent", patch.control_consent),
        ] {
            if let Some(v) = value {
                pipe.hset(&key, field, if v { "1" } else { "0" }).ignore();
                changed = true;
            }
        }
        if changed {
            self.run(async |c| pipe.query_async::<()>(c).await).await?;
            self.publish_chat_event(&ChatEvent::Changed {
                session: session.clone(),
            })
            .await?;
            self.notify_monitor(session).await?;
        }
        if roles_changed {
            // Open monitors offer the roles sessions ask for: tell them.
            self.notify_operators_changed().await?;
        }
        Ok(self.session_record(session).await?.status)
    }

    /// The session's status, block and who is online.
    pub async fn session_record(&self, session: &SessionId) -> Result<SessionRecord, BusError> {
        let key = self.keys.session(session);
        let conns = self.keys.connections(session);
        let now = now_ms();
        let (hash, live): (HashMap<String, String>, Vec<String>) = self
            .run(async |c| {
                redis::pipe()
                    .hgetall(&key)
                    .cmd("ZRANGEBYSCORE")
                    .arg(&conns)
                    .arg(now)
                    .arg("+inf")
                    .query_async(c)
                    .await
            })
            .await?;
        let mut record = parse_record(session, hash)?;
        let mut users: Vec<UserId> = live
            .iter()
            .filter_map(|m| m.split('|').next())
            .filter_map(|u| UserId::parse(u).ok())
            .collect();
        users.sort();
        users.dedup();
        record.users_online = users;
        Ok(record)
    }

    /// Records (or refreshes) one of a user's connections, live until `ttl_ms` from now.
    /// Returns whether the user was offline before. A connection that arrives (or comes
    /// back after its entry expired) with a name makes it the session's user name; a
    /// refresh reads nothing else, so it costs the same however many users the session has.
    pub async fn user_connected(
        &self,
        session: &SessionId,
        user: &UserId,
        connection: &str,
        user_name: Option<&str>,
        ttl_ms: u64,
    ) -> Result<bool, BusError> {
        let now = now_ms();
        let (key, conns, live) = (
            self.keys.session(session),
            self.keys.connections(session),
            self.keys.live_sessions(),
        );
        let member = format!("{user}|{connection}");
        let (arrived, renamed): (bool, bool) = self
            .run(async |c| {
                let outcome = CONNECTED
                    .key(&conns)
                    .key(&key)
                    .arg(now)
                    .arg(&member)
                    .arg(now + ttl_ms)
                    .arg(format!("{user}|"))
                    .arg(user_name.unwrap_or_default())
                    .invoke_async(c)
                    .await?;
                redis::cmd("ZADD")
                    .arg(&live)
                    .arg(now)
                    .arg(session.as_str())
                    .query_async::<()>(c)
                    .await?;
                Ok(outcome)
            })
            .await?;
        if arrived || renamed {
            self.publish_chat_event(&ChatEvent::Changed {
                session: session.clone(),
            })
            .await?;
            self.notify_monitor(session).await?;
        }
        Ok(arrived)
    }

    /// Forgets one of a user's connections.
    pub async fn user_disconnected(
        &self,
        session: &SessionId,
        user: &UserId,
        connection: &str,
    ) -> Result<(), BusError> {
        let (conns, live) = (self.keys.connections(session), self.keys.live_sessions());
        let now = now_ms();
        let member = format!("{user}|{connection}");
        self.run(async |c| {
            redis::pipe()
                .zrem(&conns, &member)
                .zadd(&live, session.as_str(), now)
                .query_async::<()>(c)
                .await
        })
        .await?;
        self.publish_chat_event(&ChatEvent::Changed {
            session: session.clone(),
        })
        .await?;
        self.notify_monitor(session).await
    }

    /// When a user of the session was last seen (ms), if ever.
    pub async fn last_seen(&self, session: &SessionId) -> Result<Option<u64>, BusError> {
        let live = self.keys.live_sessions();
        let score: Option<f64> = self
            .run(async |c| {
                redis::cmd("ZSCORE")
                    .arg(&live)
                    .arg(session.as_str())
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(score.map(|s| s as u64))
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
}
