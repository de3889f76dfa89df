//! The operator directory: who has a monitor open, who is available, which roles each
//! serves, and how many help chats each carries. session-monitor writes it; chat-gateway
//! reads it to count and attach operators.

use std::sync::LazyLock;

use livehelp_protocol::{PartnerRole, PhoneNumber, UserId};

use crate::sessions::now_ms;
use crate::{Bus, BusError};

/// The loop shared by the operator scripts: finds the operators online, available and
/// having selected any of the roles in `ARGV[first..]`; counts them and picks the least
/// busy under the cap (ties by id). Expects `online, opprefix, roleprefix, loadkey, now,
/// cap, first` to be set.
pub(crate) const QUALIFY_LOOP: &str = r"
local seen, count, best, bestload = {}, 0, false, 0
for i = first, #ARGV do
  for _, op in ipairs(redis.call('SMEMBERS', roleprefix .. ARGV[i])) do
    if not seen[op] then
      seen[op] = true
      local expiry = tonumber(redis.call('ZSCORE', online, op) or '0')
      if expiry > now and redis.call('HGET', opprefix .. op, 'available') == '1' then
        count = count + 1
        local load = tonumber(redis.call('ZSCORE', loadkey, op) or '0')
        if load < cap and ((not best) or load < bestload or (load == bestload and op < best)) then
          best, bestload = op, load
        end
      end
    end
  end
end
";

/// Counts the qualifying operators for the roles in `ARGV[6..]`.
static COUNT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        "local online, opprefix, roleprefix, loadkey = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
         local now, cap, first = tonumber(ARGV[5]), 0, 6
         {QUALIFY_LOOP}
         return count"
    ))
});

/// How long a role requested by a session stays offered to operators as a checkbox.
const RECENT_ROLES_MS: u64 = 24 * 3600 * 1000;

/// An operator's own settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorStatus {
    pub available: bool,
    pub roles: Vec<PartnerRole>,
}

impl Bus {
    /// The arguments every operator script starts with: online set, operator hash prefix,
    /// role set prefix, load set, now.
    pub(crate) fn directory_args(&self, inv: &mut redis::ScriptInvocation<'_>) {
        inv.arg(self.keys.operators_online())
            .arg(self.keys.operator_prefix())
            .arg(self.keys.role_operators_prefix())
            .arg(self.keys.operators_load())
            .arg(now_ms());
    }

    /// Distinct operators online and available who selected any of `roles`.
    pub async fn count_qualifying(&self, roles: &[PartnerRole]) -> Result<usize, BusError> {
        if roles.is_empty() {
            return Ok(0);
        }
        let mut inv = COUNT.prepare_invoke();
        // Declared so that a cluster runs the script where the directory lives.
        inv.key(self.keys.operators_online());
        self.directory_args(&mut inv);
        for r in roles {
            inv.arg(r.as_str());
        }
        self.run(async |c| inv.invoke_async(c).await).await
    }

    /// Records one of the operator's monitor connections, live until `ttl_ms` from now.
    /// Returns whether the operator was offline before (they just signed on).
    pub async fn operator_connected(
        &self,
        operator: &UserId,
        name: Option<&str>,
        connection: &str,
        ttl_ms: u64,
    ) -> Result<bool, BusError> {
        let now = now_ms();
        let (online, conns, hash) = (
            self.keys.operators_online(),
            self.keys.operator_connections(operator),
            self.keys.operator(operator),
        );
        let (_, _, was, _, _): ((), (), Option<f64>, (), ()) = self
            .run(async |c| {
                redis::pipe()
                    .zadd(&conns, connection, now + ttl_ms)
                    .zrembyscore(&conns, "-inf", now)
                    .zscore(&online, operator.as_str())
                    .zadd(&online, operator.as_str(), now + ttl_ms)
                    .hset(&hash, "name", name.unwrap_or(""))
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(was.is_none_or(|expiry| (expiry as u64) <= now))
    }

    /// Forgets one monitor connection. Returns whether it was the operator's last one: then
    /// they signed off (see [`Bus::sign_off`]).
    pub async fn operator_disconnected(
        &self,
        operator: &UserId,
        connection: &str,
    ) -> Result<bool, BusError> {
        let conns = self.keys.operator_connections(operator);
        let now = now_ms();
        let (_, live): ((), usize) = self
            .run(async |c| {
                redis::pipe()
                    .zrem(&conns, connection)
                    .zcount(&conns, now, "+inf")
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(live == 0)
    }

    /// Operators whose every monitor connection expired (closed tabs, crashed browsers).
    pub async fn expired_operators(&self) -> Result<Vec<UserId>, BusError> {
        let online = self.keys.operators_online();
        let now = now_ms();
        let ids: Vec<String> = self
            .run(async |c| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&online)
                    .arg("-inf")
                    .arg(now)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|s| UserId::parse(s).ok())
            .collect())
    }

    /// Sets the operator's availability and roles; returns what is stored.
    pub async fn set_operator_status(
        &self,
        operator: &UserId,
        status: &OperatorStatus,
    ) -> Result<(), BusError> {
        let previous = self.operator_status(operator).await?;
        let hash = self.keys.operator(operator);
        let roles_json =
            serde_json::to_string(&status.roles).map_err(|e| BusError::Corrupt(e.to_string()))?;
        let mut pipe = redis::pipe();
        pipe.hset(&hash, "available", if status.available { "1" } else { "0" })
            .hset(&hash, "roles", roles_json)
            .ignore();
        for r in previous.roles.iter().filter(|r| !status.roles.contains(r)) {
            pipe.srem(self.keys.role_operators(r), operator.as_str())
                .ignore();
        }
        for r in &status.roles {
            pipe.sadd(self.keys.role_operators(r), operator.as_str())
                .ignore();
        }
        self.run(async |c| pipe.query_async::<()>(c).await).await?;
        self.notify_operators_changed().await
    }

    pub async fn operator_status(&self, operator: &UserId) -> Result<OperatorStatus, BusError> {
        let hash = self.keys.operator(operator);
        let (available, roles): (Option<String>, Option<String>) = self
            .run(async |c| {
                redis::cmd("HMGET")
                    .arg(&hash)
                    .arg("available")
                    .arg("roles")
                    .query_async(c)
                    .await
            })
            .await?;
        let roles = match roles {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| BusError::Corrupt(e.to_string()))?
            }
            None => Vec::new(),
        };
        Ok(OperatorStatus {
            available: available.as_deref() == Some("1"),
            roles,
        })
    }

    /// Sets or clears the number the operator's calls are forwarded to; clearing it cancels
    /// the operator's access codes.
    pub async fn set_operator_phone(
        &self,
        operator: &UserId,
        phone: Option<&PhoneNumber>,
    ) -> Result<(), BusError> {
        let hash = self.keys.operator(operator);
        self.run(async |c| match phone {
            Some(p) => {
                redis::cmd("HSET")
                    .arg(&hash)
                    .arg("phone")
                    .arg(p.as_str())
                    .query_async::<i64>(c)
                    .await
            }
            None => {
                redis::cmd("HDEL")
                    .arg(&hash)
                    .arg("phone")
                    .query_async::<i64>(c)
                    .await
            }
        })
        .await?;
        if phone.is_none() {
            // Nowhere to forward calls to: the operator's access codes go.
            self.cancel_operator_voice_codes(operator).await?;
        }
        self.notify_operators_changed().await
    }

    pub async fn operator_phone(&self, operator: &UserId) -> Result<Option<PhoneNumber>, BusError> {
        let hash = self.keys.operator(operator);
        let phone: Option<String> = self
            .run(async |c| {
                redis::cmd("HGET")
                    .arg(&hash)
                    .arg("phone")
                    .query_async(c)
                    .await
            })
            .await?;
        // Stored numbers were checked on the way in.
        Ok(phone.and_then(|p| PhoneNumber::parse(&p).ok()))
    }

    /// Offline sessions the operator dismissed.
    pub async fn dismissed(
        &self,
        operator: &UserId,
    ) -> Result<Vec<livehelp_protocol::SessionId>, BusError> {
        let key = self.keys.operator_dismissed(operator);
        let ids: Vec<String> = self
            .run(async |c| redis::cmd("SMEMBERS").arg(&key).query_async(c).await)
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|s| livehelp_protocol::SessionId::parse(s).ok())
            .collect())
    }

    /// Dismisses (or, when the user came back, restores) a session in the operator's list.
    pub async fn set_dismissed(
        &self,
        operator: &UserId,
        session: &livehelp_protocol::SessionId,
        dismissed: bool,
    ) -> Result<(), BusError> {
        let key = self.keys.operator_dismissed(operator);
        let cmd = if dismissed { "SADD" } else { "SREM" };
        self.run(async |c| {
            redis::cmd(cmd)
                .arg(&key)
                .arg(session.as_str())
                .query_async::<i64>(c)
                .await
        })
        .await
        .map(|_| ())
    }

    pub async fn operator_name(&self, operator: &UserId) -> Result<Option<String>, BusError> {
        let hash = self.keys.operator(operator);
        let name: Option<String> = self
            .run(async |c| {
                redis::cmd("HGET")
                    .arg(&hash)
                    .arg("name")
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(name.filter(|n| !n.is_empty()))
    }

    /// Roles that live sessions asked for recently: the monitor's checkboxes.
    pub async fn recent_roles(&self) -> Result<Vec<PartnerRole>, BusError> {
        let key = self.keys.recent_roles();
        let since = now_ms().saturating_sub(RECENT_ROLES_MS);
        let roles: Vec<String> = self
            .run(async |c| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&key)
                    .arg(since)
                    .arg("+inf")
                    .query_async(c)
                    .await
            })
            .await?;
        let mut roles: Vec<PartnerRole> = roles
            .into_iter()
            .filter_map(|r| PartnerRole::parse(r).ok())
            .collect();
        roles.sort();
        Ok(roles)
    }

    pub(crate) fn note_roles(&self, pipe: &mut redis::Pipeline, roles: &[PartnerRole]) {
        let key = self.keys.recent_roles();
        let now = now_ms();
        for r in roles {
            pipe.zadd(&key, r.as_str(), now).ignore();
        }
    }

    /// Tells every gateway and monitor that operator presence, availability or roles
    /// changed.
    pub async fn notify_operators_changed(&self) -> Result<(), BusError> {
        self.publish(self.keys.operators_channel(), "changed".to_owned())
            .await?;
        self.notify_all_sessions().await
    }

    /// The channel announcing operator changes.
    pub fn operators_channel(&self) -> String {
        self.keys.operators_channel()
    }

    pub fn is_operators_channel(&self, channel: &str) -> bool {
        self.keys.is_operators_channel(channel)
    }
}
