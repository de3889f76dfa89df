//! Connections for commands, whatever the topology. On one server or the Sentinel-named
//! primary: a few connections that commands share, pipelined ([`crate::multiplexed`]), and
//! a pool of connections checked out alone ([`crate::pool`]) for the commands that need a
//! connection to themselves (`WAIT` blocks the connection it runs on). On a cluster: the
//! cluster client's own connections (one per node, multiplexed, routed by key slot).

use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisFuture, Value};

use crate::multiplexed::{Multiplexed, Share};
use crate::pool::{Manager, sentinel_client};
use crate::{BusError, Topology};

/// Shared connections per process: few, so that concurrent commands pipeline on each;
/// two, so that one slow reply (a long history read) does not hold up every command.
const SHARED_CONNECTIONS: usize = 2;

pub(crate) enum Commands {
    Server {
        shared: Box<Multiplexed>,
        /// One more shared connection, for calls that must run in the order they were made
        /// ([`Commands::get_ordered`]).
        ordered: Box<Multiplexed>,
        exclusive: deadpool::managed::Pool<Manager>,
    },
    Cluster(Box<ClusterCommands>),
}

pub(crate) struct ClusterCommands {
    client: ClusterClient,
    /// Opened on first use, so a service starts while the cluster is down.
    conn: tokio::sync::Mutex<Option<ClusterConnection>>,
    timeout: Duration,
}

/// A connection as a command batch gets it.
pub(crate) enum Conn {
    Shared(Share),
    Ordered(Share),
    Exclusive(deadpool::managed::Object<Manager>),
    Cluster(ClusterConnection),
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
        let manager = || match topology {
            Topology::Single { url } => Manager::server(url, config.clone()),
            Topology::Sentinel {
                sentinels,
                master,
                node_url,
            } => Ok(Manager::sentinel(
                sentinel_client(sentinels, master, node_url)?,
                config.clone(),
            )),
            Topology::Cluster { .. } => Err(BusError::Corrupt("a cluster has no manager".into())),
        };
        if let Topology::Cluster { nodes } = topology {
            return Ok(Self::Cluster(Box::new(ClusterCommands {
                client: cluster_client(nodes, timeout).build()?,
                conn: tokio::sync::Mutex::new(None),
                timeout,
            })));
        }
        let exclusive = deadpool::managed::Pool::builder(manager()?)
            .max_size(pool_size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(|e| BusError::Corrupt(format!("pool configuration: {e}")))?;
        Ok(Self::Server {
            shared: Box::new(Multiplexed::new(manager()?, SHARED_CONNECTIONS, timeout)),
            ordered: Box::new(Multiplexed::new(manager()?, 1, timeout)),
            exclusive,
        })
    }

    /// A connection that other commands may use at the same time.
    pub(crate) async fn get(&self) -> Result<Conn, BusError> {
        match self {
            Self::Server { shared, .. } => Ok(Conn::Shared(shared.get().await?)),
            Self::Cluster(cluster) => cluster.get().await,
        }
    }

    /// The one shared connection on which Redis runs calls in the order they were made:
    /// each waits for the one before it to be written (a fair lock, then the connection's
    /// queue), however many are outstanding. On a cluster, the cluster connection (which
    /// keeps the order of the calls to each node).
    pub(crate) async fn get_ordered(&self) -> Result<Conn, BusError> {
        match self {
            Self::Server { ordered, .. } => Ok(Conn::Ordered(ordered.get().await?)),
            Self::Cluster(cluster) => cluster.get().await,
        }
    }

    /// A connection nothing else uses until it is given back.
    pub(crate) async fn get_exclusive(&self) -> Result<Conn, BusError> {
        match self {
            Self::Server { exclusive, .. } => Ok(Conn::Exclusive(exclusive.get().await?)),
            Self::Cluster(cluster) => cluster.get().await,
        }
    }

    /// Keeps a connection a command failed on from being used again.
    pub(crate) async fn discard(&self, conn: Conn) {
        match (self, conn) {
            (Self::Server { shared, .. }, Conn::Shared(share)) => shared.discard(share).await,
            (Self::Server { ordered, .. }, Conn::Ordered(share)) => ordered.discard(share).await,
            (_, Conn::Exclusive(object)) => drop(deadpool::managed::Object::take(object)),
            _ => {}
        }
    }
}

impl ClusterCommands {
    /// The cluster connection, opened on first use.
    async fn get(&self) -> Result<Conn, BusError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(Conn::Cluster(c.clone()));
        }
        let c = tokio::time::timeout(self.timeout, self.client.get_async_connection())
            .await
            .map_err(|_| BusError::Timeout(self.timeout))??;
        *slot = Some(c.clone());
        Ok(Conn::Cluster(c))
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
            Self::Shared(c) | Self::Ordered(c) => c.conn.req_packed_command(cmd),
            Self::Exclusive(c) => c.req_packed_command(cmd),
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
            Self::Shared(c) | Self::Ordered(c) => {
                c.conn.req_packed_commands(pipeline, offset, count)
            }
            Self::Exclusive(c) => c.req_packed_commands(pipeline, offset, count),
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
            Self::Shared(c) | Self::Ordered(c) => c.conn.get_db(),
            Self::Exclusive(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}
