//! voice-forwarder: telephone call forwarding through Twilio (SPEC §8). Operators toggle
//! forwarding for a session (`/voice/api/sessions/{session}/forward`) and get a one-time
//! access code that the session's user sees; Twilio's webhooks (`/voice/incoming`,
//! `/voice/code`, `/voice/dialed`, every request signature-checked) take the code from the
//! caller and bridge the call to the operator's number. With `voice.enabled` off every
//! route answers 404.

mod expiry;
mod forward;
pub mod signature;
pub mod twiml;
mod webhook;

use actix_web::web;
use livehelp_protocol::ErrorCode;
use livehelp_settings::Settings;
use livehelp_web::{ApiError, Context, Server, Stopper};

pub const SERVICE: &str = "voice-forwarder";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(twiml::INCOMING_PATH, web::post().to(webhook::incoming))
        .route(twiml::CODE_PATH, web::post().to(webhook::code))
        .route(twiml::DIALED_PATH, web::post().to(webhook::dialed))
        .route(
            "/voice/api/sessions/{session}/forward",
            web::post().to(forward::start),
        )
        .route(
            "/voice/api/sessions/{session}/forward",
            web::delete().to(forward::stop),
        );
}

/// 404 unless `voice.enabled`.
pub(crate) fn ensure_enabled(ctx: &Context) -> Result<(), ApiError> {
    if ctx.settings.voice.enabled {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            "voice is turned off (voice.enabled)",
        ))
    }
}

#[derive(Debug)]
pub struct Application(Server);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let enabled = settings.voice.enabled;
        let server = Server::build(SERVICE, settings, routes).await?;
        if enabled {
            server.spawn(expiry::run);
        }
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
