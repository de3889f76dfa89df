//! Connections for commands, whatever the topology: a pool of connections to one server or
//! to the Sentinel-named primary ([`crate::pool`]), or the cluster client's own connections
//! (one per node, multiplexed, routed by key slot).

use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisFuture, Value};

use crate::pool::{Manager, sentinel_client};
use crate::{BusError, Topology};

pub(crate) enum Commands {
    Pooled(deadpool::managed::Pool<Manager>),
    Cluster(Box<ClusterCommands>),
}

pub(crate) struct ClusterCommands {
    client: ClusterClient,
    /// Opened on first use, so a service starts while the cluster is down.
    conn: tokio::sync::Mutex<Option<ClusterConnection>>,
    timeout: Duration,
}

/// One checked-out connection.
pub(crate) enum Conn {
    Pooled(deadpool::managed::Object<Manager>),
    Cluster(ClusterConnection),
}

impl Conn {
    /// Keeps a connection that failed out of the pool.
    pub(crate) fn discard(self) {
        if let Self::Pooled(object) = self {
            drop(deadpool::managed::Object::take(object));
        }
    }
}

impl Commands {
    pub(crate) fn open(
        topology: &Topology,
        pool_size: usize,
        timeout: Duration,
    ) -> Result<Self, BusError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = match topology {
            Topology::Single { url } => Manager::server(url, config)?,
            Topology::Sentinel {
                sentinels,
                master,
                node_url,
            } => Manager::sentinel(sentinel_client(sentinels, master, node_url)?, config),
            Topology::Cluster { nodes } => {
                return Ok(Self::Cluster(Box::new(ClusterCommands {
                    client: cluster_client(nodes, timeout).build()?,
                    conn: tokio::sync::Mutex::new(None),
                    timeout,
                })));
            }
        };
        let pool = deadpool::managed::Pool::builder(manager)
            .max_size(pool_size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(|e| BusError::Corrupt(format!("pool configuration: {e}")))?;
        Ok(Self::Pooled(pool))
    }

    pub(crate) async fn get(&self) -> Result<Conn, BusError> {
        Ok(match self {
            Self::Pooled(pool) => Conn::Pooled(pool.get().await?),
            Self::Cluster(cluster) => {
                let mut slot = cluster.conn.lock().await;
                if let Some(c) = slot.as_ref() {
                    return Ok(Conn::Cluster(c.clone()));
                }
                let timeout = cluster.timeout;
                let c = tokio::time::timeout(timeout, cluster.client.get_async_connection())
                    .await
                    .map_err(|_| BusError::Timeout(timeout))??;
                *slot = Some(c.clone());
                Conn::Cluster(c)
            }
        })
    }
}

/// The cluster client settings shared by commands and the hub.
pub(crate) fn cluster_client(
    nodes: &[String],
    timeout: Duration,
) -> redis::cluster::ClusterClientBuilder {
    ClusterClient::builder(nodes.iter().map(String::as_str))
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(2)
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Pooled(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Pooled(c) => c.req_packed_commands(pipeline, offset, count),
            // A cluster sends a pipeline to one node, so its keys must share a slot. Our
            // plain pipelines only save round trips and may span slots: there each command
            // goes on its own, in order. Transactions stay whole (their keys share a tag).
            Self::Cluster(c) => {
                if pipeline.is_transaction() {
                    return c.req_packed_commands(pipeline, offset, count);
                }
                Box::pin(async move {
                    let mut values = Vec::with_capacity(pipeline.len());
                    for cmd in pipeline.cmd_iter() {
                        values.push(c.req_packed_command(cmd).await?);
                    }
                    Ok(values.into_iter().skip(offset).take(count).collect())
                })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Pooled(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}
