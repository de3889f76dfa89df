//! What every handler of a service can reach.

use std::sync::Arc;

use livehelp_bus::Bus;
use livehelp_settings::Settings;
use livehelp_telemetry::MetricsHandle;

use crate::{Admission, Authenticator, Shutdown};

#[derive(Debug)]
pub struct Context {
    pub service: &'static str,
    pub settings: Settings,
    pub bus: Bus,
    pub auth: Authenticator,
    pub shutdown: Shutdown,
    pub metrics: MetricsHandle,
    /// The process's WebSocket caps (`limits.max_connections`, `..._per_identity`).
    pub admission: Arc<Admission>,
}

impl Context {
    pub fn new(service: &'static str, settings: Settings, bus: Bus) -> Arc<Self> {
        let auth = Authenticator::new(
            &settings.auth.jwt_secret,
            settings.auth.host_api_key.clone(),
            settings.auth.leeway_seconds,
        );
        let admission = Admission::new(
            settings.limits.max_connections,
            settings.limits.max_connections_per_identity,
        );
        Arc::new(Self {
            admission,
            service,
            settings,
            bus,
            auth,
            shutdown: Shutdown::default(),
            metrics: livehelp_telemetry::install_metrics(),
        })
    }
}
