//! session-monitor: the operators' monitor page (`/monitor/`) and its live session list
//! (`/monitor/ws`). It learns about sessions only through Redis.

mod board;
mod dismissals;
mod join;
mod page;
mod socket;
mod summary;
mod sweeper;

use actix_web::web;
use livehelp_settings::Settings;
use livehelp_web::{Server, Stopper};

pub use board::Board;

pub const SERVICE: &str = "session-monitor";

/// Registers the service's routes around the process's session list.
pub fn routes(board: Board) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg| {
        cfg.app_data(web::Data::new(board.clone()))
            .route("/monitor/", web::get().to(page::monitor_page))
            .route("/monitor/ws", web::get().to(socket::connect))
            .route(
                "/monitor/api/sessions/{session}/join",
                web::post().to(join::join_link),
            );
    }
}

#[derive(Debug)]
pub struct Application(Server);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let board = Board::default();
        let server = Server::build(SERVICE, settings, routes(board.clone())).await?;
        server.spawn(move |ctx| board.follow(ctx));
        server.spawn(sweeper::run);
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
