//! screen-mirror: users stream their page (rrweb events, masked in their browser) on
//! `/mirror/ws`; operators observe it there and, holding the session's control lock, send
//! edits and clicks back. Events are relayed through Redis pub/sub, never stored.

mod observer;
mod socket;
mod user;

use actix_web::web;
use livehelp_settings::Settings;
use livehelp_web::{Server, Stopper};

pub const SERVICE: &str = "screen-mirror";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mirror/ws", web::get().to(socket::connect));
}

#[derive(Debug)]
pub struct Application(Server);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Ok(Self(Server::build(SERVICE, settings, routes).await?))
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
