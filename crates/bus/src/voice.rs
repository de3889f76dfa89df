//! Call forwarding (SPEC §8): one-time access codes that bind a caller to an operator and a
//! session, the session's live offer that users see, and the counters that limit guessing.
//!
//! A code is a string key (`SET NX EX`) holding its operator and session; the session's
//! offers (a hash by operator) and the operator's codes (a hash by session) point at it.
//! Creating, cancelling and consuming are each one script, so a code is used at most once
//! and never outlives its pointers for long. Every change is announced as
//! [`ChatEvent::Changed`], so users' chat states follow within a second.

use std::sync::LazyLock;
use std::time::Duration;

use livehelp_protocol::{PhoneNumber, SessionId, UserId};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::sessions::now_ms;
use crate::{Bus, BusError, ChatEvent};

/// Digits in an access code.
pub const VOICE_CODE_DIGITS: usize = 4;

/// Random codes tried before giving up when every one drawn is taken.
const CODE_TRIES: usize = 20;

/// How long a call's prompt counter lives: longer than any call spends entering a code.
const CALL_COUNTER_SECONDS: u64 = 4 * 3600;

/// Creates a code unless it is taken, replacing the operator's earlier code for the session.
/// KEYS: code, session offers, operator codes, expiries. ARGV: code prefix, operator,
/// session, ttl seconds, claim JSON, offer JSON, expires at (ms), code.
static CREATE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
         local old = redis.call('HGET', KEYS[3], ARGV[3])
         if old then
           local raw = redis.call('GET', ARGV[1] .. old)
           if raw then
             local c = cjson.decode(raw)
             if c.operator == ARGV[2] and c.session == ARGV[3] then
               redis.call('DEL', ARGV[1] .. old)
             end
           end
         end
         local ttl = tonumber(ARGV[4])
         redis.call('SET', KEYS[1], ARGV[5], 'EX', ttl)
         redis.call('HSET', KEYS[2], ARGV[2], ARGV[6])
         redis.call('HSET', KEYS[3], ARGV[3], ARGV[8])
         for i = 2, 3 do
           if redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
         end
         local prev = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[3]) or '0')
         if tonumber(ARGV[7]) > prev then redis.call('ZADD', KEYS[4], ARGV[7], ARGV[3]) end
         return 1",
    )
});

/// Cancels an operator's code for a session. KEYS: session offers, operator codes. ARGV:
/// code prefix, operator, session. Returns how many entries went.
static CANCEL: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local removed = 0
         local code = redis.call('HGET', KEYS[2], ARGV[3])
         if code then
           local raw = redis.call('GET', ARGV[1] .. code)
           if raw then
             local c = cjson.decode(raw)
             if c.operator == ARGV[2] and c.session == ARGV[3] then
               removed = removed + redis.call('DEL', ARGV[1] .. code)
             end
           end
           removed = removed + redis.call('HDEL', KEYS[2], ARGV[3])
         end
         return removed + redis.call('HDEL', KEYS[1], ARGV[2])",
    )
});

/// Cancels every code of an operator. KEYS: operator codes. ARGV: code prefix, session
/// offers prefix, operator. Returns the sessions that had one.
static CANCEL_ALL: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local entries = redis.call('HGETALL', KEYS[1])
         local sessions = {}
         for i = 1, #entries, 2 do
           local session, code = entries[i], entries[i + 1]
           local raw = redis.call('GET', ARGV[1] .. code)
           if raw then
             local c = cjson.decode(raw)
             if c.operator == ARGV[3] and c.session == session then
               redis.call('DEL', ARGV[1] .. code)
             end
           end
           redis.call('HDEL', ARGV[2] .. session, ARGV[3])
           table.insert(sessions, session)
         end
         redis.call('DEL', KEYS[1])
         return sessions",
    )
});

/// Takes a code: deletes it and the pointers at it, and returns its claim. KEYS: code.
/// ARGV: session offers prefix, operator codes prefix, code.
static CONSUME: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local raw = redis.call('GET', KEYS[1])
         if not raw then return false end
         redis.call('DEL', KEYS[1])
         local c = cjson.decode(raw)
         local skey = ARGV[1] .. c.session
         local offer = redis.call('HGET', skey, c.operator)
         if offer and cjson.decode(offer).code == ARGV[3] then
           redis.call('HDEL', skey, c.operator)
         end
         local okey = ARGV[2] .. c.operator
         if redis.call('HGET', okey, c.session) == ARGV[3] then
           redis.call('HDEL', okey, c.session)
         end
         return raw",
    )
});

/// Pops the sessions whose latest offer has lapsed. KEYS: expiries. ARGV: now (ms).
static EXPIRED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 500)
         for _, s in ipairs(due) do redis.call('ZREM', KEYS[1], s) end
         return due",
    )
});

/// Who a code belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceClaim {
    pub operator: UserId,
    pub session: SessionId,
}

/// A code just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at_ms: u64,
}

/// What a session's user is offered: call `number` and enter `code` before `expires_at_ms`.
/// `number` is the service's (Twilio) number, never the operator's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceOffer {
    pub code: String,
    pub number: PhoneNumber,
    /// Milliseconds since the epoch, as a string (see [`crate::ChatRecord`]).
    #[serde(with = "ms_string")]
    pub expires_at_ms: u64,
}

mod ms_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Whether `code` has the shape of an access code (so it may name a key).
pub fn is_voice_code(code: &str) -> bool {
    code.len() == VOICE_CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// A value from Twilio as it may appear in a key (a `From` number, `anonymous`, a client
/// name, a CallSid); anything else shares one bucket.
fn key_part(value: &str) -> &str {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '.' | ':' | '@'));
    if ok { value } else { "other" }
}

fn corrupt(e: serde_json::Error) -> BusError {
    BusError::Corrupt(e.to_string())
}

impl Bus {
    async fn voice_changed(&self, session: &SessionId) -> Result<(), BusError> {
        self.publish_chat_event(&ChatEvent::Changed {
            session: session.clone(),
        })
        .await
    }

    /// Creates a fresh access code for the operator and session, valid for `ttl`, replacing
    /// the operator's earlier code for the session. `number` is what the user is told to
    /// call. `None` when no free code was found (nearly every code is live).
    pub async fn issue_voice_code(
        &self,
        operator: &UserId,
        session: &SessionId,
        number: &PhoneNumber,
        ttl: Duration,
    ) -> Result<Option<IssuedCode>, BusError> {
        let ttl_s = ttl.as_secs().max(1);
        let claim = serde_json::to_string(&VoiceClaim {
            operator: operator.clone(),
            session: session.clone(),
        })
        .map_err(corrupt)?;
        for _ in 0..CODE_TRIES {
            let code = format!("{:04}", rand::rng().random_range(0..10_000u32));
            let expires_at_ms = now_ms() + ttl_s * 1000;
            let offer = serde_json::to_string(&VoiceOffer {
                code: code.clone(),
                number: number.clone(),
                expires_at_ms,
            })
            .map_err(corrupt)?;
            let mut inv = CREATE.prepare_invoke();
            inv.key(self.keys.voice_code(&code))
                .key(self.keys.voice_session(session))
                .key(self.keys.voice_operator(operator))
                .key(self.keys.voice_expiries())
                .arg(self.keys.voice_code_prefix())
                .arg(operator.as_str())
                .arg(session.as_str())
                .arg(ttl_s)
                .arg(&claim)
                .arg(&offer)
                .arg(expires_at_ms)
                .arg(&code);
            let created: i64 = self.run(async |c| inv.invoke_async(c).await).await?;
            if created == 1 {
                self.voice_changed(session).await?;
                return Ok(Some(IssuedCode {
                    code,
                    expires_at_ms,
                }));
            }
        }
        Ok(None)
    }

    /// Cancels the operator's code for the session (forwarding toggled off). Returns
    /// whether there was one.
    pub async fn cancel_voice_code(
        &self,
        operator: &UserId,
        session: &SessionId,
    ) -> Result<bool, BusError> {
        let mut inv = CANCEL.prepare_invoke();
        inv.key(self.keys.voice_session(session))
            .key(self.keys.voice_operator(operator))
            .arg(self.keys.voice_code_prefix())
            .arg(operator.as_str())
            .arg(session.as_str());
        let removed: i64 = self.run(async |c| inv.invoke_async(c).await).await?;
        if removed > 0 {
            self.voice_changed(session).await?;
        }
        Ok(removed > 0)
    }

    /// Cancels every code of the operator (their phone number was cleared, or they signed
    /// off). Returns how many sessions had one.
    pub async fn cancel_operator_voice_codes(&self, operator: &UserId) -> Result<usize, BusError> {
        let mut inv = CANCEL_ALL.prepare_invoke();
        inv.key(self.keys.voice_operator(operator))
            .arg(self.keys.voice_code_prefix())
            .arg(self.keys.voice_session_prefix())
            .arg(operator.as_str());
        let sessions: Vec<String> = self.run(async |c| inv.invoke_async(c).await).await?;
        for session in sessions.iter().filter_map(|s| SessionId::parse(s).ok()) {
            self.voice_changed(&session).await?;
        }
        Ok(sessions.len())
    }

    /// Uses a code up: at most one caller ever gets its claim. `None` for a wrong, expired,
    /// cancelled or already used code.
    pub async fn consume_voice_code(&self, code: &str) -> Result<Option<VoiceClaim>, BusError> {
        if !is_voice_code(code) {
            return Ok(None);
        }
        let mut inv = CONSUME.prepare_invoke();
        inv.key(self.keys.voice_code(code))
            .arg(self.keys.voice_session_prefix())
            .arg(self.keys.voice_operator_prefix())
            .arg(code);
        let raw: Option<String> = self.run(async |c| inv.invoke_async(c).await).await?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let claim: VoiceClaim = serde_json::from_str(&raw).map_err(corrupt)?;
        self.voice_changed(&claim.session).await?;
        Ok(Some(claim))
    }

    /// The session's live offer (the latest, when several operators made one).
    pub async fn voice_offer(&self, session: &SessionId) -> Result<Option<VoiceOffer>, BusError> {
        let key = self.keys.voice_session(session);
        let raw: Vec<(String, String)> = self
            .run(async |c| redis::cmd("HGETALL").arg(&key).query_async(c).await)
            .await?;
        let now = now_ms();
        let mut best: Option<VoiceOffer> = None;
        for (_, json) in raw {
            let offer: VoiceOffer = serde_json::from_str(&json).map_err(corrupt)?;
            if offer.expires_at_ms > now
                && best
                    .as_ref()
                    .is_none_or(|b| offer.expires_at_ms > b.expires_at_ms)
            {
                best = Some(offer);
            }
        }
        Ok(best)
    }

    /// Tells the users of sessions whose offer lapsed since the last sweep. Safe on every
    /// instance at once: each session is popped by one. Returns how many were told.
    pub async fn sweep_voice_offers(&self) -> Result<usize, BusError> {
        let mut inv = EXPIRED.prepare_invoke();
        inv.key(self.keys.voice_expiries()).arg(now_ms());
        let due: Vec<String> = self.run(async |c| inv.invoke_async(c).await).await?;
        for session in due.iter().filter_map(|s| SessionId::parse(s).ok()) {
            self.voice_changed(&session).await?;
        }
        Ok(due.len())
    }

    /// Counts one more code prompt in a call and returns the count (1 for the first).
    pub async fn voice_call_prompt(&self, call_sid: &str) -> Result<u64, BusError> {
        self.count(
            self.keys.voice_call(key_part(call_sid)),
            CALL_COUNTER_SECONDS,
        )
        .await
    }

    /// Counts one code guess from `caller` and returns the guesses counted in the current
    /// windows: the caller's (`caller_window`) and everyone's (`global_window`).
    pub async fn count_voice_attempt(
        &self,
        caller: &str,
        caller_window: Duration,
        global_window: Duration,
    ) -> Result<(u64, u64), BusError> {
        let caller_key = self.keys.voice_caller_attempts(key_part(caller));
        let global_key = self.keys.voice_attempts();
        let (cw, gw) = (
            caller_window.as_secs().max(1),
            global_window.as_secs().max(1),
        );
        let (mine, all): (u64, u64) = self
            .run(async |c| {
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&caller_key)
                    .arg(0)
                    .arg("EX")
                    .arg(cw)
                    .arg("NX")
                    .ignore()
                    .incr(&caller_key, 1)
                    .cmd("SET")
                    .arg(&global_key)
                    .arg(0)
                    .arg("EX")
                    .arg(gw)
                    .arg("NX")
                    .ignore()
                    .incr(&global_key, 1)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok((mine, all))
    }

    /// A counter that starts at the first increment and lapses `window_s` later.
    async fn count(&self, key: String, window_s: u64) -> Result<u64, BusError> {
        let (n,): (u64,) = self
            .run(async |c| {
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&key)
                    .arg(0)
                    .arg("EX")
                    .arg(window_s)
                    .arg("NX")
                    .ignore()
                    .incr(&key, 1)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_digits_name_a_code_key() {
        for good in ["0000", "1234", "9999"] {
            assert!(is_voice_code(good), "{good}");
        }
        for bad in ["", "123", "12345", "12a4", "*123", "１２３４", "12 4"] {
            assert!(!is_voice_code(bad), "{bad}");
        }
    }

    #[test]
    fn odd_caller_ids_share_one_bucket() {
        assert_eq!(key_part("+14158675309"), "+14158675309");
        assert_eq!(key_part("anonymous"), "anonymous");
        assert_eq!(key_part("CA0123abc"), "CA0123abc");
        assert_eq!(key_part(""), "other");
        assert_eq!(key_part("a{b}"), "other");
        assert_eq!(key_part(&"1".repeat(65)), "other");
    }

    #[test]
    fn offers_keep_the_expiry_as_a_string() {
        let offer = VoiceOffer {
            code: "0042".into(),
            number: PhoneNumber::parse("+15005550006").expect("e164"),
            expires_at_ms: 1_790_000_000_123,
        };
        let json = serde_json::to_string(&offer).expect("json");
        assert_eq!(
            json,
            r#"{"code":"0042","number":"+15005550006","expires_at_ms":"1790000000123"}"#
        );
        assert_eq!(
            serde_json::from_str::<VoiceOffer>(&json).expect("back"),
            offer
        );
    }
}
