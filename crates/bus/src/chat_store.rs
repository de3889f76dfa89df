//! Chat messages: stored in a Redis stream per conversation, then published on the session's
//! channel, in one script so that the order subscribers see is the order of the stream.

use livehelp_protocol::{
    ChatMessage, ClientMessageId, ConversationId, MessageId, MessageText, Profile, Sender,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use futures_util::future::join_all;
use tokio::sync::oneshot;

use serde::{Deserialize, Serialize};

use crate::upkeep::UPKEEP_INTERVAL;
use crate::{Bus, BusError, ChatEvent, Topology};

/// Stores messages, each unless the same sender already stored its client message id (in the
/// current or the previous client id index), then publishes `m <id> <body>` on its session's
/// channel (with `ARGV[1]`: PUBLISH, or SPUBLISH on a cluster). Takes any number of
/// messages, three keys and five arguments each (after that one shared argument: the
/// script's constants are written into its source, as Redis copies and hashes each argument
/// of every call), so that a busy process stores many in one call
/// ([`crate::store_batches`]); answers one string, each message's outcome in order,
/// space-separated: `n<id>` for a new message, `d<id>` for a duplicate (one value to parse,
/// however many messages: a process parses every reply, and a nested reply of three values
/// per message cost more than the message's own share of the rest). A duplicate still writes
/// (the expiry of the index that holds it), so that a `WAIT` after it covers the original
/// write too.
///
/// A message's keys are its conversation's stream, client id index and previous index; its
/// arguments its client id field, its body, its sender's profile (empty for none), its
/// channel, and `1` when it keeps its conversation up. The body and the profile are the
/// stream entry's fields `m` and `p`; only the body is published ([`crate::chat_payload`]).
///
/// A message that keeps its conversation up ([`crate::upkeep`]) refreshes the expiry of the
/// stream and of the index, trims the stream to about [`MAX_MESSAGES_PER_CONVERSATION`]
/// entries, and (unless a duplicate) an index that holds [`CMIDS_PER_INDEX`] client ids or
/// more first replaces the previous one, so a conversation's stream and indexes stay bounded
/// however long it runs; the index it replaces is unlinked first, so that Redis frees its
/// ids in the background rather than in RENAME, while every other client waits. The index
/// the message then starts gets its expiry at once. An index that holds
/// [`CMIDS_HASHED_FROM`] ids or more gets the [`CMIDS_MARKER_FIELD`], whose long value makes
/// Redis keep the index a hash table: Redis packs a hash whose values are all short (up to
/// `hash-max-listpack-value`, 64 bytes by default) into one list of up to
/// `hash-max-listpack-entries` fields (512 by default in Redis 7), which every `HGET` and
/// `HSET` scans from the start, a quarter of Redis's time per message at 20,000/s; a short
/// conversation's index stays packed (smaller). Any other message appends without trimming
/// (a trim argument on every `XADD` cost Redis 6% of its work per message, most of it
/// rewriting the command for the append-only file) and does not create the stream
/// (`NOMKSTREAM`): when the conversation's keys are gone, it keeps the conversation up
/// instead, so no key is ever left without an expiry.
static STORE_AND_PUBLISH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        "local maxlen, retention = '{MAX_MESSAGES_PER_CONVERSATION}', '{}'\n\
         local per_index, hashed_from = {CMIDS_PER_INDEX}, {CMIDS_HASHED_FROM}\n\
         local marker, marked = [[{CMIDS_MARKER_FIELD}]], [[{MARKER_VALUE}]]\n\
         {STORE_AND_PUBLISH_BODY}",
        RETENTION_SECONDS + UPKEEP_INTERVAL.as_secs(),
    ))
});

/// The store script after its constants.
const STORE_AND_PUBLISH_BODY: &str = r"
local publish = ARGV[1]
local function append(stream, create, body, profile)
  if create and profile == '' then
    return redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'm', body)
  elseif create then
    return redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'm', body, 'p', profile)
  elseif profile == '' then
    return redis.call('XADD', stream, 'NOMKSTREAM', '*', 'm', body)
  end
  return redis.call('XADD', stream, 'NOMKSTREAM', '*', 'm', body, 'p', profile)
end
local replies = {}
for m = 0, #KEYS / 3 - 1 do
  local stream, index, old = KEYS[m * 3 + 1], KEYS[m * 3 + 2], KEYS[m * 3 + 3]
  local field, body, profile = ARGV[m * 5 + 2], ARGV[m * 5 + 3], ARGV[m * 5 + 4]
  local channel, upkeep = ARGV[m * 5 + 5], ARGV[m * 5 + 6] == '1'
  local existing = redis.call('HGET', index, field)
  local holder = index
  if not existing then
    existing = redis.call('HGET', old, field)
    holder = old
  end
  if existing then
    redis.call('EXPIRE', holder, retention)
    if upkeep then
      redis.call('EXPIRE', stream, retention)
      redis.call('EXPIRE', index, retention)
    end
    replies[m + 1] = 'd' .. existing
  else
    local id
    if not upkeep then
      id = append(stream, false, body, profile)
      upkeep = not id
    end
    if upkeep then
      local held = redis.call('HLEN', index)
      if held >= per_index then
        redis.call('UNLINK', old)
        redis.call('RENAME', index, old)
      elseif held >= hashed_from then
        redis.call('HSETNX', index, marker, marked)
      end
      id = append(stream, true, body, profile)
      redis.call('EXPIRE', stream, retention)
    end
    redis.call('HSET', index, field, id)
    if upkeep then
      redis.call('EXPIRE', index, retention)
    end
    redis.call(publish, channel, 'm ' .. id .. ' ' .. body)
    replies[m + 1] = 'n' .. id
  end
end
return table.concat(replies, ' ')
";

/// Messages kept per conversation, approximately: a stream is trimmed by the messages that
/// keep their conversation up, so it may hold up to [`crate::UPKEEP_EVERY`] more per process
/// in between, and Redis trims whole nodes (`stream-node-max-entries`, 100 by default).
pub const MAX_MESSAGES_PER_CONVERSATION: usize = 10_000;
/// Client message ids per index: a retry is recognised for at least this many sends after
/// the original (a conversation keeps two indexes at most).
pub const CMIDS_PER_INDEX: usize = 10_000;
/// An index holding this many ids or more is kept a hash table (see the store script).
pub const CMIDS_HASHED_FROM: usize = 64;
/// The field that keeps an index a hash table: never a client id's (those hold a `|`).
pub const CMIDS_MARKER_FIELD: &str = "#";
/// Its value: longer than Redis packs by default (`hash-max-listpack-value`, 64 bytes).
const MARKER_VALUE: &str =
    "keeps this index a hash table: Redis packs a hash only while all its values are short";
/// A conversation untouched this long is forgotten (its stream and index up to
/// [`UPKEEP_INTERVAL`] later).
pub(crate) const RETENTION_SECONDS: u64 = 30 * 24 * 3600;
/// Most messages returned by one history read.
pub const HISTORY_PAGE: usize = 500;

/// A message as the stream holds it and its channel publishes it, without the id Redis
/// gives it: the message as every participant receives it ([`crate::chat_payload`]). The
/// sender's profile is stored beside it (field `p`); entries stored by earlier versions hold
/// it inside, so it is read from there too, and never written there.
#[derive(Serialize, Deserialize)]
pub(crate) struct Body {
    pub(crate) conversation: ConversationId,
    pub(crate) cmid: ClientMessageId,
    pub(crate) from: Sender,
    pub(crate) text: String,
    pub(crate) at: String,
    #[serde(default, skip_serializing)]
    pub(crate) profile: Option<Profile>,
}

impl Body {
    pub(crate) fn split(self, id: MessageId) -> (ChatMessage, Option<Profile>) {
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

/// A stream entry's message and its sender's profile (beside the body, or inside it).
fn decode(
    id: &str,
    body: &str,
    profile: Option<&str>,
) -> Result<(ChatMessage, Option<Profile>), BusError> {
    let corrupt = |e: serde_json::Error| BusError::Corrupt(e.to_string());
    let id: MessageId = id.parse().map_err(|e| BusError::Corrupt(format!("{e}")))?;
    let body: Body = serde_json::from_str(body).map_err(corrupt)?;
    let (message, inside) = body.split(id);
    let profile = match profile {
        Some(json) => Some(serde_json::from_str(json).map_err(corrupt)?),
        None => inside,
    };
    Ok((message, profile))
}

/// The outcome of a send.
#[derive(Debug)]
pub struct Stored {
    pub id: MessageId,
    /// The same sender already stored this client message id; nothing new was published.
    pub duplicate: bool,
}

/// One message as the store script takes it.
pub(crate) struct Prepared {
    keys: [String; 3],
    dedupe_field: String,
    body: String,
    /// The sender's profile, JSON; empty for none.
    profile: String,
    channel: String,
    /// Whether it keeps its conversation up ([`crate::upkeep`]).
    pub(crate) upkeep: bool,
}

impl Prepared {
    /// The key of its conversation's stream.
    pub(crate) fn stream(&self) -> &str {
        &self.keys[0]
    }
}

/// The store script's answer for `count` messages, in order.
fn outcomes(reply: &str, count: usize) -> Result<Vec<Stored>, BusError> {
    let corrupt = || BusError::Corrupt(format!("store script answered {reply:?}"));
    let outcomes = reply
        .split(' ')
        .map(|outcome| {
            let duplicate = match outcome.as_bytes().first() {
                Some(b'n') => false,
                Some(b'd') => true,
                _ => return Err(corrupt()),
            };
            let id = outcome[1..].parse().map_err(|_| corrupt())?;
            Ok(Stored { id, duplicate })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if outcomes.len() != count {
        return Err(BusError::Corrupt(format!(
            "the store script answered {} outcomes for {count} messages",
            outcomes.len()
        )));
    }
    Ok(outcomes)
}

/// The store script's invocation for `messages`, in order.
fn invocation(bus: &Bus, messages: &[&Prepared]) -> redis::ScriptInvocation<'static> {
    let mut invocation = STORE_AND_PUBLISH.prepare_invoke();
    invocation.arg(bus.topology().publish_command());
    for m in messages {
        invocation
            .key(&m.keys[0])
            .key(&m.keys[1])
            .key(&m.keys[2])
            .arg(&m.dedupe_field)
            .arg(&m.body)
            .arg(&m.profile)
            .arg(&m.channel)
            .arg(if m.upkeep { "1" } else { "0" });
    }
    invocation
}

/// One call's result for each of its `count` messages: a failure is every message's.
fn spread(call: Result<Vec<Stored>, BusError>, count: usize) -> Vec<Result<Stored, BusError>> {
    match call {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) => {
            let e = std::sync::Arc::new(e);
            (0..count)
                .map(|_| Err(BusError::Shared(e.clone())))
                .collect()
        }
    }
}

/// A send queued for storage ([`Bus::queue_message`]): awaiting it waits until the message
/// is stored (and, with [`Bus::acknowledging_after`], held by that many replicas).
#[derive(Debug)]
pub struct PendingStore {
    outcome: oneshot::Receiver<Result<Stored, BusError>>,
    timeout: std::time::Duration,
}

impl Future for PendingStore {
    type Output = Result<Stored, BusError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let timeout = self.timeout;
        let answer = std::task::ready!(Pin::new(&mut self.outcome).poll(cx));
        // No answer: the storing task ended with the runtime it ran on.
        Poll::Ready(answer.unwrap_or(Err(BusError::Timeout(timeout))))
    }
}

impl Bus {
    /// Queues a message to be stored and published to the session's subscribers, and
    /// returns at once: messages are stored in the order they were queued, whenever their
    /// outcomes are awaited, so a connection may queue its next send before the last one is
    /// stored. With [`Bus::acknowledging_after`], a send counts as stored only once that
    /// many replicas hold it, and fails (so the client retries, stored once) when they do
    /// not within the command timeout.
    pub fn queue_message(
        &self,
        conversation: &ConversationId,
        cmid: &ClientMessageId,
        from: Sender,
        profile: Option<Profile>,
        text: MessageText,
        at: String,
    ) -> Result<PendingStore, BusError> {
        let dedupe_field = format!("{}|{}", from.id, cmid);
        let corrupt = |e: serde_json::Error| BusError::Corrupt(e.to_string());
        let body = serde_json::to_string(&Body {
            conversation: conversation.clone(),
            cmid: cmid.clone(),
            from,
            text: text.into_string(),
            at,
            profile: None,
        })
        .map_err(corrupt)?;
        let profile = match profile {
            Some(profile) => serde_json::to_string(&profile).map_err(corrupt)?,
            None => String::new(),
        };
        let message = Prepared {
            keys: [
                self.keys.chat(conversation),
                self.keys.chat_cmids(conversation),
                self.keys.chat_cmids_old(conversation),
            ],
            dedupe_field,
            body,
            profile,
            channel: self.keys.chat_channel(&conversation.session),
            upkeep: true,
        };
        Ok(PendingStore {
            outcome: self.store_batches.queue(self, message),
            timeout: self.timeout,
        })
    }

    /// Stores a batch of messages, in order, and gives each its outcome. On one server (or
    /// Sentinel's primary) that is one call of the store script; on a cluster, one call per
    /// session, at once (a session's keys share a slot, a batch's do not).
    pub(crate) async fn store_batch(
        &self,
        messages: &[&Prepared],
    ) -> Vec<Result<Stored, BusError>> {
        if !matches!(self.topology(), Topology::Cluster { .. }) {
            return spread(self.store_call(messages).await, messages.len());
        }
        let mut sessions: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            match sessions
                .iter_mut()
                .find(|(channel, _)| *channel == m.channel)
            {
                Some((_, members)) => members.push(i),
                None => sessions.push((&m.channel, vec![i])),
            }
        }
        let calls = sessions.iter().map(|(_, members)| {
            let group: Vec<&Prepared> = members.iter().map(|&i| messages[i]).collect();
            async move { spread(self.store_call(&group).await, group.len()) }
        });
        let mut outcomes: Vec<(usize, Result<Stored, BusError>)> = sessions
            .iter()
            .zip(join_all(calls).await)
            .flat_map(|((_, members), results)| members.iter().copied().zip(results))
            .collect();
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, outcome)| outcome).collect()
    }

    /// One call of the store script, on the connection that keeps calls in order (so that
    /// batches outstanding together are stored in the order they were made). With
    /// [`Bus::acknowledging_after`], on a connection of its own, followed by `WAIT` (which
    /// blocks its connection and covers the writes made on it): one batch at a time then.
    async fn store_call(&self, messages: &[&Prepared]) -> Result<Vec<Stored>, BusError> {
        metrics::counter!("livehelp_chat_store_calls").increment(1);
        let reply: String = if self.ack_replicas == 0 {
            self.run_in_order(async |c| invocation(self, messages).invoke_async(c).await)
                .await?
        } else {
            let wanted = self.ack_replicas;
            let wait_ms = (self.timeout.as_millis() / 2).max(1) as u64;
            let (reply, replicas): (String, u32) = self
                .run_alone(async |c| {
                    let reply = invocation(self, messages).invoke_async(c).await?;
                    let replicas = redis::cmd("WAIT")
                        .arg(wanted)
                        .arg(wait_ms)
                        .query_async(c)
                        .await?;
                    Ok((reply, replicas))
                })
                .await?;
            if replicas < wanted {
                metrics::counter!("livehelp_chat_unreplicated").increment(messages.len() as u64);
                return Err(BusError::NotReplicated {
                    wanted,
                    got: replicas,
                });
            }
            reply
        };
        outcomes(&reply, messages.len())
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
                let profile: Option<String> = entry.get("p");
                decode(&entry.id, &body, profile.as_deref())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_scripts_answer_gives_each_message_its_id_and_whether_it_is_a_duplicate() {
        let stored = outcomes("n1700000000000-0 d1699999999999-3", 2).expect("two outcomes");
        let ids: Vec<String> = stored.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(ids, ["1700000000000-0", "1699999999999-3"]);
        assert_eq!(
            stored.iter().map(|s| s.duplicate).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn a_profile_is_read_beside_the_body_or_inside_it_as_older_entries_hold_it() {
        let body = concat!(
            r#"{"conversation":"s1","cmid":"c-1","#,
            r#""from":{"kind":"user","id":"u1","name":null},"#,
            r#""text":"hi","at":"2026-12-03T23:00:00Z""#
        );
        let email = |profile: Option<Profile>| profile.and_then(|p| p.email);
        let (message, beside) = decode(
            "1-0",
            &format!("{body}}}"),
            Some(r#"{"email":"new@example.org"}"#),
        )
        .expect("decoded");
        assert_eq!(
            (message.text.as_str(), email(beside)),
            ("hi", Some("new@example.org".into()))
        );
        let inside = format!(r#"{body},"profile":{{"email":"old@example.org"}}}}"#);
        let (_, older) = decode("1-0", &inside, None).expect("decoded");
        assert_eq!(email(older), Some("old@example.org".into()));
        let (_, none) = decode("1-0", &format!("{body}}}"), None).expect("decoded");
        assert_eq!(email(none), None);
    }

    #[test]
    fn an_answer_that_does_not_fit_the_batch_is_corrupt() {
        for (reply, count) in [
            ("n1-0", 2),
            ("n1-0 n2-0", 1),
            ("x1-0", 1),
            ("n", 1),
            ("nnot-an-id", 1),
            ("", 1),
        ] {
            assert!(
                matches!(outcomes(reply, count), Err(BusError::Corrupt(_))),
                "{reply:?} for {count}"
            );
        }
    }
}
