//! chat-gateway: chat WebSockets for users and operators (`/chat/ws`) and the host
//! application's live-help API (`/chat/api/...`).

mod conversation;
mod delivery;
mod dispatcher;
mod host_api;
mod sends;
mod socket;
mod state;

use actix_web::web;
use livehelp_settings::Settings;
use livehelp_web::{Server, Stopper};

/// The name the service reports in logs and metrics.
pub const SERVICE: &str = "chat-gateway";

/// Registers the service's routes; used by the server and by in-process tests alike.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/chat/ws", web::get().to(socket::connect))
        .configure(host_api::routes);
}

#[derive(Debug)]
pub struct Application(Server);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let server = Server::build(SERVICE, settings, routes).await?;
        server.spawn(dispatcher::run);
        Ok(Self(server))
    }

    pub fn port(&self) -> u16 {
        self.0.port()
    }

    pub fn stopper(&self) -> Stopper {
        self.0.stopper()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.0.run_until_stopped().await
    }
}
