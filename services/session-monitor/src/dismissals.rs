//! One operator's dismissed rows: an offline session they hid stays hidden until its user
//! comes back, then shows again (and the dismissal is forgotten).

use std::collections::HashSet;

use livehelp_bus::Bus;
use livehelp_protocol::{ServerFrame, SessionId, SessionStatus, SessionSummary, UserId};

#[derive(Debug, Default)]
pub struct Dismissals {
    hidden: HashSet<SessionId>,
}

impl Dismissals {
    pub async fn load(bus: &Bus, operator: &UserId) -> Self {
        let hidden = bus.dismissed(operator).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read dismissed rows");
            Vec::new()
        });
        Self {
            hidden: hidden.into_iter().collect(),
        }
    }

    pub async fn dismiss(
        &mut self,
        bus: &Bus,
        operator: &UserId,
        session: SessionId,
    ) -> Result<ServerFrame, livehelp_bus::BusError> {
        bus.set_dismissed(operator, &session, true).await?;
        self.hidden.insert(session.clone());
        Ok(ServerFrame::SessionGone { session })
    }

    /// Whether the row is shown; a hidden row whose user came back is shown again.
    async fn shows(&mut self, bus: &Bus, operator: &UserId, row: &SessionSummary) -> bool {
        if !self.hidden.contains(&row.session) {
            return true;
        }
        if row.status == SessionStatus::Offline {
            return false;
        }
        self.hidden.remove(&row.session);
        if let Err(e) = bus.set_dismissed(operator, &row.session, false).await {
            tracing::warn!(error = %e, "could not restore a dismissed row");
        }
        true
    }

    /// The frame as this operator sees it, or `None` when it concerns a hidden row.
    pub async fn filter(
        &mut self,
        bus: &Bus,
        operator: &UserId,
        frame: &ServerFrame,
    ) -> Option<ServerFrame> {
        match frame {
            ServerFrame::Sessions { sessions } => {
                let mut shown = Vec::with_capacity(sessions.len());
                for row in sessions {
                    if self.shows(bus, operator, row).await {
                        shown.push(row.clone());
                    }
                }
                Some(ServerFrame::Sessions { sessions: shown })
            }
            ServerFrame::Session { session } => self
                .shows(bus, operator, session)
                .await
                .then(|| frame.clone()),
            other => Some(other.clone()),
        }
    }
}
