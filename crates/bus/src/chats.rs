//! Who chats in a session: one record per user (active, the conversation, the attached
//! operator), the queue of help chats waiting for an operator, and block. Every change is
//! announced on the session's chat channel and the monitor channel.

use std::collections::HashMap;
use std::sync::LazyLock;

use livehelp_protocol::{ConversationId, Mode, PartnerRole, SessionId, UserId};
use serde::{Deserialize, Serialize};

use crate::operators::QUALIFY_LOOP;
use crate::sessions::now_ms;
use crate::{Bus, BusError, ChatEvent};

/// A user's chat in a session, stored as JSON in the session's chats hash. No numbers:
/// Redis's Lua JSON encoder would write large ones in exponent form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRecord {
    pub active: bool,
    pub conversation: ConversationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// Attaches the least busy qualifying operator to an active, unattached help chat, or
/// queues it. KEYS: chats hash, queue. ARGV: user, conversation, operator-chats prefix,
/// online, opprefix, roleprefix, loadkey, now, cap, roles...
static ATTACH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        "local raw = redis.call('HGET', KEYS[1], ARGV[1])
         if not raw then return false end
         local rec = cjson.decode(raw)
         if (not rec.active) or rec.operator then return false end
         local online, opprefix, roleprefix, loadkey = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
         local now, cap, first = tonumber(ARGV[8]), tonumber(ARGV[9]), 10
         {QUALIFY_LOOP}
         if best then
           redis.call('ZINCRBY', loadkey, 1, best)
           rec.operator = best
           redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
           redis.call('ZREM', KEYS[2], ARGV[2])
           redis.call('SADD', ARGV[3] .. best .. ':chats', ARGV[2])
           return best
         end
         redis.call('ZADD', KEYS[2], 'NX', now, ARGV[2])
         return false"
    ))
});

/// Detaches a chat's operator (if any), then: `deactivate` turns the chat off and leaves the
/// queue; `requeue` keeps it active and queues it again; `hold` keeps it active, unqueued.
/// KEYS: chats hash, queue. ARGV: user, conversation, loadkey, operator-chats prefix, how, now.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local raw = redis.call('HGET', KEYS[1], ARGV[1])
         if not raw then return 0 end
         local rec = cjson.decode(raw)
         if rec.operator then
           redis.call('ZINCRBY', ARGV[3], -1, rec.operator)
           redis.call('SREM', ARGV[4] .. rec.operator .. ':chats', ARGV[2])
           rec.operator = nil
         end
         if ARGV[5] == 'deactivate' then
           rec.active = false
           redis.call('ZREM', KEYS[2], ARGV[2])
         elseif ARGV[5] == 'requeue' and rec.active then
           redis.call('ZADD', KEYS[2], 'NX', ARGV[6], ARGV[2])
         else
           redis.call('ZREM', KEYS[2], ARGV[2])
         end
         redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
         return 1",
    )
});

/// What [`Bus::release`] does with the chat after detaching its operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    Deactivate,
    Requeue,
    Hold,
}

/// Help conversations looked at per dispatch round.
const DISPATCH_BATCH: usize = 100;

/// The conversation a user chats in under a mode.
pub fn conversation_for(session: &SessionId, user: &UserId, mode: Mode) -> ConversationId {
    match mode {
        Mode::Help => ConversationId::private(session.clone(), user.clone()),
        Mode::Peer | Mode::PeerHelp => ConversationId::group(session.clone()),
    }
}

impl Bus {
    /// The user's chat record, if they ever activated chat.
    pub async fn chat_record(
        &self,
        session: &SessionId,
        user: &UserId,
    ) -> Result<Option<ChatRecord>, BusError> {
        let key = self.keys.chats(session);
        let raw: Option<String> = self
            .run(async |c| {
                redis::cmd("HGET")
                    .arg(&key)
                    .arg(user.as_str())
                    .query_async(c)
                    .await
            })
            .await?;
        raw.map(|r| serde_json::from_str(&r).map_err(|e| BusError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Every chat record of a session, by user.
    pub async fn chat_records(
        &self,
        session: &SessionId,
    ) -> Result<HashMap<String, ChatRecord>, BusError> {
        let key = self.keys.chats(session);
        let raw: HashMap<String, String> = self
            .run(async |c| redis::cmd("HGETALL").arg(&key).query_async(c).await)
            .await?;
        raw.into_iter()
            .map(|(user, r)| {
                Ok((
                    user,
                    serde_json::from_str(&r).map_err(|e| BusError::Corrupt(e.to_string()))?,
                ))
            })
            .collect()
    }

    async fn announce(&self, session: &SessionId) -> Result<(), BusError> {
        self.publish_chat_event(&ChatEvent::Changed {
            session: session.clone(),
        })
        .await?;
        self.notify_monitor(session).await
    }

    /// Turns the user's chat on in `conversation`; a help conversation gets an operator
    /// attached or joins the queue. Returns the attached operator.
    pub async fn activate(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        user_name: Option<&str>,
        roles: &[PartnerRole],
        cap: usize,
    ) -> Result<Option<UserId>, BusError> {
        let session = &conversation.session;
        let previous = self.chat_record(session, user).await?;
        if previous
            .as_ref()
            .is_some_and(|p| p.conversation != *conversation)
        {
            // The mode changed since: leave the old conversation's chat cleanly.
            self.release(session, user, Release::Deactivate).await?;
        }
        let record = ChatRecord {
            active: true,
            conversation: conversation.clone(),
            operator: previous
                .filter(|p| p.conversation == *conversation && p.active)
                .and_then(|p| p.operator),
            user_name: user_name.map(str::to_owned),
        };
        let key = self.keys.chats(session);
        let json = serde_json::to_string(&record).map_err(|e| BusError::Corrupt(e.to_string()))?;
        self.run(async |c| {
            redis::cmd("HSET")
                .arg(&key)
                .arg(user.as_str())
                .arg(&json)
                .query_async::<i64>(c)
                .await
        })
        .await?;
        let operator = match (&record.operator, conversation.is_group()) {
            (Some(op), _) => Some(op.clone()),
            (None, false) => self.attach(conversation, user, roles, cap).await?,
            (None, true) => None,
        };
        self.announce(session).await?;
        Ok(operator)
    }

    /// Tries to attach an operator to the user's active help chat (or queues it).
    pub async fn attach(
        &self,
        conversation: &ConversationId,
        user: &UserId,
        roles: &[PartnerRole],
        cap: usize,
    ) -> Result<Option<UserId>, BusError> {
        let mut inv = ATTACH.prepare_invoke();
        inv.key(self.keys.chats(&conversation.session))
            .key(self.keys.queue())
            .arg(user.as_str())
            .arg(conversation.to_string())
            .arg(self.keys.operator_prefix());
        self.directory_args(&mut inv);
        inv.arg(cap);
        for r in roles {
            inv.arg(r.as_str());
        }
        let op: Option<String> = self.run(async |c| inv.invoke_async(c).await).await?;
        Ok(op.and_then(|o| UserId::parse(o).ok()))
    }

    /// Detaches the user's operator and then deactivates, requeues or holds the chat.
    pub async fn release(
        &self,
        session: &SessionId,
        user: &UserId,
        how: Release,
    ) -> Result<(), BusError> {
        let Some(record) = self.chat_record(session, user).await? else {
            return Ok(());
        };
        let mut inv = RELEASE.prepare_invoke();
        inv.key(self.keys.chats(session))
            .key(self.keys.queue())
            .arg(user.as_str())
            .arg(record.conversation.to_string())
            .arg(self.keys.operators_load())
            .arg(self.keys.operator_prefix())
            .arg(match how {
                Release::Deactivate => "deactivate",
                Release::Requeue => "requeue",
                Release::Hold => "hold",
            })
            .arg(now_ms());
        self.run(async |c| inv.invoke_async::<i64>(c).await).await?;
        Ok(())
    }

    /// The user turns chat off.
    pub async fn deactivate(&self, session: &SessionId, user: &UserId) -> Result<(), BusError> {
        self.release(session, user, Release::Deactivate).await?;
        self.announce(session).await?;
        self.notify_operators_changed_quietly().await
    }

    /// 1-based position of a help conversation in the queue.
    pub async fn queue_position(
        &self,
        conversation: &ConversationId,
    ) -> Result<Option<usize>, BusError> {
        let key = self.keys.queue();
        let rank: Option<usize> = self
            .run(async |c| {
                redis::cmd("ZRANK")
                    .arg(&key)
                    .arg(conversation.to_string())
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(rank.map(|r| r + 1))
    }

    /// Blocks or unblocks a session. Blocking detaches every operator and turns private help
    /// chats off (peer chats go on); unblocking lets help chats start again.
    pub async fn set_blocked(&self, session: &SessionId, blocked: bool) -> Result<(), BusError> {
        let key = self.keys.session(session);
        self.run(async |c| {
            redis::cmd("HSET")
                .arg(&key)
                .arg("blocked")
                .arg(if blocked { "1" } else { "0" })
                .query_async::<i64>(c)
                .await
        })
        .await?;
        if blocked {
            for (user, record) in self.chat_records(session).await? {
                let Ok(user) = UserId::parse(user) else {
                    continue;
                };
                let how = if record.conversation.is_group() {
                    Release::Hold
                } else {
                    Release::Deactivate
                };
                self.release(session, &user, how).await?;
            }
            self.publish_chat_event(&ChatEvent::Blocked {
                session: session.clone(),
            })
            .await?;
        }
        self.announce(session).await?;
        self.notify_operators_changed_quietly().await
    }

    /// An operator signed off: their help chats go back to the queue for someone else, their
    /// access codes for calls are cancelled, and the users are told through their chat
    /// state. Returns false when another instance got there first.
    pub async fn sign_off(&self, operator: &UserId) -> Result<bool, BusError> {
        let online = self.keys.operators_online();
        let removed: i64 = self
            .run(async |c| {
                redis::cmd("ZREM")
                    .arg(&online)
                    .arg(operator.as_str())
                    .query_async(c)
                    .await
            })
            .await?;
        if removed == 0 {
            return Ok(false);
        }
        self.cancel_operator_voice_codes(operator).await?;
        let chats_key = self.keys.operator_chats(operator);
        let chats: Vec<String> = self
            .run(async |c| redis::cmd("SMEMBERS").arg(&chats_key).query_async(c).await)
            .await?;
        for conversation in chats
            .iter()
            .filter_map(|c| c.parse::<ConversationId>().ok())
        {
            if let Some(user) = &conversation.user {
                self.release(&conversation.session, user, Release::Requeue)
                    .await?;
                self.announce(&conversation.session).await?;
            }
        }
        self.notify_operators_changed().await?;
        Ok(true)
    }

    /// Attaches operators to queued help chats of connected users, oldest first, while any
    /// qualify. Safe to run on every instance at once: each attachment is one atomic script.
    pub async fn dispatch(&self, cap: usize) -> Result<(), BusError> {
        let key = self.keys.queue();
        let queued: Vec<String> = self
            .run(async |c| {
                redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(DISPATCH_BATCH - 1)
                    .query_async(c)
                    .await
            })
            .await?;
        for conversation in queued
            .iter()
            .filter_map(|c| c.parse::<ConversationId>().ok())
        {
            let Some(user) = &conversation.user else {
                continue;
            };
            let record = self.session_record(&conversation.session).await?;
            if record.status.mode != Mode::Help {
                // The host switched the session away from private help since it queued.
                self.release(&conversation.session, user, Release::Deactivate)
                    .await?;
                continue;
            }
            if record.blocked || !record.users_online.contains(user) {
                // A user who left keeps their place but gets no operator until they return.
                continue;
            }
            if self
                .attach(&conversation, user, &record.status.partner_roles, cap)
                .await?
                .is_some()
            {
                self.announce(&conversation.session).await?;
            }
        }
        Ok(())
    }

    /// Operator load changed (a chat ended): wakes the dispatchers without touching rows.
    async fn notify_operators_changed_quietly(&self) -> Result<(), BusError> {
        self.publish(self.keys.operators_channel(), "load".to_owned())
            .await
    }
}
