//! Opening the command connections and the pub/sub hub.

use std::sync::Arc;
use std::time::Duration;

use livehelp_settings::{RedisMode, RedisSettings};
use secrecy::ExposeSecret;

use crate::commands::{Commands, Conn};
use crate::store_batches::StoreBatches;
use crate::{BusError, Hub, Keyspace, Topology};

/// A process's handle on Redis: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Bus {
    commands: Arc<Commands>,
    topology: Arc<Topology>,
    pub(crate) keys: Keyspace,
    pub(crate) timeout: Duration,
    /// Replicas that must hold a chat message before it is acknowledged (`WAIT`).
    pub(crate) ack_replicas: u32,
    hub: Hub,
    pub(crate) store_batches: Arc<StoreBatches>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// [`Bus::open`] on one server.
    pub fn connect(
        url: &str,
        keys: Keyspace,
        pool_size: usize,
        timeout: Duration,
    ) -> Result<Self, BusError> {
        let topology = Topology::Single {
            url: url.to_owned(),
        };
        Self::open(&topology, keys, pool_size, timeout)
    }

    /// Builds the command connections and the hub, whose connection task starts with its
    /// first use ([`Hub::run_here`]). Nothing is required of Redis yet: a service starts
    /// (unready) while Redis is down.
    pub fn open(
        topology: &Topology,
        keys: Keyspace,
        pool_size: usize,
        timeout: Duration,
    ) -> Result<Self, BusError> {
        Ok(Self {
            commands: Arc::new(Commands::open(topology, pool_size, timeout)?),
            topology: Arc::new(topology.clone()),
            keys,
            timeout,
            ack_replicas: 0,
            hub: Hub::start(topology, timeout)?,
            store_batches: Arc::default(),
        })
    }

    /// [`Bus::open`] as the `redis` settings say.
    pub fn from_settings(redis: &RedisSettings) -> Result<Self, BusError> {
        let nodes = || {
            redis
                .nodes
                .iter()
                .map(|n| n.expose_secret().to_owned())
                .collect()
        };
        let url = redis.url.expose_secret().to_owned();
        let topology = match redis.mode {
            RedisMode::Single => Topology::Single { url },
            RedisMode::Sentinel => Topology::Sentinel {
                sentinels: nodes(),
                master: redis.sentinel_master.clone(),
                node_url: url,
            },
            RedisMode::Cluster => Topology::Cluster { nodes: nodes() },
        };
        Ok(Self::open(
            &topology,
            Keyspace::new(redis.key_prefix.clone()),
            redis.pool_size,
            Duration::from_millis(redis.command_timeout_ms),
        )?
        .acknowledging_after(redis.ack_replicas))
    }

    /// Acknowledges chat messages only once `replicas` replicas hold them too, so that a
    /// failover to a replica keeps every acknowledged message (see `docs/operations.md`).
    pub fn acknowledging_after(mut self, replicas: u32) -> Self {
        self.ack_replicas = replicas;
        self
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn keys(&self) -> &Keyspace {
        &self.keys
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Runs one command batch on a shared connection (other commands are pipelined with
    /// it), counting failures. A connection a command failed on is dropped rather than used
    /// again: it may be broken, or talking to a demoted primary.
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(&mut Conn) -> redis::RedisResult<T>,
    ) -> Result<T, BusError> {
        let conn = self.commands.get().await;
        self.run_on(conn, f).await
    }

    /// [`Bus::run`] on the connection where Redis runs batches in the order they were
    /// made, however many are outstanding ([`Commands::get_ordered`]).
    pub(crate) async fn run_in_order<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(&mut Conn) -> redis::RedisResult<T>,
    ) -> Result<T, BusError> {
        let conn = self.commands.get_ordered().await;
        self.run_on(conn, f).await
    }

    /// [`Bus::run`] on a connection of its own, for a batch that blocks its connection in
    /// Redis (`WAIT`).
    pub(crate) async fn run_alone<T: redis::FromRedisValue>(
        &self,
        f: impl AsyncFnOnce(&mut Conn) -> redis::RedisResult<T>,
    ) -> Result<T, BusError> {
        let conn = self.commands.get_exclusive().await;
        self.run_on(conn, f).await
    }

    async fn run_on<T: redis::FromRedisValue>(
        &self,
        conn: Result<Conn, BusError>,
        f: impl AsyncFnOnce(&mut Conn) -> redis::RedisResult<T>,
    ) -> Result<T, BusError> {
        let mut c = conn.inspect_err(|_| {
            metrics::counter!("livehelp_redis_errors").increment(1);
        })?;
        let result = match tokio::time::timeout(self.timeout, f(&mut c)).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(BusError::Timeout(self.timeout)),
        };
        metrics::counter!("livehelp_redis_errors").increment(1);
        self.commands.discard(c).await;
        result
    }

    /// Whether Redis answers commands and the hub is subscribed: what `/readyz` reports.
    pub async fn ready(&self) -> Result<(), BusError> {
        self.hub.run_here();
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
            redis::cmd(self.topology.publish_command())
                .arg(&channel)
                .arg(&payload)
                .query_async::<i64>(c)
                .await
        })
        .await
        .map(|_| ())
    }
}
