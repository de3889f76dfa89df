//! voice-forwarder: Twilio's voice webhook (`/voice/...`). Call forwarding is not built
//! yet: with `voice.enabled` off the webhook answers 404, and on it tells the caller, in
//! TwiML, that forwarding is unavailable and hangs up — never silence.

use actix_web::{HttpResponse, web};
use livehelp_protocol::ErrorCode;
use livehelp_settings::Settings;
use livehelp_web::{ApiError, Context, Server, Stopper};

pub const SERVICE: &str = "voice-forwarder";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/voice/incoming", web::post().to(incoming));
}

const UNAVAILABLE_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Say>Sorry, call forwarding is not available. Goodbye.</Say><Hangup/></Response>"#;

async fn incoming(ctx: web::Data<Context>) -> Result<HttpResponse, ApiError> {
    if !ctx.settings.voice.enabled {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "voice is turned off (voice.enabled)",
        ));
    }
    metrics::counter!("livehelp_voice_calls", "outcome" => "unavailable").increment(1);
    Ok(HttpResponse::Ok()
        .content_type("text/xml")
        .body(UNAVAILABLE_TWIML))
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
