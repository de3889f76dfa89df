//! One operator's monitor connection: the session list, kept current from the monitor
//! channel, and the operator's presence.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_bus::ALL_SESSIONS;
use livehelp_identity::Principal;
use livehelp_protocol::{Hello, HelloYou, PROTOCOL_VERSION, ServerFrame, SessionId};
use livehelp_web::ws::{self, Socket};
use livehelp_web::{ApiError, Context};
use tokio::sync::broadcast::error::RecvError;

use crate::summary;

pub async fn connect(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (response, socket, who) =
        ws::upgrade(&req, body, &ctx, |p| matches!(p, Principal::Operator(_)))?;
    actix_web::rt::spawn(run(ctx.into_inner(), socket, who));
    Ok(response)
}

async fn send_all(ctx: &Context, socket: &mut Socket) {
    let frame = match summary::load_all(&ctx.bus).await {
        Ok(sessions) => ServerFrame::Sessions { sessions },
        Err(e) => ServerFrame::Error(ApiError::from(e).frame()),
    };
    socket.send(&frame).await;
}

async fn send_one(ctx: &Context, socket: &mut Socket, session: SessionId) {
    let frame = match summary::load(&ctx.bus, &session).await {
        Ok(Some(row)) => ServerFrame::Session { session: row },
        Ok(None) => ServerFrame::SessionGone { session },
        Err(e) => ServerFrame::Error(ApiError::from(e).frame()),
    };
    socket.send(&frame).await;
}

async fn run(ctx: Arc<Context>, mut socket: Socket, who: Principal) {
    let heartbeat = Duration::from_secs(ctx.settings.limits.heartbeat_seconds);
    let connection = uuid::Uuid::new_v4().to_string();
    let operator = who.id().clone();
    let mut changes = ctx.bus.hub().subscribe(ctx.bus.monitor_channel()).await;
    let mut generation = ctx.bus.hub().generation();
    socket
        .send(&ServerFrame::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            you: HelloYou {
                kind: who.sender_kind(),
                id: operator.clone(),
                name: who.name().map(str::to_owned),
            },
            session: None,
            heartbeat_seconds: heartbeat.as_secs(),
        }))
        .await;
    let ttl_ms = (heartbeat * 3).as_millis() as u64;
    match ctx
        .bus
        .operator_online(&operator, &connection, ttl_ms)
        .await
    {
        Ok(()) => {
            let _ = ctx.bus.notify_all_sessions().await;
        }
        Err(e) => tracing::warn!(error = %e, "could not record operator presence"),
    }
    send_all(&ctx, &mut socket).await;
    let mut presence = tokio::time::interval(heartbeat);
    presence.tick().await;
    while socket.is_open() {
        let event = tokio::select! {
            event = socket.recv() => event,
            change = changes.recv() => {
                match change {
                    Ok(p) if p.payload.as_ref() == ALL_SESSIONS.as_bytes() => send_all(&ctx, &mut socket).await,
                    Ok(p) => match std::str::from_utf8(&p.payload).ok().and_then(|s| SessionId::parse(s).ok()) {
                        Some(session) => send_one(&ctx, &mut socket, session).await,
                        None => tracing::error!("undecodable monitor payload"),
                    },
                    // Missed changes: the whole list is the simplest correct answer.
                    Err(RecvError::Lagged(_)) => send_all(&ctx, &mut socket).await,
                    Err(RecvError::Closed) => break,
                }
                continue;
            }
            Ok(()) = generation.changed() => {
                send_all(&ctx, &mut socket).await;
                continue;
            }
            _ = presence.tick() => {
                if let Err(e) = ctx.bus.operator_online(&operator, &connection, ttl_ms).await {
                    tracing::warn!(error = %e, "could not refresh operator presence");
                }
                continue;
            }
        };
        // The monitor takes no frames yet: anything a client sends is answered as unknown.
        if socket.react(event).await.is_some() {
            let refusal = ServerFrame::error(
                livehelp_protocol::ErrorCode::BadFrame,
                "the monitor socket accepts no chat frames; use /chat/ws",
            );
            socket.send(&refusal).await;
        }
    }
    if ctx
        .bus
        .operator_offline(&operator, &connection)
        .await
        .is_ok()
    {
        let _ = ctx.bus.notify_all_sessions().await;
    }
}
