//! Where Redis is: one server, a primary found through Sentinel, or a Redis Cluster.

/// How a process reaches Redis. Every mode runs the same commands and scripts: keys a
/// script or transaction touches together share a hash tag (see [`crate::Keyspace`]).
#[derive(Debug, Clone)]
pub enum Topology {
    /// One server (or anything that looks like one), by URL.
    Single { url: String },
    /// The primary that the Sentinels at `sentinels` name for `master`. `node_url` gives the
    /// username, password and database used on the data nodes; its host is not used.
    Sentinel {
        sentinels: Vec<String>,
        master: String,
        node_url: String,
    },
    /// A Redis Cluster discovered from any of `nodes`. Channels are sharded (`SSUBSCRIBE`,
    /// `SPUBLISH`), so a message only travels to the shard that owns its channel.
    Cluster { nodes: Vec<String> },
}

impl Topology {
    /// Whether pub/sub goes through sharded channels.
    pub(crate) fn sharded(&self) -> bool {
        matches!(self, Self::Cluster { .. })
    }

    /// The command that publishes on a channel in this topology.
    pub(crate) fn publish_command(&self) -> &'static str {
        if self.sharded() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }
}
