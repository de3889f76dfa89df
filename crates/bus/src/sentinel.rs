//! Connections to the primary that Sentinel names. A connection is checked out only while
//! its server still says it is the primary: after a failover the old primary may come back
//! as a replica, answering PING but refusing writes.

use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{AsyncConnectionConfig, IntoConnectionInfo, RedisError};
use tokio::sync::Mutex;

use crate::BusError;

pub(crate) struct SentinelManager {
    client: Mutex<SentinelClient>,
    config: AsyncConnectionConfig,
}

impl SentinelManager {
    pub(crate) fn new(
        sentinels: &[String],
        master: &str,
        node_url: &str,
        config: AsyncConnectionConfig,
    ) -> Result<Self, BusError> {
        Ok(Self {
            client: Mutex::new(sentinel_client(sentinels, master, node_url)?),
            config,
        })
    }
}

/// A client of the Sentinels at `sentinels` that finds the primary named `master`.
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

impl deadpool::managed::Manager for SentinelManager {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<MultiplexedConnection, RedisError> {
        // Asking the Sentinels every time: after a failover they name the new primary.
        let client = self.client.lock().await.async_get_client().await?;
        client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
    }

    async fn recycle(
        &self,
        conn: &mut MultiplexedConnection,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<RedisError> {
        let role: redis::Value = redis::cmd("ROLE").query_async(conn).await?;
        let primary = matches!(&role, redis::Value::Array(parts)
            if matches!(parts.first(), Some(redis::Value::BulkString(r)) if r.as_slice() == b"master"));
        if primary {
            Ok(())
        } else {
            Err(deadpool::managed::RecycleError::message(
                "no longer the primary",
            ))
        }
    }
}
