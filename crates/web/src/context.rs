//! What every handler of a service can reach.

use std::sync::Arc;

use livehelp_bus::Bus;
use livehelp_settings::Settings;
use livehelp_telemetry::MetricsHandle;

use crate::{Authenticator, Shutdown};

#[derive(Debug)]
pub struct Context {
    pub service: &'static str,
    pub settings: Settings,
    pub bus: Bus,
    pub auth: Authenticator,
    pub shutdown: Shutdown,
    pub metrics: MetricsHandle,
}

impl Context {
    pub fn new(service: &'static str, settings: Settings, bus: Bus) -> Arc<Self> {
        let auth = Authenticator::new(
            &settings.auth.jwt_secret,
            settings.auth.host_api_key.clone(),
            settings.auth.leeway_seconds,
        );
        Arc::new(Self {
            service,
            settings,
            bus,
            auth,
            shutdown: Shutdown::default(),
            metrics: livehelp_telemetry::install_metrics(),
        })
    }
}
