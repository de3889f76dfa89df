//! The bus a test uses to set up or inspect what the services keep in Redis.

use livehelp_bus::Bus;
use livehelp_settings::Settings;

/// A bus on the same Redis and key prefix as services built from `settings`. Must be called
/// inside a Tokio runtime (it starts the pub/sub task there).
pub fn test_bus(settings: &Settings) -> Bus {
    Bus::from_settings(&settings.redis)
        .expect("a test bus connects lazily and cannot fail to build")
}
