//! One chat WebSocket: a user of one session or an operator, in one loop over client
//! frames, what its channels publish, Redis reconnects and presence refreshes.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_bus::{Arrival, ChatEvent};
use livehelp_identity::{Principal, User};
use livehelp_protocol::{
    Availability, ChatState, ClientFrame, ClientMessageId, ConversationId, ErrorCode, ErrorFrame,
    Hello, HelloYou, MessageId, Mode, PROTOCOL_VERSION, Profile, Sender, ServerFrame, UserId,
};
use livehelp_web::ws::CloseCode;
use livehelp_web::ws::{self, Socket};
use livehelp_web::{ApiError, Context, RateLimit};
use tokio::time::{Instant, Sleep};

use crate::conversation::{Follows, MAX_OPEN};
use crate::delivery::Delivery;
use crate::sends::{Outcome, QueuedSend, Sends};
use crate::state::{chat_state, has_help, has_peers};

/// Refused frames in a row after which a flooding client is closed.
const MAX_STRIKES: u32 = 100;
/// A user's chat state is recomputed (from Redis) at most this often when told it changed:
/// at once after a quiet spell, then once per interval however many changes arrive; in a
/// peer session, once more per hundred other members (so a session's members together read
/// it at most about 500 times a second, however large it is). A thousand members joining a
/// peer session would otherwise have each member read Redis, and the thousand members'
/// presence, a thousand times.
const STATE_EVERY: Duration = Duration::from_millis(200);
const STATE_EVERY_MEMBERS: usize = 100;
/// Sends a connection may have queued for storage before it reads no more frames until
/// one is stored: a client may send its next message before the last is acknowledged.
const MAX_QUEUED_SENDS: usize = 64;

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

/// Why a frame was refused.
type Refusal = (ErrorCode, String);

fn refuse<T>(code: ErrorCode, why: impl Into<String>) -> Result<T, Refusal> {
    Err((code, why.into()))
}

fn unavailable(e: livehelp_bus::BusError) -> Refusal {
    let e = ApiError::from(e);
    (e.code, e.message)
}

struct Connection {
    ctx: Arc<Context>,
    socket: Socket,
    who: Principal,
    /// This connection among the user's, in the session's presence.
    id: uuid::Uuid,
    follows: Follows,
    limit: RateLimit,
    strikes: u32,
    /// The last chat state sent to a user.
    state: Option<ChatState>,
    /// When the chat state was last read.
    state_read: Instant,
    /// The chat state changed since it was last read.
    state_stale: bool,
    sends: Sends,
}

async fn run(ctx: Arc<Context>, socket: Socket, who: Principal) {
    let heartbeat = Duration::from_secs(ctx.settings.limits.heartbeat_seconds);
    let renew = Duration::from_secs(ctx.settings.limits.presence_seconds);
    let (follows, deliveries) = Follows::new(ctx.settings.limits.client_queue);
    let mut generation = ctx.bus.hub().generation();
    let chat = &ctx.settings.chat;
    let limit = RateLimit::new(chat.frames_per_second, chat.frames_burst);
    let mut c = Connection {
        ctx,
        socket,
        who,
        id: uuid::Uuid::new_v4(),
        follows,
        limit,
        strikes: 0,
        state: None,
        state_read: Instant::now(),
        state_stale: false,
        sends: Sends::default(),
    };
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        you: HelloYou {
            kind: c.who.sender_kind(),
            id: c.who.id().clone(),
            name: c.who.name().map(str::to_owned),
        },
        session: c.user().map(|u| u.session.clone()),
        heartbeat_seconds: heartbeat.as_secs(),
    };
    Box::pin(c.socket.send(&ServerFrame::Hello(hello))).await;
    if let Some(user) = c.user().cloned() {
        let channels = [
            c.ctx.bus.chat_channel(&user.session),
            c.ctx.bus.operators_channel(),
        ];
        for channel in channels {
            Box::pin(c.follows.follow(&c.ctx.bus, channel)).await;
        }
        Box::pin(c.refresh_presence(renew * 3)).await;
        Box::pin(c.refresh_state()).await;
    }
    let mut presence = tokio::time::interval(renew);
    presence.tick().await;
    let mut state_due: Option<Pin<Box<Sleep>>> = None;
    // The heavy steps are boxed: an idle connection's task is only as large as what it
    // waits on, not as its largest step (docs/benchmarks.md, idle connections).
    while c.socket.is_open() {
        if c.state_stale && state_due.is_none() {
            let due = c.state_read + c.state_every();
            if due <= Instant::now() {
                Box::pin(c.refresh_state()).await;
            } else {
                state_due = Some(Box::pin(tokio::time::sleep_until(due)));
            }
        }
        let event = tokio::select! {
            event = c.socket.recv(), if c.sends.len() < MAX_QUEUED_SENDS => event,
            outcome = c.sends.next_stored() => {
                Box::pin(c.acknowledge(outcome)).await;
                continue;
            }
            arrival = deliveries.recv() => {
                Box::pin(c.deliver(&arrival)).await;
                c.catch_up().await;
                continue;
            }
            () = fire(&mut state_due) => {
                state_due = None;
                if c.state_stale {
                    Box::pin(c.refresh_state()).await;
                }
                continue;
            }
            Ok(()) = generation.changed() => {
                Box::pin(c.resync()).await;
                continue;
            }
            _ = presence.tick() => {
                Box::pin(c.refresh_presence(renew * 3)).await;
                continue;
            }
        };
        if let Some(frame) = Box::pin(c.socket.react(event)).await {
            Box::pin(c.handle(frame)).await;
        }
        c.catch_up().await;
    }
    if let Some(user) = c.user()
        && let Err(e) = Box::pin(c.ctx.bus.user_disconnected(
            &user.session,
            &user.id,
            &c.id.to_string(),
        ))
        .await
    {
        tracing::warn!(error = %e, session = %user.session, "could not record disconnect");
    }
}

impl Connection {
    fn user(&self) -> Option<&User> {
        match &self.who {
            Principal::User(u) => Some(u),
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

    fn profile(&self) -> Option<Profile> {
        self.user().map(|u| Profile {
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
        })
    }

    async fn refresh_presence(&mut self, ttl: Duration) {
        let Some(user) = self.user().cloned() else {
            return;
        };
        let ttl_ms = ttl.as_millis() as u64;
        let result = self
            .ctx
            .bus
            .user_connected(
                &user.session,
                &user.id,
                &self.id.to_string(),
                user.name.as_deref(),
                ttl_ms,
            )
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, session = %user.session, "could not record presence");
        }
    }

    /// How long after a read of the chat state the next may follow.
    fn state_every(&self) -> Duration {
        let members = self.state.as_ref().map_or(0, |s| s.peer);
        STATE_EVERY * (1 + members / STATE_EVERY_MEMBERS) as u32
    }

    /// Recomputes a user's chat state and sends it when it changed.
    async fn refresh_state(&mut self) {
        let Some(user) = self.user().cloned() else {
            return;
        };
        self.state_read = Instant::now();
        self.state_stale = false;
        match chat_state(&self.ctx.bus, &user).await {
            Ok(state) if self.state.as_ref() != Some(&state) => {
                self.state = Some(state.clone());
                self.socket.send(&ServerFrame::ChatState(state)).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, session = %user.session, "could not compute chat state")
            }
        }
    }

    async fn current_state(&mut self) -> Result<&ChatState, Refusal> {
        if self.state.is_none() {
            self.refresh_state().await;
        }
        self.state.as_ref().ok_or_else(|| {
            (
                ErrorCode::Unavailable,
                "storage is unavailable, retry shortly".to_owned(),
            )
        })
    }

    async fn send_error(&mut self, (code, message): Refusal, reference: Option<String>) {
        if code == ErrorCode::RateLimited {
            self.strikes += 1;
        }
        let frame = ServerFrame::Error(ErrorFrame {
            code,
            message,
            reference,
        });
        self.socket.send(&frame).await;
        if self.strikes >= MAX_STRIKES {
            metrics::counter!("livehelp_ws_floods_closed").increment(1);
            self.socket.close(CloseCode::Policy, "message flood").await;
        }
    }

    fn take_token(&mut self) -> Result<(), Refusal> {
        if self.limit.allow() {
            self.strikes = 0;
            Ok(())
        } else {
            metrics::counter!("livehelp_ws_frames_rejected", "reason" => "rate_limited")
                .increment(1);
            refuse(ErrorCode::RateLimited, "too many chat frames; slow down")
        }
    }

    /// The conversation a frame acts on. Users: their own, by the session's mode (naming
    /// another is refused). Operators: the one they name, if the session lets operators in.
    async fn target(&mut self, named: Option<ConversationId>) -> Result<ConversationId, Refusal> {
        if self.user().is_some() {
            let state = self.current_state().await?;
            let peers = has_peers(state.mode);
            let Some(named) = named else {
                return Ok(state.conversation.clone());
            };
            let own = self.user().is_some_and(|u| {
                named.session == u.session
                    && match &named.user {
                        Some(id) => *id == u.id,
                        None => peers,
                    }
            });
            return if own {
                Ok(named)
            } else {
                refuse(
                    ErrorCode::Forbidden,
                    "users may only use their own conversation",
                )
            };
        }
        let Some(conversation) = named else {
            return refuse(ErrorCode::Invalid, "conversation: required for operators");
        };
        let record = self
            .ctx
            .bus
            .session_record(&conversation.session)
            .await
            .map_err(unavailable)?;
        if record.status.availability == Availability::Unavailable {
            return refuse(ErrorCode::Forbidden, "live help is off for this session");
        }
        if record.blocked {
            return refuse(ErrorCode::Forbidden, "the session is blocked");
        }
        if conversation.is_group() && record.status.mode != Mode::PeerHelp {
            return refuse(
                ErrorCode::Forbidden,
                "operators take part in group chats only in peerhelp mode",
            );
        }
        Ok(conversation)
    }

    async fn handle(&mut self, frame: ClientFrame) {
        metrics::counter!("livehelp_chat_frames", "type" => frame.kind()).increment(1);
        let reference = match &frame {
            ClientFrame::ChatSend { cmid, .. } => Some(cmid.as_str().to_owned()),
            _ => None,
        };
        if let Err(refusal) = self.apply(frame).await {
            self.send_error(refusal, reference).await;
        }
    }

    async fn apply(&mut self, frame: ClientFrame) -> Result<(), Refusal> {
        match frame {
            ClientFrame::ChatActivate => self.activate().await,
            ClientFrame::ChatDeactivate => {
                let Some(user) = self.user().cloned() else {
                    return refuse(ErrorCode::Forbidden, "only users turn their chat off");
                };
                self.ctx
                    .bus
                    .deactivate(&user.session, &user.id)
                    .await
                    .map_err(unavailable)?;
                self.refresh_state().await;
                Ok(())
            }
            ClientFrame::ChatOpen {
                conversation,
                after,
            } => {
                let conversation = self.target(conversation).await?;
                self.open(conversation, after).await
            }
            ClientFrame::ChatClose { conversation } => {
                let keep = self
                    .user()
                    .is_some_and(|u| u.session == conversation.session);
                self.follows.close(&self.ctx.bus, &conversation, keep);
                Ok(())
            }
            ClientFrame::ChatSend {
                cmid,
                text,
                conversation,
            } => {
                self.take_token()?;
                let conversation = self.target(conversation).await?;
                if self.user().is_some() {
                    let state = self.current_state().await?;
                    if !state.active || state.conversation != conversation {
                        return refuse(ErrorCode::Forbidden, "activate chat first");
                    }
                } else if !self.follows.is_open(&conversation) {
                    return refuse(
                        ErrorCode::Forbidden,
                        "open the conversation before sending to it",
                    );
                }
                let stored = self
                    .ctx
                    .bus
                    .queue_message(
                        &conversation,
                        &cmid,
                        self.sender(),
                        self.profile(),
                        text,
                        now_rfc3339(),
                    )
                    .map_err(unavailable)?;
                self.sends.push(QueuedSend {
                    cmid,
                    conversation,
                    queued: std::time::Instant::now(),
                    stored,
                });
                Ok(())
            }
            ClientFrame::ChatTyping {
                conversation,
                typing,
            } => {
                self.take_token()?;
                let conversation = self.target(conversation).await?;
                let event = ChatEvent::Typing {
                    conversation,
                    from: self.sender(),
                    typing,
                };
                self.ctx
                    .bus
                    .publish_chat_event(&event)
                    .await
                    .map_err(unavailable)
            }
            ClientFrame::ChatRead {
                conversation,
                up_to,
            } => {
                self.take_token()?;
                let conversation = self.target(conversation).await?;
                self.ctx
                    .bus
                    .mark_read(&conversation, self.who.id(), up_to)
                    .await
                    .map_err(unavailable)?;
                let event = ChatEvent::Read {
                    conversation,
                    by: self.sender(),
                    up_to,
                };
                self.ctx
                    .bus
                    .publish_chat_event(&event)
                    .await
                    .map_err(unavailable)
            }
            ClientFrame::OperatorStatus { .. }
            | ClientFrame::OperatorPhone { .. }
            | ClientFrame::SessionDismiss { .. }
            | ClientFrame::SessionBlock { .. }
            | ClientFrame::SessionUnblock { .. } => {
                refuse(ErrorCode::BadFrame, "monitor frames go to /monitor/ws")
            }
        }
    }

    /// A sender gets its `chat.ack` before its own copy of the message: when the copy
    /// comes first (it is published before the store's answer reaches the socket), the
    /// queued sends up to this one are acknowledged first. Their answers are already on
    /// their way: the message is stored.
    async fn acknowledge_before_own_copy(
        &mut self,
        from: &UserId,
        cmid: &ClientMessageId,
        conversation: &ConversationId,
    ) {
        if from != self.who.id() || !self.sends.holds(cmid, conversation) {
            return;
        }
        while self.sends.len() > 0 {
            let outcome = self.sends.next_stored().await;
            let this_one = outcome.0.cmid == *cmid && outcome.0.conversation == *conversation;
            Box::pin(self.acknowledge(outcome)).await;
            if this_one {
                return;
            }
        }
    }

    /// Acknowledges a queued send once stored, or refuses it.
    async fn acknowledge(&mut self, outcome: Outcome) {
        let (send, result) = *outcome;
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                let reference = Some(send.cmid.as_str().to_owned());
                return self.send_error(unavailable(e), reference).await;
            }
        };
        metrics::histogram!("livehelp_chat_store_duration")
            .record(send.queued.elapsed().as_secs_f64());
        let duplicate = if stored.duplicate { "true" } else { "false" };
        metrics::counter!("livehelp_chat_messages_stored", "duplicate" => duplicate).increment(1);
        self.socket
            .send(&ServerFrame::ChatAck {
                cmid: send.cmid,
                id: stored.id,
                conversation: send.conversation,
            })
            .await;
    }

    async fn activate(&mut self) -> Result<(), Refusal> {
        let Some(user) = self.user().cloned() else {
            return refuse(ErrorCode::Forbidden, "only users turn their chat on");
        };
        self.state = None;
        let state = self.current_state().await?.clone();
        if !state.enabled {
            return refuse(
                ErrorCode::Forbidden,
                "live help is not available in this session",
            );
        }
        if state.mode == Mode::Help {
            if state.blocked {
                return refuse(
                    ErrorCode::Forbidden,
                    "chat with an operator is blocked for this session",
                );
            }
            if state.help == 0 && !state.active {
                return refuse(ErrorCode::Forbidden, "no operator is available right now");
            }
        }
        let roles = self
            .ctx
            .bus
            .session_record(&user.session)
            .await
            .map_err(unavailable)?
            .status
            .partner_roles;
        let cap = if has_help(state.mode) {
            self.ctx.settings.chat.max_chats_per_operator
        } else {
            0
        };
        self.ctx
            .bus
            .activate(
                &state.conversation,
                &user.id,
                user.name.as_deref(),
                &roles,
                cap,
            )
            .await
            .map_err(unavailable)?;
        self.refresh_state().await;
        Ok(())
    }

    async fn open(
        &mut self,
        conversation: ConversationId,
        after: Option<MessageId>,
    ) -> Result<(), Refusal> {
        if !self.follows.is_open(&conversation) && self.follows.open_count() >= MAX_OPEN {
            return refuse(
                ErrorCode::Invalid,
                format!("at most {MAX_OPEN} open conversations"),
            );
        }
        self.follows
            .open(&self.ctx.bus, conversation.clone(), after)
            .await;
        self.sync(&conversation).await;
        Ok(())
    }

    /// Sends whatever the stream holds that this connection has not been given.
    async fn sync(&mut self, conversation: &ConversationId) {
        let generation = self.ctx.bus.hub().current_generation();
        match self.follows.backlog(&self.ctx.bus, conversation).await {
            Ok(messages) => {
                self.follows.synced(conversation, generation);
                for m in messages {
                    self.acknowledge_before_own_copy(&m.from.id, &m.cmid, &m.conversation)
                        .await;
                    if self.follows.admit(&m.conversation, m.id)
                        && !self.socket.send(&ServerFrame::ChatMessage(m)).await
                    {
                        return;
                    }
                }
            }
            Err(e) => {
                // The hub's next reconnect, or the client's next open, retries.
                tracing::warn!(error = %e, conversation = %conversation, "could not read chat history");
                self.socket
                    .send(&ServerFrame::Error(ApiError::from(e).frame()))
                    .await;
            }
        }
    }

    /// When payloads were dropped because the connection's queue was full (a burst, or a
    /// client that reads slowly): re-reads what it follows rather than closing it. A client
    /// that does not read at all is closed by the send timeout (`1008 slow consumer`).
    async fn catch_up(&mut self) {
        if self.follows.take_overflow() {
            metrics::counter!("livehelp_chat_resyncs").increment(1);
            Box::pin(self.resync()).await;
        }
    }

    /// After a Redis reconnect or lost payloads: re-read everything followed (the chat
    /// state at the loop's next turn, within [`STATE_EVERY`]).
    async fn resync(&mut self) {
        for conversation in self.follows.all_open() {
            self.sync(&conversation).await;
        }
        self.state_stale = self.user().is_some();
    }

    /// Hands a payload of a followed channel to the client. Changes to the chat state are
    /// only noted here; the loop reads the state at most every [`STATE_EVERY`].
    async fn deliver(&mut self, arrival: &Arrival) {
        if self.ctx.bus.is_operators_channel(&arrival.channel) {
            self.state_stale = self.user().is_some();
            return;
        }
        match Delivery::of(arrival) {
            Delivery::Corrupt(e) => {
                tracing::error!(error = %e, channel = &*arrival.channel, "undecodable chat payload");
            }
            Delivery::Message { message, frame } => {
                self.acknowledge_before_own_copy(
                    &message.from,
                    &message.cmid,
                    &message.conversation,
                )
                .await;
                if self
                    .follows
                    .needs_sync(&message.conversation, arrival.published.generation)
                {
                    self.sync(&message.conversation).await;
                } else if self.follows.admit(&message.conversation, message.id) {
                    self.socket.send_text(frame.clone()).await;
                }
            }
            Delivery::Event(ChatEvent::Typing {
                conversation,
                from,
                typing,
            }) => {
                if self.follows.is_open(conversation) && from.id != *self.who.id() {
                    self.socket
                        .send(&ServerFrame::ChatTyping {
                            conversation: conversation.clone(),
                            from: from.clone(),
                            typing: *typing,
                        })
                        .await;
                }
            }
            Delivery::Event(ChatEvent::Read {
                conversation,
                by,
                up_to,
            }) => {
                if self.follows.is_open(conversation) && by.id != *self.who.id() {
                    self.socket
                        .send(&ServerFrame::ChatRead {
                            conversation: conversation.clone(),
                            by: by.clone(),
                            up_to: *up_to,
                        })
                        .await;
                }
            }
            Delivery::Event(ChatEvent::Changed { .. }) => {
                self.state_stale = self.user().is_some();
            }
            Delivery::Event(ChatEvent::Blocked { session }) => {
                if self.user().is_some() {
                    self.state_stale = true;
                    return;
                }
                for conversation in self.follows.open_in(session) {
                    self.follows.close(&self.ctx.bus, &conversation, false);
                    let reason = "blocked".to_owned();
                    self.socket
                        .send(&ServerFrame::ChatClosed {
                            conversation,
                            reason,
                        })
                        .await;
                }
            }
        }
    }
}

/// Waits for the state refresh, if one is due.
async fn fire(due: &mut Option<Pin<Box<Sleep>>>) {
    match due {
        Some(sleep) => sleep.await,
        None => std::future::pending().await,
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
