//! A private Redis Cluster: three primaries on loopback, every slot assigned.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::RedisServer;

#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers, joins them with `redis-cli --cluster create`
    /// and waits until every node reports the cluster ok.
    pub fn start() -> anyhow::Result<Self> {
        let extra =
            ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"].map(String::from);
        let nodes = (0..3)
            .map(|_| RedisServer::start_custom(false, &extra, None))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = Self { nodes };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.ok() {
            anyhow::ensure!(Instant::now() < deadline, "cluster not ok within 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(cluster)
    }

    /// The seed URLs of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    fn ok(&self) -> bool {
        self.nodes.iter().all(|n| {
            Command::new("redis-cli")
                .args(["-p", &n.port().to_string(), "cluster", "info"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
        })
    }
}
