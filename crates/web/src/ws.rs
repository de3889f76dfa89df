//! WebSocket sessions: the handshake (token, subprotocol) and one socket type that applies
//! the limits every service shares — frame size, heartbeat, slow consumers, draining.

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
pub use actix_ws::CloseCode;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseReason, Session};
use livehelp_identity::Principal;
use livehelp_protocol::{
    ClientFrame, ErrorCode, ErrorFrame, SUBPROTOCOL, ServerFrame, decode_client_frame,
};

use crate::{Admitted, ApiError, Context, Shutdown};

/// How long one frame may take to reach the client's socket before the client counts as a
/// slow consumer.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Missed heartbeats before a silent client is closed.
const MISSED_HEARTBEATS: u32 = 3;

/// Verifies the handshake's token and upgrades. Refusals are plain HTTP errors (401/403)
/// with the JSON body, before any WebSocket exists.
pub fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
    ctx: &Context,
    allowed: impl Fn(&Principal) -> bool,
) -> Result<(HttpResponse, Socket, Principal), ApiError> {
    upgrade_with_limit(req, body, ctx, allowed, ctx.settings.limits.max_frame_bytes)
}

/// [`upgrade`] with a frame size limit of the service's own (the mirror socket carries
/// whole page snapshots).
pub fn upgrade_with_limit(
    req: &HttpRequest,
    body: web::Payload,
    ctx: &Context,
    allowed: impl Fn(&Principal) -> bool,
    max_frame_bytes: usize,
) -> Result<(HttpResponse, Socket, Principal), ApiError> {
    if !crate::origin_allowed(req, &ctx.settings.auth.allowed_origins) {
        metrics::counter!("livehelp_auth_failures", "reason" => "origin").increment(1);
        return Err(ApiError::forbidden(
            "this page's origin may not open livehelp sockets",
        ));
    }
    let principal = ctx.auth.principal(req)?;
    if !allowed(&principal) {
        metrics::counter!("livehelp_auth_failures", "reason" => "forbidden").increment(1);
        return Err(ApiError::forbidden(
            "this identity may not open this socket",
        ));
    }
    // After the identity is known (anonymous floods are refused with 401 and hold nothing),
    // before anything is spent on the socket.
    let admitted = ctx.admission.admit(&principal).map_err(|refused| {
        metrics::counter!(
            "livehelp_ws_connections_refused",
            "service" => ctx.service,
            "reason" => refused.reason()
        )
        .increment(1);
        refused.error()
    })?;
    let (response, session, stream) = actix_ws::handle_with_protocols(req, body, &[SUBPROTOCOL])
        .map_err(|e| ApiError::invalid(format!("not a WebSocket handshake: {e}")))?;
    let stream = stream
        .max_frame_size(max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(max_frame_bytes);
    let heartbeat = Duration::from_secs(ctx.settings.limits.heartbeat_seconds);
    let mut ping = tokio::time::interval(heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    metrics::gauge!("livehelp_ws_connections", "service" => ctx.service).increment(1.0);
    Ok((
        response,
        Socket {
            service: ctx.service,
            session: Some(session),
            stream,
            shutdown: ctx.shutdown.clone(),
            ping,
            heartbeat,
            last_seen: Instant::now(),
            _admitted: admitted,
        },
        principal,
    ))
}

/// What the client did, or what happened to the connection.
#[derive(Debug)]
pub enum Event {
    Text(bytestring::ByteString),
    Invalid(ErrorFrame),
    Ping(bytes::Bytes),
    Alive,
    Heartbeat,
    TooLarge,
    Draining,
    Ended,
}

/// One client's socket. Service loops `select!` on [`Socket::recv`] (cancel-safe) and their
/// bus subscriptions, then hand the event to [`Socket::react`].
pub struct Socket {
    service: &'static str,
    session: Option<Session>,
    stream: AggregatedMessageStream,
    shutdown: Shutdown,
    ping: tokio::time::Interval,
    heartbeat: Duration,
    last_seen: Instant,
    /// The socket's place under the connection caps, freed when the socket is dropped.
    _admitted: Admitted,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        metrics::gauge!("livehelp_ws_connections", "service" => self.service).decrement(1.0);
    }
}

fn rejected(reason: &'static str) {
    metrics::counter!("livehelp_ws_frames_rejected", "reason" => reason).increment(1);
}

impl Socket {
    /// Waits for the next event. Only awaits channels and timers, so dropping it in a
    /// `select!` loses nothing.
    pub async fn recv(&mut self) -> Event {
        tokio::select! {
            msg = self.stream.recv() => {
                self.last_seen = Instant::now();
                match msg {
                    Some(Ok(AggregatedMessage::Text(text))) => Event::Text(text),
                    Some(Ok(AggregatedMessage::Binary(_))) => Event::Invalid(ErrorFrame {
                        code: ErrorCode::BadFrame,
                        message: "binary frames are not accepted; send JSON text".into(),
                        reference: None,
                    }),
                    Some(Ok(AggregatedMessage::Ping(p))) => Event::Ping(p),
                    Some(Ok(AggregatedMessage::Pong(_))) => Event::Alive,
                    Some(Ok(AggregatedMessage::Close(_))) | None => Event::Ended,
                    Some(Err(actix_ws::ProtocolError::Overflow)) => Event::TooLarge,
                    Some(Err(_)) => Event::Ended,
                }
            }
            _ = self.ping.tick() => Event::Heartbeat,
            () = self.shutdown.wait() => Event::Draining,
        }
    }

    /// Handles what the socket layer owns and returns a decoded frame for the service, or
    /// `None` to keep going (a malformed frame is answered with an error here). After an
    /// ending event [`Socket::is_open`] is false.
    pub async fn react(&mut self, event: Event) -> Option<ClientFrame> {
        let text = self.react_raw(event).await?;
        match decode_client_frame(&text) {
            Ok(frame) => Some(frame),
            Err(error) => {
                self.reject(error).await;
                None
            }
        }
    }

    /// Answers a frame the service could not accept with an `error` frame, counted.
    pub async fn reject(&mut self, error: ErrorFrame) {
        rejected("bad_frame");
        self.send(&ServerFrame::Error(error)).await;
    }

    /// Like [`Socket::react`], but hands text frames over undecoded.
    pub async fn react_raw(&mut self, event: Event) -> Option<bytestring::ByteString> {
        match event {
            Event::Text(text) => return Some(text),
            Event::Invalid(error) => self.reject(error).await,
            Event::Ping(p) => {
                if let Some(s) = self.session.as_mut()
                    && s.pong(&p).await.is_err()
                {
                    self.session = None;
                }
            }
            Event::Alive => {}
            Event::Heartbeat => {
                if self.last_seen.elapsed() > self.heartbeat * MISSED_HEARTBEATS {
                    self.close(CloseCode::Away, "no heartbeat").await;
                } else if let Some(s) = self.session.as_mut()
                    && s.ping(b"").await.is_err()
                {
                    self.session = None;
                }
            }
            Event::TooLarge => {
                rejected("too_large");
                self.close(CloseCode::Size, "frame too large").await;
            }
            Event::Draining => self.close(CloseCode::Away, "server shutting down").await,
            Event::Ended => self.session = None,
        }
        None
    }

    pub fn is_open(&self) -> bool {
        self.session.is_some()
    }

    /// Sends a frame. A client that does not take it within a few seconds is a slow
    /// consumer and is closed (1008); returns whether the socket is still open.
    pub async fn send(&mut self, frame: &ServerFrame) -> bool {
        self.send_text(frame.to_json()).await
    }

    /// Sends a ready-made text frame, with the same slow-consumer rule.
    pub async fn send_text(&mut self, text: impl Into<bytestring::ByteString>) -> bool {
        let Some(session) = self.session.as_mut() else {
            return false;
        };
        match tokio::time::timeout(SEND_TIMEOUT, session.text(text)).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => {
                self.session = None;
                false
            }
            Err(_) => {
                self.slow_consumer().await;
                false
            }
        }
    }

    /// Closes a client that fell too far behind.
    pub async fn slow_consumer(&mut self) {
        metrics::counter!("livehelp_ws_slow_consumers", "service" => self.service).increment(1);
        self.close(CloseCode::Policy, "slow consumer").await;
    }

    /// Closes with a code and reason; later sends are no-ops.
    pub async fn close(&mut self, code: CloseCode, reason: &str) {
        if let Some(session) = self.session.take() {
            let reason = CloseReason {
                code,
                description: Some(reason.to_owned()),
            };
            let _ = tokio::time::timeout(SEND_TIMEOUT, session.close(Some(reason))).await;
        }
    }
}
