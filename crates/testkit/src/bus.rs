//! The bus a test uses to set up or inspect what the services keep in Redis.

use std::time::Duration;

use livehelp_bus::{Bus, Keyspace};
use livehelp_settings::Settings;
use secrecy::ExposeSecret;

/// A bus on the same Redis and key prefix as services built from `settings`. Must be called
/// inside a Tokio runtime (it starts the pub/sub task there).
pub fn test_bus(settings: &Settings) -> Bus {
    Bus::connect(
        settings.redis.url.expose_secret(),
        Keyspace::new(settings.redis.key_prefix.clone()),
        4,
        Duration::from_secs(2),
    )
    .expect("a test bus connects lazily and cannot fail to build")
}
