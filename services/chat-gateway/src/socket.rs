//! One chat WebSocket: a user of one session or an operator, in one loop over client
//! frames, published messages, Redis reconnects and presence refreshes.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_bus::decode_published;
use livehelp_identity::Principal;
use livehelp_protocol::{
    ClientFrame, ErrorCode, ErrorFrame, Hello, HelloYou, MessageId, PROTOCOL_VERSION, Sender,
    ServerFrame, SessionId,
};
use livehelp_web::ws::{self, Socket};
use livehelp_web::{ApiError, Context};

use crate::conversation::{Conversations, Delivery, MAX_OPEN};

pub async fn connect(
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

struct Connection {
    ctx: Arc<Context>,
    socket: Socket,
    who: Principal,
    id: String,
    conversations: Conversations,
}

fn refusal(code: ErrorCode, message: impl Into<String>, cmid: Option<&str>) -> ServerFrame {
    ServerFrame::Error(ErrorFrame {
        code,
        message: message.into(),
        reference: cmid.map(str::to_owned),
    })
}

async fn run(ctx: Arc<Context>, socket: Socket, who: Principal) {
    let heartbeat = Duration::from_secs(ctx.settings.limits.heartbeat_seconds);
    let (conversations, mut deliveries) = Conversations::new(ctx.settings.limits.client_queue);
    let mut generation = ctx.bus.hub().generation();
    let mut c = Connection {
        ctx,
        socket,
        who,
        id: uuid::Uuid::new_v4().to_string(),
        conversations,
    };
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        you: HelloYou {
            kind: c.who.sender_kind(),
            id: c.who.id().clone(),
            name: c.who.name().map(str::to_owned),
        },
        session: c.user_session().cloned(),
        heartbeat_seconds: heartbeat.as_secs(),
    };
    c.socket.send(&ServerFrame::Hello(hello)).await;
    let mut presence = tokio::time::interval(heartbeat);
    while c.socket.is_open() {
        let event = tokio::select! {
            event = c.socket.recv() => event,
            Some(delivery) = deliveries.recv() => {
                c.deliver(delivery).await;
                continue;
            }
            Ok(()) = generation.changed() => {
                for session in c.conversations.sessions() {
                    c.sync(&session).await;
                }
                continue;
            }
            _ = presence.tick() => {
                c.refresh_presence(heartbeat * 3).await;
                continue;
            }
        };
        if let Some(frame) = c.socket.react(event).await {
            c.handle(frame).await;
        }
        if c.conversations.overflowed() {
            c.socket.slow_consumer().await;
        }
    }
    if let Some(session) = c.user_session()
        && let Err(e) = c.ctx.bus.user_disconnected(session, &c.id).await
    {
        tracing::warn!(error = %e, session = %session, "could not record disconnect");
    }
}

impl Connection {
    fn user_session(&self) -> Option<&SessionId> {
        match &self.who {
            Principal::User(u) => Some(&u.session),
            _ => None,
        }
    }

    fn sender(&self) -> Sender {
        Sender {
            kind: self.who.sender_kind(),
            id: self.who.id().clone(),
            name: self.who.name().map(str::to_owned),
        }
    }

    async fn refresh_presence(&mut self, ttl: Duration) {
        let Principal::User(user) = &self.who else {
            return;
        };
        let ttl_ms = ttl.as_millis() as u64;
        if let Err(e) = self
            .ctx
            .bus
            .user_connected(&user.session, &self.id, user.name.as_deref(), ttl_ms)
            .await
        {
            tracing::warn!(error = %e, session = %user.session, "could not record presence");
        }
    }

    /// The session a frame acts on: a user's own (naming another is refused), or the one
    /// an operator names.
    fn target(&self, named: Option<SessionId>) -> Result<SessionId, (ErrorCode, &'static str)> {
        match (&self.who, named) {
            (Principal::User(u), None) => Ok(u.session.clone()),
            (Principal::User(u), Some(s)) if s == u.session => Ok(s),
            (Principal::User(_), Some(_)) => Err((
                ErrorCode::Forbidden,
                "users may only act on their own session",
            )),
            (_, Some(s)) => Ok(s),
            (_, None) => Err((ErrorCode::Invalid, "session: required for operators")),
        }
    }

    async fn handle(&mut self, frame: ClientFrame) {
        metrics::counter!("livehelp_chat_frames", "type" => frame_label(&frame)).increment(1);
        match frame {
            ClientFrame::ChatActivate | ClientFrame::ChatDeactivate => {
                let active = matches!(frame, ClientFrame::ChatActivate);
                let Some(session) = self.user_session().cloned() else {
                    let f = refusal(
                        ErrorCode::Forbidden,
                        "only users turn their chat on or off",
                        None,
                    );
                    self.socket.send(&f).await;
                    return;
                };
                let reply = match self.ctx.bus.set_chat_active(&session, active).await {
                    Ok(()) => ServerFrame::ChatState { session, active },
                    Err(e) => ServerFrame::Error(ApiError::from(e).frame()),
                };
                self.socket.send(&reply).await;
            }
            ClientFrame::ChatOpen { session, after } => match self.target(session) {
                Ok(session) => self.open(session, after).await,
                Err((code, why)) => {
                    self.socket.send(&refusal(code, why, None)).await;
                }
            },
            ClientFrame::ChatClose { session } => self.conversations.close(&session),
            ClientFrame::ChatSend {
                cmid,
                text,
                session,
            } => {
                let session = match self.target(session) {
                    Ok(s) => s,
                    Err((code, why)) => {
                        self.socket
                            .send(&refusal(code, why, Some(cmid.as_str())))
                            .await;
                        return;
                    }
                };
                if !matches!(self.who, Principal::User(_)) && !self.conversations.is_open(&session)
                {
                    let why = "open the session's conversation before sending to it";
                    self.socket
                        .send(&refusal(ErrorCode::Forbidden, why, Some(cmid.as_str())))
                        .await;
                    return;
                }
                let at = now_rfc3339();
                let started = std::time::Instant::now();
                let stored = self
                    .ctx
                    .bus
                    .store_message(&session, &cmid, self.sender(), text, at)
                    .await;
                metrics::histogram!("livehelp_chat_store_duration")
                    .record(started.elapsed().as_secs_f64());
                let reply = match stored {
                    Ok(stored) => {
                        metrics::counter!("livehelp_chat_messages_stored", "duplicate" => if stored.duplicate { "true" } else { "false" }).increment(1);
                        ServerFrame::ChatAck {
                            cmid,
                            id: stored.id,
                            session,
                        }
                    }
                    Err(e) => {
                        let mut f = ApiError::from(e).frame();
                        f.reference = Some(cmid.as_str().to_owned());
                        ServerFrame::Error(f)
                    }
                };
                self.socket.send(&reply).await;
            }
        }
    }

    async fn open(&mut self, session: SessionId, after: Option<MessageId>) {
        if !self.conversations.is_open(&session) && self.conversations.len() >= MAX_OPEN {
            let f = refusal(
                ErrorCode::Invalid,
                format!("at most {MAX_OPEN} open conversations"),
                None,
            );
            self.socket.send(&f).await;
            return;
        }
        self.conversations
            .open(&self.ctx.bus, session.clone(), after)
            .await;
        self.sync(&session).await;
    }

    /// Sends whatever the stream holds that this connection has not been given.
    async fn sync(&mut self, session: &SessionId) {
        let generation = self.ctx.bus.hub().current_generation();
        match self.conversations.backlog(&self.ctx.bus, session).await {
            Ok(messages) => {
                self.conversations.synced(session, generation);
                for m in messages {
                    if self.conversations.admit(&m)
                        && !self.socket.send(&ServerFrame::ChatMessage(m)).await
                    {
                        return;
                    }
                }
            }
            Err(e) => {
                // The next reconnect of the hub, or the client's next open, retries.
                tracing::warn!(error = %e, session = %session, "could not read chat history");
                self.socket
                    .send(&ServerFrame::Error(ApiError::from(e).frame()))
                    .await;
            }
        }
    }

    async fn deliver(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Published(session, published) => {
                if self
                    .conversations
                    .needs_sync(&session, published.generation)
                {
                    self.sync(&session).await;
                    return;
                }
                match decode_published(&published.payload) {
                    Ok(m) => {
                        if self.conversations.admit(&m) {
                            self.socket.send(&ServerFrame::ChatMessage(m)).await;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, session = %session, "undecodable chat payload")
                    }
                }
            }
            Delivery::Lagged(session) => self.sync(&session).await,
        }
        if self.conversations.overflowed() {
            self.socket.slow_consumer().await;
        }
    }
}

fn frame_label(frame: &ClientFrame) -> &'static str {
    match frame {
        ClientFrame::ChatActivate => "chat.activate",
        ClientFrame::ChatDeactivate => "chat.deactivate",
        ClientFrame::ChatOpen { .. } => "chat.open",
        ClientFrame::ChatClose { .. } => "chat.close",
        ClientFrame::ChatSend { .. } => "chat.send",
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
