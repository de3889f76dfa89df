//! Pooled connections to one server, or to the primary that Sentinel names.
//!
//! A connection checked out again within [`TRUSTED_FOR`] of its last use is handed out as
//! is: a busy process pays no health-check round trip per command. An idle one is checked
//! first (PING; with Sentinel, ROLE, since after a failover the old primary may come back as
//! a replica that answers but refuses writes). A command that fails on a connection gets
//! the connection discarded (see [`crate::Bus`]), so a broken one is not reused either way.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{AsyncConnectionConfig, IntoConnectionInfo, RedisError, Value};
use tokio::sync::Mutex;

use crate::BusError;

pub(crate) const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// deadpool-redis's managers open the connections; this one decides when a pooled
/// connection needs checking.
pub(crate) enum Manager {
    Server(deadpool_redis::Manager),
    /// Asks the Sentinels for every new connection: after a failover they name the new
    /// primary.
    Sentinel {
        sentinel: Mutex<SentinelClient>,
        config: AsyncConnectionConfig,
    },
}

impl Manager {
    pub(crate) fn server(url: &str, config: AsyncConnectionConfig) -> Result<Self, BusError> {
        Ok(Self::Server(deadpool_redis::Manager::new_with_config(
            url, config,
        )?))
    }

    pub(crate) fn sentinel(sentinel: SentinelClient, config: AsyncConnectionConfig) -> Self {
        Self::Sentinel {
            sentinel: Mutex::new(sentinel),
            config,
        }
    }
}

impl Manager {
    /// Opens a connection: to the server, or to the primary the Sentinels name now.
    pub(crate) async fn open(&self) -> Result<MultiplexedConnection, RedisError> {
        match self {
            Self::Server(m) => deadpool::managed::Manager::create(m).await,
            Self::Sentinel { sentinel, config } => {
                let client = sentinel.lock().await.async_get_client().await?;
                client
                    .get_multiplexed_async_connection_with_config(config)
                    .await
            }
        }
    }

    /// Checks an idle connection before it is used again: it answers, and (with Sentinel)
    /// it still talks to the primary.
    pub(crate) async fn check(&self, conn: &mut MultiplexedConnection) -> Result<(), RedisError> {
        match self {
            Self::Server(_) => redis::cmd("PING").query_async(conn).await,
            Self::Sentinel { .. } => {
                let role: Value = redis::cmd("ROLE").query_async(conn).await?;
                let primary = matches!(&role, Value::Array(parts)
                    if matches!(parts.first(), Some(Value::BulkString(r)) if r.as_slice() == b"master"));
                if primary {
                    Ok(())
                } else {
                    Err(RedisError::from((
                        redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly),
                        "no longer the primary",
                    )))
                }
            }
        }
    }
}

impl deadpool::managed::Manager for Manager {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<MultiplexedConnection, RedisError> {
        self.open().await
    }

    async fn recycle(
        &self,
        conn: &mut MultiplexedConnection,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<RedisError> {
        if metrics.last_used() < TRUSTED_FOR {
            return Ok(());
        }
        Ok(self.check(conn).await?)
    }
}

/// A client of the Sentinels at `sentinels` that finds the primary named `master`, with the
/// credentials and database of `node_url`.
pub(crate) fn sentinel_client(
    sentinels: &[String],
    master: &str,
    node_url: &str,
) -> Result<SentinelClient, BusError> {
    let node = node_url.into_connection_info()?.redis_settings().clone();
    Ok(SentinelClient::build(
        sentinels.to_vec(),
        master.to_owned(),
        Some(SentinelNodeConnectionInfo::default().set_redis_connection_info(node)),
        SentinelServerType::Master,
    )?)
}
