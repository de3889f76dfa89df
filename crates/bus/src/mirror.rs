//! Screen mirroring through Redis: two channels per session (towards the user, towards the
//! observers), the set of observers, and the control lock. Nothing of the page is stored.

use std::sync::LazyLock;

use livehelp_protocol::{SessionId, UserId};

use crate::sessions::now_ms;
use crate::{Bus, BusError};

/// Deletes the lock only if `ARGV[1]` holds it.
static RELEASE_LOCK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
         return 0",
    )
});

/// Takes the lock for `ARGV[1]` (or renews it when already theirs) for `ARGV[2]` ms;
/// returns the holder afterwards.
static TAKE_LOCK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local holder = redis.call('GET', KEYS[1])
         if (not holder) or holder == ARGV[1] then
           redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
           return ARGV[1]
         end
         return holder",
    )
});

impl Bus {
    pub fn mirror_user_channel(&self, session: &SessionId) -> String {
        self.keys.mirror_user_channel(session)
    }

    pub fn mirror_watch_channel(&self, session: &SessionId) -> String {
        self.keys.mirror_watch_channel(session)
    }

    /// Publishes a ready-made frame towards the session's user.
    pub async fn to_mirror_user(&self, session: &SessionId, frame: String) -> Result<(), BusError> {
        self.publish(self.keys.mirror_user_channel(session), frame)
            .await
    }

    /// Publishes a ready-made frame towards the session's observers.
    pub async fn to_mirror_watchers(
        &self,
        session: &SessionId,
        frame: String,
    ) -> Result<(), BusError> {
        self.publish(self.keys.mirror_watch_channel(session), frame)
            .await
    }

    /// Takes (or renews) control for `operator`; returns who holds it afterwards.
    pub async fn take_control(
        &self,
        session: &SessionId,
        operator: &UserId,
        ttl_ms: u64,
    ) -> Result<UserId, BusError> {
        let mut inv = TAKE_LOCK.prepare_invoke();
        inv.key(self.keys.mirror_lock(session))
            .arg(operator.as_str())
            .arg(ttl_ms);
        let holder: String = self.run(async |c| inv.invoke_async(c).await).await?;
        UserId::parse(holder).map_err(|e| BusError::Corrupt(e.to_string()))
    }

    /// Gives control back if `operator` holds it; returns whether they did.
    pub async fn release_control(
        &self,
        session: &SessionId,
        operator: &UserId,
    ) -> Result<bool, BusError> {
        let mut inv = RELEASE_LOCK.prepare_invoke();
        inv.key(self.keys.mirror_lock(session))
            .arg(operator.as_str());
        let deleted: i64 = self.run(async |c| inv.invoke_async(c).await).await?;
        Ok(deleted == 1)
    }

    /// Who controls the session's screen, if anyone.
    pub async fn controller(&self, session: &SessionId) -> Result<Option<UserId>, BusError> {
        let key = self.keys.mirror_lock(session);
        let holder: Option<String> = self
            .run(async |c| redis::cmd("GET").arg(&key).query_async(c).await)
            .await?;
        Ok(holder.and_then(|h| UserId::parse(h).ok()))
    }

    /// Records (or renews) one observer connection until `ttl_ms` from now; returns how many
    /// observe now.
    pub async fn watching(
        &self,
        session: &SessionId,
        watcher: &str,
        ttl_ms: u64,
    ) -> Result<usize, BusError> {
        let key = self.keys.mirror_watchers(session);
        let now = now_ms();
        let (_, _, _, count): ((), (), (), usize) = self
            .run(async |c| {
                redis::pipe()
                    .zadd(&key, watcher, now + ttl_ms)
                    .zrembyscore(&key, "-inf", now)
                    .pexpire(&key, ttl_ms as i64)
                    .zcard(&key)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(count)
    }

    /// Forgets an observer connection; returns how many observe now.
    pub async fn stopped_watching(
        &self,
        session: &SessionId,
        watcher: &str,
    ) -> Result<usize, BusError> {
        let key = self.keys.mirror_watchers(session);
        let now = now_ms();
        let (_, _, count): ((), (), usize) = self
            .run(async |c| {
                redis::pipe()
                    .zrem(&key, watcher)
                    .zrembyscore(&key, "-inf", now)
                    .zcard(&key)
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(count)
    }

    /// How many observe the session now.
    pub async fn watching_count(&self, session: &SessionId) -> Result<usize, BusError> {
        let key = self.keys.mirror_watchers(session);
        let now = now_ms();
        self.run(async |c| {
            redis::cmd("ZCOUNT")
                .arg(&key)
                .arg(now)
                .arg("+inf")
                .query_async(c)
                .await
        })
        .await
    }

    /// Records the user's consent for `operator` to observe or control, for `ttl_ms`.
    pub async fn grant_consent(
        &self,
        session: &SessionId,
        kind: &str,
        operator: &UserId,
        ttl_ms: u64,
    ) -> Result<(), BusError> {
        let key = self.keys.mirror_consent(session);
        let until = now_ms() + ttl_ms;
        self.run(async |c| {
            redis::pipe()
                .hset(&key, format!("{kind}|{operator}"), until)
                .pexpire(&key, ttl_ms as i64)
                .query_async::<()>(c)
                .await
        })
        .await
    }

    pub async fn has_consent(
        &self,
        session: &SessionId,
        kind: &str,
        operator: &UserId,
    ) -> Result<bool, BusError> {
        let key = self.keys.mirror_consent(session);
        let until: Option<u64> = self
            .run(async |c| {
                redis::cmd("HGET")
                    .arg(&key)
                    .arg(format!("{kind}|{operator}"))
                    .query_async(c)
                    .await
            })
            .await?;
        Ok(until.is_some_and(|u| u > now_ms()))
    }

    /// Forgets every observer of a session and every consent given (the user pressed Stop).
    pub async fn clear_watchers(&self, session: &SessionId) -> Result<(), BusError> {
        let (watchers, consent) = (
            self.keys.mirror_watchers(session),
            self.keys.mirror_consent(session),
        );
        self.run(async |c| {
            redis::cmd("DEL")
                .arg(&watchers)
                .arg(&consent)
                .query_async::<i64>(c)
                .await
        })
        .await
        .map(|_| ())
    }
}
