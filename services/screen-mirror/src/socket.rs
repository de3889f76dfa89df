//! The mirror socket's handshake: users stream, operators observe; anyone else is refused.

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_identity::Principal;
use livehelp_protocol::{Hello, HelloYou, PROTOCOL_VERSION, ServerFrame};
use livehelp_web::ws::{self, Socket};
use livehelp_web::{ApiError, Context};

use crate::{observer, user};

pub async fn connect(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limit = ctx.settings.mirror.max_frame_bytes;
    let (response, mut socket, who) = ws::upgrade_with_limit(
        &req,
        body,
        &ctx,
        |p| matches!(p, Principal::User(_) | Principal::Operator(_)),
        limit,
    )?;
    let ctx = ctx.into_inner();
    actix_web::rt::spawn(async move {
        hello(&ctx, &mut socket, &who).await;
        match who {
            Principal::User(u) => user::run(ctx, socket, u).await,
            Principal::Operator(o) => observer::run(ctx, socket, o).await,
            Principal::Staff(_) => {}
        }
    });
    Ok(response)
}

async fn hello(ctx: &Context, socket: &mut Socket, who: &Principal) {
    let session = match who {
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
}
