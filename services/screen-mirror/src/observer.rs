//! An operator's mirror connection: observes sessions (the user's page events arrive here),
//! takes and gives back control, and sends edits and clicks while holding it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use livehelp_bus::Inbox;
use livehelp_identity::Operator;
use livehelp_protocol::{
    Availability, ConsentKind, ErrorCode, ErrorFrame, MirrorFrame, MirrorNotice, Partner,
    SessionId, decode_mirror_frame, events_session, input_for_user,
};
use livehelp_web::ws::Socket;
use livehelp_web::{ApiError, Context, RateLimit};

fn refusal(code: ErrorCode, message: &str) -> ErrorFrame {
    ErrorFrame {
        code,
        message: message.to_owned(),
        reference: None,
    }
}

fn unavailable(e: livehelp_bus::BusError) -> ErrorFrame {
    ApiError::from(e).frame()
}

struct Observer {
    ctx: Arc<Context>,
    socket: Socket,
    operator: Operator,
    /// This connection's id among a session's observers.
    id: String,
    inbox: Inbox,
    watching: HashSet<SessionId>,
    controlling: HashSet<SessionId>,
    /// Requests waiting for the user's consent.
    pending: HashSet<(SessionId, ConsentKind)>,
}

/// What an arriving notice asks this connection to do next.
enum Followup {
    Observe(SessionId),
    Control(SessionId),
    Unfollow(SessionId),
}

pub async fn run(ctx: Arc<Context>, socket: Socket, operator: Operator) {
    let (inbox, arrivals) = Inbox::new(ctx.settings.limits.client_queue);
    let renew_every = Duration::from_secs(
        ctx.settings
            .limits
            .presence_seconds
            .min(ctx.settings.mirror.control_lock_seconds / 2)
            .max(1),
    );
    let mut limit = RateLimit::new(
        ctx.settings.chat.frames_per_second,
        ctx.settings.chat.frames_burst,
    );
    let mut o = Observer {
        ctx,
        socket,
        operator,
        id: uuid::Uuid::new_v4().to_string(),
        inbox,
        watching: HashSet::new(),
        controlling: HashSet::new(),
        pending: HashSet::new(),
    };
    let mut renew = tokio::time::interval(renew_every);
    while o.socket.is_open() {
        let event = tokio::select! {
            event = o.socket.recv() => event,
            arrival = arrivals.recv() => {
                let text = String::from_utf8_lossy(&arrival.published.payload).into_owned();
                o.arrived(text).await;
                if o.inbox.overflowed() {
                    o.socket.slow_consumer().await;
                }
                continue;
            }
            _ = renew.tick() => {
                o.renew().await;
                continue;
            }
        };
        let Some(text) = o.socket.react_raw(event).await else {
            continue;
        };
        let result = match decode_mirror_frame(&text) {
            Ok(MirrorFrame::Observe { session, on: true }) => o.observe(session).await,
            Ok(MirrorFrame::Observe { session, on: false }) => o.unobserve(&session).await,
            Ok(MirrorFrame::Control { session, on: true }) => o.take_control(session).await,
            Ok(MirrorFrame::Control { session, on: false }) => o.give_back(&session).await,
            Ok(MirrorFrame::Input { session, action }) => {
                if limit.allow() {
                    o.input(&session, action).await
                } else {
                    metrics::counter!("livehelp_ws_frames_rejected", "reason" => "rate_limited")
                        .increment(1);
                    Err(refusal(
                        ErrorCode::RateLimited,
                        "too many inputs; slow down",
                    ))
                }
            }
            Ok(
                MirrorFrame::Events(_) | MirrorFrame::StopObserving | MirrorFrame::Consent { .. },
            ) => Err(refusal(
                ErrorCode::Forbidden,
                "only users stream their screen",
            )),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            o.socket.reject(e).await;
        }
    }
    for session in o.watching.clone() {
        let _ = o.unobserve(&session).await;
    }
}

impl Observer {
    /// Follows what other connections decided: a view ended by the user, control taken
    /// away. Only these small notices are parsed; page events pass through untouched.
    /// Forwards what arrived on a watch channel, after following what other connections
    /// decided. Only small notices are parsed; page events pass through untouched, and only
    /// for sessions this connection actually observes (a consent request follows the
    /// channel before the view starts).
    async fn arrived(&mut self, text: String) {
        if let Some(session) = events_session(&text) {
            if self.watching.iter().any(|s| s.as_str() == session) {
                self.socket.send_text(text).await;
            }
            return;
        }
        let followup = self.note(&text);
        self.socket.send_text(text).await;
        let result = match followup {
            Some(Followup::Observe(session)) => self.observe(session).await,
            Some(Followup::Control(session)) => self.take_control(session).await,
            Some(Followup::Unfollow(session)) => {
                if !self.watching.contains(&session) {
                    self.inbox
                        .unfollow(&self.ctx.bus.mirror_watch_channel(&session));
                }
                Ok(())
            }
            None => Ok(()),
        };
        if let Err(e) = result {
            self.socket.reject(e).await;
        }
    }

    fn note(&mut self, text: &str) -> Option<Followup> {
        match serde_json::from_str::<MirrorNotice>(text).ok()? {
            MirrorNotice::Ended { session, .. } => {
                self.watching.remove(&session);
                self.controlling.remove(&session);
                self.inbox
                    .unfollow(&self.ctx.bus.mirror_watch_channel(&session));
                None
            }
            MirrorNotice::Control {
                session,
                controller,
            } if controller.as_ref().is_none_or(|c| c.id != self.operator.id) => {
                self.controlling.remove(&session);
                None
            }
            MirrorNotice::Answer {
                session,
                kind,
                operator,
                granted,
            } if operator == self.operator.id => {
                if !self.pending.remove(&(session.clone(), kind)) {
                    return None;
                }
                match (granted, kind) {
                    (true, ConsentKind::Observe) => Some(Followup::Observe(session)),
                    (true, ConsentKind::Control) => Some(Followup::Control(session)),
                    (false, _) => Some(Followup::Unfollow(session)),
                }
            }
            _ => None,
        }
    }

    /// Whether the host requires the user's consent for this and it was not given yet; if
    /// so, asks the user and tells the operator to wait.
    async fn needs_consent(
        &mut self,
        session: &SessionId,
        kind: ConsentKind,
        required: bool,
    ) -> Result<bool, ErrorFrame> {
        let bus = &self.ctx.bus;
        if !required
            || bus
                .has_consent(session, kind.as_str(), &self.operator.id)
                .await
                .map_err(unavailable)?
        {
            return Ok(false);
        }
        self.inbox
            .follow(bus.hub(), bus.mirror_watch_channel(session))
            .await;
        self.pending.insert((session.clone(), kind));
        let ask = MirrorNotice::Ask {
            session: session.clone(),
            kind,
            operator: self.me(),
        };
        bus.to_mirror_user(session, ask.to_json())
            .await
            .map_err(unavailable)?;
        self.socket
            .send_text(
                MirrorNotice::Pending {
                    session: session.clone(),
                    kind,
                }
                .to_json(),
            )
            .await;
        Ok(true)
    }

    fn me(&self) -> Partner {
        Partner {
            id: self.operator.id.clone(),
            name: self.operator.name.clone(),
        }
    }

    async fn observe(&mut self, session: SessionId) -> Result<(), ErrorFrame> {
        let bus = &self.ctx.bus;
        let record = bus.session_record(&session).await.map_err(unavailable)?;
        if record.status.availability == Availability::Unavailable {
            return Err(refusal(
                ErrorCode::Forbidden,
                "this session cannot be observed",
            ));
        }
        if self
            .needs_consent(
                &session,
                ConsentKind::Observe,
                record.status.observe_consent,
            )
            .await?
        {
            return Ok(());
        }
        let bus = &self.ctx.bus;
        self.inbox
            .follow(bus.hub(), bus.mirror_watch_channel(&session))
            .await;
        let ttl = self.lock_ttl_ms();
        let count = bus
            .watching(&session, &self.id, ttl)
            .await
            .map_err(unavailable)?;
        self.watching.insert(session.clone());
        bus.to_mirror_user(&session, MirrorNotice::Watchers { count }.to_json())
            .await
            .map_err(unavailable)?;
        bus.to_mirror_user(&session, MirrorNotice::SnapshotRequest.to_json())
            .await
            .map_err(unavailable)?;
        let controller = match bus.controller(&session).await.map_err(unavailable)? {
            Some(id) => Some(Partner {
                name: bus.operator_name(&id).await.ok().flatten(),
                id,
            }),
            None => None,
        };
        self.socket
            .send_text(
                MirrorNotice::Control {
                    session: session.clone(),
                    controller,
                }
                .to_json(),
            )
            .await;
        metrics::counter!("livehelp_mirror_observations").increment(1);
        self.ctx
            .bus
            .audit(&session, &self.operator.id, "observe")
            .await;
        Ok(())
    }

    async fn unobserve(&mut self, session: &SessionId) -> Result<(), ErrorFrame> {
        if self.controlling.contains(session) {
            self.give_back(session).await?;
        }
        let bus = &self.ctx.bus;
        self.inbox.unfollow(&bus.mirror_watch_channel(session));
        self.watching.remove(session);
        let count = bus
            .stopped_watching(session, &self.id)
            .await
            .map_err(unavailable)?;
        bus.to_mirror_user(session, MirrorNotice::Watchers { count }.to_json())
            .await
            .map_err(unavailable)
    }

    fn lock_ttl_ms(&self) -> u64 {
        self.ctx.settings.mirror.control_lock_seconds * 1000
    }

    async fn announce_control(
        &self,
        session: &SessionId,
        controller: Option<Partner>,
    ) -> Result<(), ErrorFrame> {
        let notice = MirrorNotice::Control {
            session: session.clone(),
            controller,
        }
        .to_json();
        let bus = &self.ctx.bus;
        bus.to_mirror_user(session, notice.clone())
            .await
            .map_err(unavailable)?;
        bus.to_mirror_watchers(session, notice)
            .await
            .map_err(unavailable)
    }

    async fn take_control(&mut self, session: SessionId) -> Result<(), ErrorFrame> {
        if !self.watching.contains(&session) {
            return Err(refusal(
                ErrorCode::Forbidden,
                "observe the session before controlling it",
            ));
        }
        let record = self
            .ctx
            .bus
            .session_record(&session)
            .await
            .map_err(unavailable)?;
        if self
            .needs_consent(
                &session,
                ConsentKind::Control,
                record.status.control_consent,
            )
            .await?
        {
            return Ok(());
        }
        let holder = self
            .ctx
            .bus
            .take_control(&session, &self.operator.id, self.lock_ttl_ms())
            .await
            .map_err(unavailable)?;
        if holder != self.operator.id {
            return Err(refusal(
                ErrorCode::Forbidden,
                "already being controlled by another operator",
            ));
        }
        self.controlling.insert(session.clone());
        self.ctx
            .bus
            .audit(&session, &self.operator.id, "control")
            .await;
        self.announce_control(&session, Some(self.me())).await
    }

    async fn give_back(&mut self, session: &SessionId) -> Result<(), ErrorFrame> {
        self.controlling.remove(session);
        let released = self
            .ctx
            .bus
            .release_control(session, &self.operator.id)
            .await
            .map_err(unavailable)?;
        if released {
            self.ctx
                .bus
                .audit(session, &self.operator.id, "control_released")
                .await;
            self.announce_control(session, None).await?;
        }
        Ok(())
    }

    async fn input(
        &mut self,
        session: &SessionId,
        action: &serde_json::value::RawValue,
    ) -> Result<(), ErrorFrame> {
        let holder = self
            .ctx
            .bus
            .controller(session)
            .await
            .map_err(unavailable)?;
        if holder.as_ref() != Some(&self.operator.id) {
            metrics::counter!("livehelp_auth_failures", "reason" => "not_controller").increment(1);
            return Err(refusal(
                ErrorCode::Forbidden,
                "you do not control this screen",
            ));
        }
        self.ctx
            .bus
            .to_mirror_user(session, input_for_user(action))
            .await
            .map_err(unavailable)
    }

    /// Keeps this connection's observer entries and control locks alive; a lock lost to
    /// expiry is reported.
    async fn renew(&mut self) {
        let ttl = self.lock_ttl_ms();
        for session in self.watching.clone() {
            let _ = self.ctx.bus.watching(&session, &self.id, ttl).await;
        }
        for session in self.controlling.clone() {
            match self
                .ctx
                .bus
                .take_control(&session, &self.operator.id, ttl)
                .await
            {
                Ok(holder) if holder == self.operator.id => {}
                Ok(_) | Err(_) => {
                    self.controlling.remove(&session);
                    let notice = MirrorNotice::Control {
                        session,
                        controller: None,
                    };
                    self.socket.send_text(notice.to_json()).await;
                }
            }
        }
    }
}
