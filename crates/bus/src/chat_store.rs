//! Chat messages: stored in a Redis stream per conversation, then published on the session's
//! channel, in one script so that the order subscribers see is the order of the stream.

use livehelp_protocol::{
    ChatMessage, ClientMessageId, ConversationId, MessageId, MessageText, Profile, Sender,
};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::{Bus, BusError, ChatEvent};

/// Stores a message unless the same sender already stored this client message id (in the
/// current or the previous client id index), then publishes `m <id> <body>` on the
/// session's channel (with `ARGV[6]`: PUBLISH, or SPUBLISH on a cluster). Returns
/// `{id, duplicate}`. A duplicate still writes (the expiry), so that a `WAIT` after it
/// covers the original write too. An index that reaches `ARGV[7]` client ids replaces the
/// previous one, so a conversation's indexes stay bounded however long it runs; the index
/// it replaces is unlinked first, so that Redis frees its ids in the background rather than
/// in RENAME, while every other client waits.
static STORE_AND_PUBLISH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
for index = 2, 3 do
  local existing = redis.call('HGET', KEYS[index], ARGV[1])
  if existing then
    redis.call('EXPIRE', KEYS[index], ARGV[5])
    return {existing, 1}
  end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'm', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], id)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[7]) then
  redis.call('UNLINK', KEYS[3])
  redis.call('RENAME', KEYS[2], KEYS[3])
end
redis.call(ARGV[6], ARGV[3], 'm ' .. id .. ' ' .. ARGV[2])
return {id, 0}
",
    )
});

/// Messages kept per conversation (approximately: Redis trims whole nodes).
const MAX_MESSAGES_PER_CONVERSATION: usize = 10_000;
/// Client message ids per index: a retry is recognised for at least this many sends after
/// the original (a conversation keeps two indexes at most).
pub const CMIDS_PER_INDEX: usize = 10_000;
/// A conversation untouched this long is forgotten.
pub(crate) const RETENTION_SECONDS: u64 = 30 * 24 * 3600;
/// Most messages returned by one history read.
pub const HISTORY_PAGE: usize = 500;

/// A message as stored and published, without the id Redis gives it.
#[derive(Serialize, Deserialize)]
struct Body {
    conversation: ConversationId,
    cmid: ClientMessageId,
    from: Sender,
    text: String,
    at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<Profile>,
}

impl Body {
    fn split(self, id: MessageId) -> (ChatMessage, Option<Profile>) {
        let message = ChatMessage {
            conversation: self.conversation,
            id,
            cmid: self.cmid,
            from: self.from,
            text: self.text,
            at: self.at,
        };
        (message, self.profile)
    }
}

/// Something published on a session's chat channel.
#[derive(Debug)]
pub enum ChatPayload {
    Message(ChatMessage),
    Event(ChatEvent),
}

/// Parses a payload of a session's chat channel.
pub fn decode_published(payload: &[u8]) -> Result<ChatPayload, BusError> {
    let text = std::str::from_utf8(payload).map_err(|e| BusError::Corrupt(e.to_string()))?;
    if let Some(rest) = text.strip_prefix("m ") {
        let (id, body) = rest
            .split_once(' ')
            .ok_or_else(|| BusError::Corrupt("published message without id".into()))?;
        return Ok(ChatPayload::Message(decode(id, body)?.0));
    }
    if let Some(event) = text.strip_prefix("e ") {
        return serde_json::from_str(event)
            .map(ChatPayload::Event)
            .map_err(|e| BusError::Corrupt(e.to_string()));
    }
    Err(BusError::Corrupt("unknown chat payload".into()))
}

fn decode(id: &str, body: &str) -> Result<(ChatMessage, Option<Profile>), BusError> {
    let id: MessageId = id.parse().map_err(|e| BusError::Corrupt(format!("{e}")))?;
    let body: Body = serde_json::from_str(body).map_err(|e| BusError::Corrupt(e.to_string()))?;
    Ok(body.split(id))
}

/// The outcome of a send.
#[derive(Debug)]
pub struct Stored {
    pub id: MessageId,
    /// The same sender already stored this client message id; nothing new was published.
    pub duplicate: bool,
}

impl Bus {
    /// Stores a message and publishes it to the session's subscribers. With
    /// [`Bus::acknowledging_after`], returns only once that many replicas hold it, and fails
    /// (so the client retries, stored once) when they do not within the command timeout.
    pub async fn store_message(
        &self,
        conversation: &ConversationId,
        cmid: &ClientMessageId,
        from: Sender,
        profile: Option<Profile>,
        text: MessageText,
        at: String,
    ) -> Result<Stored, BusError> {
        let dedupe_field = format!("{}|{}", from.id, cmid);
        let body = serde_json::to_string(&Body {
            conversation: conversation.clone(),
            cmid: cmid.clone(),
            from,
            text: text.into_string(),
            at,
            profile,
        })
        .map_err(|e| BusError::Corrupt(e.to_string()))?;
        let keys = [
            self.keys.chat(conversation),
            self.keys.chat_cmids(conversation),
            self.keys.chat_cmids_old(conversation),
        ];
        let channel = self.keys.chat_channel(&conversation.session);
        let mut invocation = STORE_AND_PUBLISH.prepare_invoke();
        invocation
            .key(&keys[0])
            .key(&keys[1])
            .key(&keys[2])
            .arg(&dedupe_field)
            .arg(&body)
            .arg(&channel)
            .arg(MAX_MESSAGES_PER_CONVERSATION)
            .arg(RETENTION_SECONDS)
            .arg(self.topology().publish_command())
            .arg(CMIDS_PER_INDEX);
        let wait_ms = (self.timeout.as_millis() / 2).max(1) as u64;
        let ((id, duplicate), replicas): ((String, i64), u32) = if self.ack_replicas == 0 {
            let stored = self.run(async |c| invocation.invoke_async(c).await).await?;
            (stored, 0)
        } else {
            // WAIT blocks its connection and covers the writes made on it: a connection of
            // its own, the same for both.
            self.run_alone(async |c| {
                let stored = invocation.invoke_async(c).await?;
                let replicas = redis::cmd("WAIT")
                    .arg(self.ack_replicas)
                    .arg(wait_ms)
                    .query_async(c)
                    .await?;
                Ok((stored, replicas))
            })
            .await?
        };
        if replicas < self.ack_replicas {
            metrics::counter!("livehelp_chat_unreplicated").increment(1);
            return Err(BusError::NotReplicated {
                wanted: self.ack_replicas,
                got: replicas,
            });
        }
        Ok(Stored {
            id: id.parse().map_err(|e| BusError::Corrupt(format!("{e}")))?,
            duplicate: duplicate == 1,
        })
    }

    /// Up to [`HISTORY_PAGE`] stored messages after `after` (from the start when `None`),
    /// in order, each with its sender's profile.
    pub async fn messages_after(
        &self,
        conversation: &ConversationId,
        after: Option<MessageId>,
    ) -> Result<Vec<(ChatMessage, Option<Profile>)>, BusError> {
        let key = self.keys.chat(conversation);
        let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        let reply: redis::streams::StreamRangeReply = self
            .run(async |c| {
                redis::cmd("XRANGE")
                    .arg(&key)
                    .arg(&start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(HISTORY_PAGE)
                    .query_async(c)
                    .await
            })
            .await?;
        reply
            .ids
            .into_iter()
            .map(|entry| {
                let body: String = entry
                    .get("m")
                    .ok_or_else(|| BusError::Corrupt(format!("entry {} has no body", entry.id)))?;
                decode(&entry.id, &body)
            })
            .collect()
    }

    /// Every stored message of a conversation, in order.
    pub async fn all_messages(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<(ChatMessage, Option<Profile>)>, BusError> {
        let mut all: Vec<(ChatMessage, Option<Profile>)> = Vec::new();
        loop {
            let page = self
                .messages_after(conversation, all.last().map(|(m, _)| m.id))
                .await?;
            let full = page.len() == HISTORY_PAGE;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// The channel on which a session's messages and chat events are published.
    pub fn chat_channel(&self, session: &livehelp_protocol::SessionId) -> String {
        self.keys.chat_channel(session)
    }

    /// Publishes an event on the session's chat channel.
    pub async fn publish_chat_event(&self, event: &ChatEvent) -> Result<(), BusError> {
        let json = serde_json::to_string(event).map_err(|e| BusError::Corrupt(e.to_string()))?;
        self.publish(self.keys.chat_channel(event.session()), format!("e {json}"))
            .await
    }

    /// Records that `reader` read the conversation up to `up_to`.
    pub async fn mark_read(
        &self,
        conversation: &ConversationId,
        reader: &livehelp_protocol::UserId,
        up_to: MessageId,
    ) -> Result<(), BusError> {
        let key = self.keys.chat_reads(conversation);
        self.run(async |c| {
            redis::pipe()
                .hset(&key, reader.as_str(), up_to.to_string())
                .expire(&key, RETENTION_SECONDS as i64)
                .query_async::<()>(c)
                .await
        })
        .await
    }
}
