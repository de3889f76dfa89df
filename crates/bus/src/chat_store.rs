//! Chat messages: stored in a Redis stream per session, then published, in one script so
//! that the order subscribers see is the order of the stream.

use livehelp_protocol::{ChatMessage, ClientMessageId, MessageId, MessageText, Sender, SessionId};
use serde::{Deserialize, Serialize};

use crate::{Bus, BusError};

/// Stores a message unless the same sender already stored this client message id, then
/// publishes `<id> <body>` on the session's channel. Returns `{id, duplicate}`.
pub const STORE_AND_PUBLISH_SCRIPT: &str = r"
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  return {existing, 1}
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'm', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], id)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[3], id .. ' ' .. ARGV[2])
return {id, 0}
";

/// Messages kept per session (approximately: Redis trims whole nodes).
const MAX_MESSAGES_PER_SESSION: usize = 10_000;
/// A conversation untouched this long is forgotten.
const RETENTION_SECONDS: u64 = 30 * 24 * 3600;
/// Most messages returned by one history read.
pub const HISTORY_PAGE: usize = 500;

/// A message as stored and published, without the id Redis gives it.
#[derive(Serialize, Deserialize)]
struct Body {
    session: SessionId,
    cmid: ClientMessageId,
    from: Sender,
    text: String,
    at: String,
}

impl Body {
    fn with_id(self, id: MessageId) -> ChatMessage {
        ChatMessage {
            session: self.session,
            id,
            cmid: self.cmid,
            from: self.from,
            text: self.text,
            at: self.at,
        }
    }
}

/// Parses a payload published by [`STORE_AND_PUBLISH_SCRIPT`].
pub fn decode_published(payload: &[u8]) -> Result<ChatMessage, BusError> {
    let text = std::str::from_utf8(payload).map_err(|e| BusError::Corrupt(e.to_string()))?;
    let (id, body) = text
        .split_once(' ')
        .ok_or_else(|| BusError::Corrupt("published message without id".into()))?;
    decode(id, body)
}

fn decode(id: &str, body: &str) -> Result<ChatMessage, BusError> {
    let id: MessageId = id.parse().map_err(|e| BusError::Corrupt(format!("{e}")))?;
    let body: Body = serde_json::from_str(body).map_err(|e| BusError::Corrupt(e.to_string()))?;
    Ok(body.with_id(id))
}

/// The outcome of a send.
#[derive(Debug)]
pub struct Stored {
    pub id: MessageId,
    /// The same sender already stored this client message id; nothing new was published.
    pub duplicate: bool,
}

impl Bus {
    /// Stores a message and publishes it to the session's subscribers.
    pub async fn store_message(
        &self,
        session: &SessionId,
        cmid: &ClientMessageId,
        from: Sender,
        text: MessageText,
        at: String,
    ) -> Result<Stored, BusError> {
        let dedupe_field = format!("{}|{}", from.id, cmid);
        let body = serde_json::to_string(&Body {
            session: session.clone(),
            cmid: cmid.clone(),
            from,
            text: text.into_string(),
            at,
        })
        .map_err(|e| BusError::Corrupt(e.to_string()))?;
        let keys = [self.keys.chat(session), self.keys.chat_cmids(session)];
        let channel = self.keys.chat_channel(session);
        let (id, duplicate): (String, i64) = self
            .run(async |c| {
                redis::Script::new(STORE_AND_PUBLISH_SCRIPT)
                    .key(&keys[0])
                    .key(&keys[1])
                    .arg(&dedupe_field)
                    .arg(&body)
                    .arg(&channel)
                    .arg(MAX_MESSAGES_PER_SESSION)
                    .arg(RETENTION_SECONDS)
                    .invoke_async(c)
                    .await
            })
            .await?;
        Ok(Stored {
            id: id.parse().map_err(|e| BusError::Corrupt(format!("{e}")))?,
            duplicate: duplicate == 1,
        })
    }

    /// Up to [`HISTORY_PAGE`] stored messages after `after` (from the start when `None`),
    /// in order.
    pub async fn messages_after(
        &self,
        session: &SessionId,
        after: Option<MessageId>,
    ) -> Result<Vec<ChatMessage>, BusError> {
        let key = self.keys.chat(session);
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

    /// The channel on which a session's messages are published.
    pub fn chat_channel(&self, session: &SessionId) -> String {
        self.keys.chat_channel(session)
    }
}
