//! One operator's monitor connection: the session list, kept current from the monitor
//! channel; the operator's presence, availability and roles; block and unblock.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_bus::{Bus, OperatorStatus};
use livehelp_identity::Principal;
use livehelp_protocol::{
    ClientFrame, ErrorCode, Hello, HelloYou, PROTOCOL_VERSION, PhoneNumber, ServerFrame, UserId,
};
use livehelp_web::ws::{self, Socket};
use livehelp_web::{ApiError, Context};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::Board;
use crate::dismissals::Dismissals;

pub async fn connect(
    ctx: web::Data<Context>,
    board: web::Data<Board>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (response, socket, who) =
        ws::upgrade(&req, body, &ctx, |p| matches!(p, Principal::Operator(_)))?;
    let board = board.get_ref().clone();
    actix_web::rt::spawn(run(ctx.into_inner(), board, socket, who));
    Ok(response)
}

/// One monitor's view of the process's list: the board, less the rows this operator
/// dismissed.
struct View {
    board: Board,
    operator: UserId,
    dismissals: Dismissals,
}

impl View {
    /// Sends the whole list as it is now; returns the updates that follow it.
    async fn snapshot(
        &mut self,
        bus: &Bus,
        socket: &mut Socket,
    ) -> broadcast::Receiver<Arc<ServerFrame>> {
        let (sessions, updates) = self.board.snapshot();
        self.forward(bus, socket, &ServerFrame::Sessions { sessions })
            .await;
        updates
    }

    async fn forward(&mut self, bus: &Bus, socket: &mut Socket, frame: &ServerFrame) {
        if let Some(frame) = self.dismissals.filter(bus, &self.operator, frame).await {
            socket.send(&frame).await;
        }
    }
}

/// Sends the operator's own state unless it is what they last saw.
async fn send_operator_state(
    ctx: &Context,
    socket: &mut Socket,
    operator: &UserId,
    last: &mut Option<ServerFrame>,
) {
    let (status, roles, phone) = (
        ctx.bus.operator_status(operator).await,
        ctx.bus.recent_roles().await,
        ctx.bus.operator_phone(operator).await,
    );
    let frame = match (status, roles, phone) {
        (Ok(status), Ok(mut known_roles), Ok(phone)) => {
            known_roles.extend(status.roles.iter().cloned());
            known_roles.sort();
            known_roles.dedup();
            ServerFrame::OperatorState {
                available: status.available,
                roles: status.roles,
                known_roles,
                phone,
                voice: ctx.settings.voice.enabled,
            }
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            socket
                .send(&ServerFrame::Error(ApiError::from(e).frame()))
                .await;
            return;
        }
    };
    if last.as_ref() != Some(&frame) {
        socket.send(&frame).await;
        *last = Some(frame);
    }
}

async fn apply(ctx: &Context, operator: &UserId, frame: ClientFrame) -> Result<(), ApiError> {
    let frame_is_block = matches!(frame, ClientFrame::SessionBlock { .. });
    match frame {
        ClientFrame::OperatorStatus {
            available,
            mut roles,
        } => {
            roles.sort();
            roles.dedup();
            ctx.bus
                .set_operator_status(operator, &OperatorStatus { available, roles })
                .await?;
            Ok(())
        }
        ClientFrame::OperatorPhone { phone } => {
            let phone = match phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(raw) => Some(
                    PhoneNumber::parse(raw)
                        .map_err(|e| ApiError::invalid(format!("phone: {e}")))?,
                ),
                None => None,
            };
            ctx.bus.set_operator_phone(operator, phone.as_ref()).await?;
            Ok(())
        }
        ClientFrame::SessionBlock { session } | ClientFrame::SessionUnblock { session } => {
            let block = frame_is_block;
            ctx.bus.set_blocked(&session, block).await?;
            ctx.bus
                .audit(&session, operator, if block { "block" } else { "unblock" })
                .await;
            Ok(())
        }
        other => Err(ApiError::new(
            ErrorCode::BadFrame,
            format!(
                "{} is not a monitor frame; chat frames go to /chat/ws",
                other.kind()
            ),
        )),
    }
}

async fn run(ctx: Arc<Context>, board: Board, mut socket: Socket, who: Principal) {
    let heartbeat = Duration::from_secs(ctx.settings.limits.heartbeat_seconds);
    let connection = uuid::Uuid::new_v4().to_string();
    let operator = who.id().clone();
    let mut operators = ctx.bus.hub().subscribe(ctx.bus.operators_channel()).await;
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
    let renew = Duration::from_secs(ctx.settings.limits.presence_seconds);
    let ttl_ms = (renew * 3).as_millis() as u64;
    match ctx
        .bus
        .operator_connected(&operator, who.name(), &connection, ttl_ms)
        .await
    {
        Ok(true) => {
            let _ = ctx.bus.notify_operators_changed().await;
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not record operator presence"),
    }
    let mut last_state = None;
    send_operator_state(&ctx, &mut socket, &operator, &mut last_state).await;
    let mut view = View {
        board,
        operator: operator.clone(),
        dismissals: Dismissals::load(&ctx.bus, &operator).await,
    };
    let mut updates = view.snapshot(&ctx.bus, &mut socket).await;
    let mut presence = tokio::time::interval(renew);
    presence.tick().await;
    while socket.is_open() {
        let event = tokio::select! {
            event = socket.recv() => event,
            update = updates.recv() => {
                match update {
                    Ok(frame) => view.forward(&ctx.bus, &mut socket, &frame).await,
                    // Fell behind: the whole list again is the simplest correct answer.
                    Err(RecvError::Lagged(_)) => updates = view.snapshot(&ctx.bus, &mut socket).await,
                    Err(RecvError::Closed) => break,
                }
                continue;
            }
            _ = operators.recv() => {
                send_operator_state(&ctx, &mut socket, &operator, &mut last_state).await;
                continue;
            }
            _ = presence.tick() => {
                if let Err(e) = ctx.bus.operator_connected(&operator, who.name(), &connection, ttl_ms).await {
                    tracing::warn!(error = %e, "could not refresh operator presence");
                }
                continue;
            }
        };
        let result = match socket.react(event).await {
            Some(ClientFrame::SessionDismiss { session }) => {
                match view.dismissals.dismiss(&ctx.bus, &operator, session).await {
                    Ok(gone) => {
                        socket.send(&gone).await;
                        Ok(())
                    }
                    Err(e) => Err(ApiError::from(e)),
                }
            }
            Some(frame) => apply(&ctx, &operator, frame).await,
            None => Ok(()),
        };
        if let Err(e) = result {
            socket.send(&ServerFrame::Error(e.frame())).await;
        }
    }
    match ctx.bus.operator_disconnected(&operator, &connection).await {
        Ok(true) => {
            if let Err(e) = ctx.bus.sign_off(&operator).await {
                tracing::warn!(error = %e, operator = %operator, "could not sign the operator off");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not record operator disconnect"),
    }
}
