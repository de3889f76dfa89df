//! Opening the pool and the pub/sub hub.

use std::time::Duration;

use deadpool_redis::{Manager, Pool, Runtime};
use redis::AsyncConnectionConfig;

use crate::{BusError, Hub, Keyspace};

/// A process's handle on Redis: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Bus {
    pub(crate) pool: Pool,
    pub(crate) keys: Keyspace,
    pub(crate) timeout: Duration,
    hub: Hub,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// Builds the pool and starts the hub's connection task on the current Tokio runtime.
    /// Nothing is required of Redis yet: a service starts (unready) while Redis is down.
    pub fn connect(
        url: &str,
        keys: Keyspace,
        pool_size: usize,
        timeout: Duration,
    ) -> Result<Self, BusError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = Manager::new_with_config(url, config)?;
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(|e| BusError::Corrupt(format!("pool configuration: {e}")))?;
        let hub = Hub::start(redis::Client::open(url)?, timeout);
        Ok(Self {
            pool,
            keys,
            timeout,
            hub,
        })
    }

    pub fn keys(&self) -> &Keyspace {
        &self.keys
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    pub(crate) async fn conn(&self) -> Result<deadpool_redis::Connection, BusError> {
        let result = self.pool.get().await;
        if result.is_err() {
            metrics::counter!("livehelp_redis_errors").increment(1);
        }
        Ok(result?)
    }

    /// Runs one command batch, counting failures.
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(&mut deadpool_redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, BusError> {
        let mut c = self.conn().await?;
        match tokio::time::timeout(self.timeout, f(&mut c)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                metrics::counter!("livehelp_redis_errors").increment(1);
                Err(e.into())
            }
            Err(_) => {
                metrics::counter!("livehelp_redis_errors").increment(1);
                Err(BusError::Timeout(self.timeout))
            }
        }
    }

    /// Whether Redis answers commands and the hub is subscribed: what `/readyz` reports.
    pub async fn ready(&self) -> Result<(), BusError> {
        let pong: String = self
            .run(async |c| redis::cmd("PING").query_async(c).await)
            .await?;
        if pong != "PONG" {
            return Err(BusError::Corrupt(format!("PING answered {pong}")));
        }
        if !self.hub.connected() {
            return Err(BusError::Corrupt("pub/sub connection is down".into()));
        }
        Ok(())
    }

    /// Publishes a payload on a channel.
    pub(crate) async fn publish(&self, channel: String, payload: String) -> Result<(), BusError> {
        self.run(async |c| {
            redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(&payload)
                .query_async::<i64>(c)
                .await
        })
        .await
        .map(|_| ())
    }
}
