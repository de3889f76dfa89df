//! A user's mirror connection: streams their page's events to whoever observes, receives
//! snapshot requests, control changes and (while controlled) the operator's input.

use std::sync::Arc;
use std::time::Duration;

use livehelp_bus::Inbox;
use livehelp_identity::User;
use livehelp_protocol::{
    Availability, ConsentKind, ErrorCode, ErrorFrame, MirrorFrame, MirrorNotice, Partner, UserId,
    decode_mirror_frame, events_for_observers,
};
use livehelp_web::ws::Socket;
use livehelp_web::{Context, RateLimit};

/// How long a user's yes to observe or control holds.
const CONSENT_MS: u64 = 3600 * 1000;

/// How often the connection re-reads what may change without a message: the session's
/// availability and an expired control lock.
const REFRESH: Duration = Duration::from_secs(2);

fn refusal(code: ErrorCode, message: &str) -> ErrorFrame {
    ErrorFrame {
        code,
        message: message.to_owned(),
        reference: None,
    }
}

struct Stream {
    ctx: Arc<Context>,
    socket: Socket,
    user: User,
    /// The host lets operators see this session (available or observe-only).
    visible: bool,
    controller: Option<UserId>,
}

pub async fn run(ctx: Arc<Context>, socket: Socket, user: User) {
    let (mut inbox, arrivals) = Inbox::new(ctx.settings.limits.client_queue);
    inbox
        .follow(ctx.bus.hub(), ctx.bus.mirror_user_channel(&user.session))
        .await;
    let mirror = &ctx.settings.mirror;
    let mut limit = RateLimit::new(mirror.batches_per_second, mirror.batches_per_second * 2);
    let mut s = Stream {
        ctx,
        socket,
        user,
        visible: false,
        controller: None,
    };
    s.refresh(true).await;
    let mut refresh = tokio::time::interval(REFRESH);
    while s.socket.is_open() {
        let event = tokio::select! {
            event = s.socket.recv() => event,
            arrival = arrivals.recv() => {
                let payload = &arrival.published.payload;
                s.socket.send_text(String::from_utf8_lossy(payload).into_owned()).await;
                if inbox.overflowed() {
                    s.socket.slow_consumer().await;
                }
                continue;
            }
            _ = refresh.tick() => {
                s.refresh(false).await;
                continue;
            }
        };
        let Some(text) = s.socket.react_raw(event).await else {
            continue;
        };
        let result = match decode_mirror_frame(&text) {
            Ok(MirrorFrame::Events(events)) => {
                if limit.allow() {
                    s.relay(events).await
                } else {
                    metrics::counter!("livehelp_ws_frames_rejected", "reason" => "rate_limited")
                        .increment(1);
                    Err(refusal(
                        ErrorCode::RateLimited,
                        "too many event batches; slow down",
                    ))
                }
            }
            Ok(MirrorFrame::StopObserving) => s.stop_observers().await,
            Ok(MirrorFrame::Consent {
                kind,
                operator,
                granted,
            }) => s.answer(kind, operator, granted).await,
            Ok(_) => Err(refusal(
                ErrorCode::Forbidden,
                "only operators observe and control",
            )),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            s.socket.reject(e).await;
        }
    }
}

impl Stream {
    /// Re-reads availability and the control lock; tells the user what changed.
    async fn refresh(&mut self, first: bool) {
        let bus = &self.ctx.bus;
        let session = &self.user.session;
        if let Ok(record) = bus.session_record(session).await {
            self.visible = record.status.availability != Availability::Unavailable;
        }
        if first && let Ok(count) = bus.watching_count(session).await {
            self.socket
                .send_text(MirrorNotice::Watchers { count }.to_json())
                .await;
            if count > 0 {
                self.socket
                    .send_text(MirrorNotice::SnapshotRequest.to_json())
                    .await;
            }
        }
        let Ok(controller) = bus.controller(session).await else {
            return;
        };
        if first || controller != self.controller {
            self.controller = controller.clone();
            let controller = match controller {
                Some(id) => Some(Partner {
                    name: bus.operator_name(&id).await.ok().flatten(),
                    id,
                }),
                None => None,
            };
            let notice = MirrorNotice::Control {
                session: session.clone(),
                controller,
            };
            self.socket.send_text(notice.to_json()).await;
        }
    }

    async fn relay(&mut self, events: &serde_json::value::RawValue) -> Result<(), ErrorFrame> {
        if !self.visible {
            return Err(refusal(
                ErrorCode::Forbidden,
                "this session is not visible to operators",
            ));
        }
        metrics::counter!("livehelp_mirror_batches").increment(1);
        let frame = events_for_observers(&self.user.session, events);
        self.ctx
            .bus
            .to_mirror_watchers(&self.user.session, frame)
            .await
            .map_err(|e| livehelp_web::ApiError::from(e).frame())
    }

    /// The user's answer to an operator's request; a yes holds for an hour (or until Stop).
    async fn answer(
        &mut self,
        kind: ConsentKind,
        operator: UserId,
        granted: bool,
    ) -> Result<(), ErrorFrame> {
        let bus = &self.ctx.bus;
        let session = &self.user.session;
        let fail = |e| livehelp_web::ApiError::from(e).frame();
        if granted {
            bus.grant_consent(session, kind.as_str(), &operator, CONSENT_MS)
                .await
                .map_err(fail)?;
        }
        let answer = MirrorNotice::Answer {
            session: session.clone(),
            kind,
            operator,
            granted,
        };
        bus.to_mirror_watchers(session, answer.to_json())
            .await
            .map_err(fail)
    }

    /// The user's Stop button: every observer's view ends and control returns.
    async fn stop_observers(&mut self) -> Result<(), ErrorFrame> {
        let bus = &self.ctx.bus;
        let session = self.user.session.clone();
        let fail = |e| livehelp_web::ApiError::from(e).frame();
        if let Some(holder) = bus.controller(&session).await.map_err(fail)? {
            bus.release_control(&session, &holder).await.map_err(fail)?;
            let notice = MirrorNotice::Control {
                session: session.clone(),
                controller: None,
            }
            .to_json();
            bus.to_mirror_watchers(&session, notice.clone())
                .await
                .map_err(fail)?;
            self.controller = None;
            self.socket.send_text(notice).await;
        }
        bus.clear_watchers(&session).await.map_err(fail)?;
        let ended = MirrorNotice::Ended {
            session: session.clone(),
            reason: "stopped by the user".into(),
        };
        bus.to_mirror_watchers(&session, ended.to_json())
            .await
            .map_err(fail)?;
        tracing::info!(audit = "observe_stopped_by_user", session = %session, "the user stopped observers");
        self.socket
            .send_text(MirrorNotice::Watchers { count: 0 }.to_json())
            .await;
        Ok(())
    }
}
