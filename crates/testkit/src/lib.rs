//! Dev-only helpers for tests: a private `redis-server` and `nginx` per test on free
//! loopback ports, settings with a fresh key prefix, signed identities, a WebSocket client.
//! Tests never rely on a server someone else started.

mod bus;
mod identities;
mod nginx;
mod ports;
mod redis_cluster;
mod redis_sentinel;
mod redis_server;
mod service_process;
mod ws_client;

pub use bus::test_bus;
pub use identities::{HOST_API_KEY, Identities, JWT_SECRET, fresh_prefix, test_env, test_settings};
pub use nginx::{Nginx, Pools, Upstreams, render};
pub use ports::free_port;
pub use redis_cluster::RedisCluster;
pub use redis_sentinel::RedisSentinel;
pub use redis_server::RedisServer;
pub use service_process::ServiceProcess;
pub use ws_client::WsClient;

/// The repository's root, for files tests read (routing table, templates, built assets).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
