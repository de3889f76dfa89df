//! A private Sentinel setup: a primary, one replica and three Sentinels watching them under
//! the name [`RedisSentinel::MASTER`], quick to fail over (1 s to declare the primary down).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::RedisServer;

#[derive(Debug)]
pub struct RedisSentinel {
    primary: RedisServer,
    replica: RedisServer,
    sentinels: Vec<RedisServer>,
}

impl RedisSentinel {
    pub const MASTER: &str = "livehelp";

    /// Starts everything with the append-only file on, and waits until the replica is in
    /// sync and every Sentinel knows the replica and the other Sentinels.
    pub fn start() -> anyhow::Result<Self> {
        let primary = RedisServer::start_persistent()?;
        let replica = RedisServer::start_custom(
            true,
            &[
                "--replicaof".into(),
                "127.0.0.1".into(),
                primary.port().to_string(),
            ],
            None,
        )?;
        let primary_port = primary.port();
        let config = move |port: u16| {
            format!(
                "port {port}\nbind 127.0.0.1\n\
                 sentinel monitor {m} 127.0.0.1 {primary_port} 2\n\
                 sentinel down-after-milliseconds {m} 1000\n\
                 sentinel failover-timeout {m} 10000\n\
                 sentinel parallel-syncs {m} 1\n",
                m = Self::MASTER
            )
        };
        let sentinels = (0..3)
            .map(|_| RedisServer::start_custom(false, &["--sentinel".into()], Some(&config)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let setup = Self {
            primary,
            replica,
            sentinels,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !setup.settled() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "sentinel setup not settled within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(setup)
    }

    /// The Sentinels' URLs, for `redis.nodes`.
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels.iter().map(RedisServer::url).collect()
    }

    pub fn primary(&mut self) -> &mut RedisServer {
        &mut self.primary
    }

    pub fn replica(&self) -> &RedisServer {
        &self.replica
    }

    /// The port the Sentinels currently name as primary.
    pub fn current_primary_port(&self) -> Option<u16> {
        let out = cli(
            self.sentinels[0].port(),
            &["sentinel", "get-master-addr-by-name", Self::MASTER],
        );
        out.lines().nth(1)?.trim().parse().ok()
    }

    fn settled(&self) -> bool {
        let replication = cli(self.replica.port(), &["info", "replication"]);
        replication.contains("master_link_status:up")
            && self.sentinels.iter().all(|s| {
                let info = cli(s.port(), &["sentinel", "master", Self::MASTER]);
                field(&info, "num-slaves") == Some("1")
                    && field(&info, "num-other-sentinels") == Some("2")
            })
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// A value in redis-cli's output of a flat name/value reply (one item per line).
fn field<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    let mut lines = reply.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name {
            return lines.next().map(str::trim);
        }
    }
    None
}
