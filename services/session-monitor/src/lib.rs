//! session-monitor: the operators' monitor page (`/monitor/`) and its live session list
//! (`/monitor/ws`). It learns about sessions only through Redis.

mod page;
mod socket;
mod summary;
mod sweeper;

use actix_web::web;
use livehelp_settings::Settings;
use livehelp_web::{Server, Stopper};

pub const SERVICE: &str = "session-monitor";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/monitor/", web::get().to(page::monitor_page))
        .route("/monitor/ws", web::get().to(socket::connect));
}

#[derive(Debug)]
pub struct Application(Server);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let server = Server::build(SERVICE, settings, routes).await?;
        sweeper::spawn(server.context());
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
