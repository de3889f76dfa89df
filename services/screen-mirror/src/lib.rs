//! screen-mirror: the socket users stream their screen on and operators observe through
//! (`/mirror/ws`). It authenticates and greets; mirroring frames are not defined yet, so
//! every frame is answered as unknown.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_identity::Principal;
use livehelp_protocol::{ErrorCode, Hello, HelloYou, PROTOCOL_VERSION, ServerFrame};
use livehelp_settings::Settings;
use livehelp_web::ws::{self, Socket};
use livehelp_web::{ApiError, Context, Server, Stopper};

pub const SERVICE: &str = "screen-mirror";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/mirror/ws", web::get().to(connect));
}

async fn connect(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (response, socket, who) = ws::upgrade(&req, body, &ctx, |p| {
        matches!(p, Principal::User(_) | Principal::Operator(_))
    })?;
    actix_web::rt::spawn(run(ctx.into_inner(), socket, who));
    Ok(response)
}

async fn run(ctx: Arc<Context>, mut socket: Socket, who: Principal) {
    let session = match &who {
        Principal::User(u) => Some(u.session.clone()),
        _ => None,
    };
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        you: HelloYou {
            kind: who.sender_kind(),
            id: who.id().clone(),
            name: who.name().map(str::to_owned),
        },
        session,
        heartbeat_seconds: ctx.settings.limits.heartbeat_seconds,
    };
    socket.send(&ServerFrame::Hello(hello)).await;
    while socket.is_open() {
        let event = socket.recv().await;
        if socket.react(event).await.is_some() {
            let refusal = ServerFrame::error(
                ErrorCode::BadFrame,
                "no mirror frames are defined in protocol v1",
            );
            socket.send(&refusal).await;
        }
    }
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
