//! The session list, kept once per process: one task follows the monitor channel, reloads
//! only the rows that changed, and broadcasts frames to every monitor socket of the process.
//! A change costs one reload per instance, not one per open monitor.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use livehelp_bus::{ALL_SESSIONS, Bus, BusError};
use livehelp_protocol::{PartnerRole, ServerFrame, SessionId, SessionSummary, UserId};
use livehelp_web::Context;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::summary::{self, OFFLINE_WINDOW_MS, RowParts};

/// Frames a slow monitor may fall behind before it gets the whole list again.
const UPDATES_CAPACITY: usize = 4096;
/// Also reloads everything this often, so offline rows age out of the window.
const FULL_RELOAD: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Rows {
    parts: HashMap<SessionId, RowParts>,
    shown: BTreeMap<SessionId, SessionSummary>,
}

/// A handle on the process's session list.
#[derive(Clone)]
pub struct Board {
    rows: Arc<RwLock<Rows>>,
    updates: broadcast::Sender<Arc<ServerFrame>>,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board").finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Default for Board {
    /// An empty list; [`Board::follow`] fills it and keeps it current.
    fn default() -> Self {
        let (updates, _) = broadcast::channel(UPDATES_CAPACITY);
        Self {
            rows: Arc::default(),
            updates,
        }
    }
}

impl Board {
    /// The rows now, and the frames that change them from here on (subscribed under the
    /// same lock, so nothing falls between).
    pub fn snapshot(&self) -> (Vec<SessionSummary>, broadcast::Receiver<Arc<ServerFrame>>) {
        let rows = self.rows.read().unwrap_or_else(|p| p.into_inner());
        (
            rows.shown.values().cloned().collect(),
            self.updates.subscribe(),
        )
    }

    /// Keeps the list: the task runs for as long as the server does.
    pub async fn follow(self, ctx: Arc<Context>) {
        let bus = &ctx.bus;
        let mut changes = bus.hub().subscribe(bus.monitor_channel()).await;
        let mut generation = bus.hub().generation();
        let mut full = tokio::time::interval(FULL_RELOAD);
        loop {
            let result = tokio::select! {
                change = changes.recv() => match change {
                    Ok(p) if p.payload.as_ref() == ALL_SESSIONS.as_bytes() => self.recount(bus).await,
                    Ok(p) => match std::str::from_utf8(&p.payload).ok().and_then(|s| SessionId::parse(s).ok()) {
                        Some(session) => self.reload_one(bus, session).await,
                        None => Ok(()),
                    },
                    Err(RecvError::Lagged(_)) => self.reload_all(bus).await,
                    Err(RecvError::Closed) => return,
                },
                Ok(()) = generation.changed() => self.reload_all(bus).await,
                _ = full.tick() => self.reload_all(bus).await,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "session list reload failed; retrying on the next change");
            }
        }
    }

    /// Qualifying operators per distinct role set, and the names of attached operators.
    async fn context_for<'a>(
        bus: &Bus,
        parts: impl Iterator<Item = &'a RowParts> + Clone,
    ) -> Result<
        (
            HashMap<Vec<PartnerRole>, usize>,
            HashMap<UserId, Option<String>>,
        ),
        BusError,
    > {
        let mut counts = HashMap::new();
        for roles in parts
            .clone()
            .map(|p| &p.record.status.partner_roles)
            .collect::<HashSet<_>>()
        {
            counts.insert(roles.clone(), bus.count_qualifying(roles).await?);
        }
        let mut names = HashMap::new();
        for op in parts.flat_map(RowParts::operators).collect::<HashSet<_>>() {
            names.insert(op.clone(), bus.operator_name(op).await?);
        }
        Ok((counts, names))
    }

    /// Replaces the shown rows with `next`, broadcasting what changed.
    fn publish(&self, next: BTreeMap<SessionId, SessionSummary>) {
        let mut rows = self.rows.write().unwrap_or_else(|p| p.into_inner());
        for (id, row) in &next {
            if rows.shown.get(id) != Some(row) {
                let _ = self.updates.send(Arc::new(ServerFrame::Session {
                    session: row.clone(),
                }));
            }
        }
        for id in rows.shown.keys().filter(|id| !next.contains_key(*id)) {
            let _ = self.updates.send(Arc::new(ServerFrame::SessionGone {
                session: id.clone(),
            }));
        }
        rows.shown = next;
    }

    fn render(
        &self,
        counts: &HashMap<Vec<PartnerRole>, usize>,
        names: &HashMap<UserId, Option<String>>,
    ) {
        let next = {
            let rows = self.rows.read().unwrap_or_else(|p| p.into_inner());
            rows.parts
                .iter()
                .map(|(id, p)| {
                    let qualifying = counts
                        .get(&p.record.status.partner_roles)
                        .copied()
                        .unwrap_or(0);
                    (id.clone(), p.summary(qualifying, names))
                })
                .collect()
        };
        self.publish(next);
    }

    async fn reload_all(&self, bus: &Bus) -> Result<(), BusError> {
        let mut parts = HashMap::new();
        let now = now_ms();
        for session in bus
            .live_sessions(now.saturating_sub(OFFLINE_WINDOW_MS))
            .await?
        {
            if let Some(p) = summary::fetch(bus, &session, now).await? {
                parts.insert(session, p);
            }
        }
        let (counts, names) = Self::context_for(bus, parts.values()).await?;
        self.rows.write().unwrap_or_else(|p| p.into_inner()).parts = parts;
        self.render(&counts, &names);
        Ok(())
    }

    /// Operator presence, availability or roles changed: statuses may change everywhere,
    /// but no row's own data did.
    async fn recount(&self, bus: &Bus) -> Result<(), BusError> {
        let parts: Vec<RowParts> = self
            .rows
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .parts
            .values()
            .cloned()
            .collect();
        let (counts, names) = Self::context_for(bus, parts.iter()).await?;
        self.render(&counts, &names);
        Ok(())
    }

    async fn reload_one(&self, bus: &Bus, session: SessionId) -> Result<(), BusError> {
        let fetched = summary::fetch(bus, &session, now_ms()).await?;
        let row = match &fetched {
            Some(parts) => {
                let (counts, names) = Self::context_for(bus, std::iter::once(parts)).await?;
                let qualifying = counts
                    .get(&parts.record.status.partner_roles)
                    .copied()
                    .unwrap_or(0);
                Some(parts.summary(qualifying, &names))
            }
            None => None,
        };
        let mut rows = self.rows.write().unwrap_or_else(|p| p.into_inner());
        match (fetched, row) {
            (Some(parts), Some(row)) => {
                rows.parts.insert(session.clone(), parts);
                if rows.shown.get(&session) != Some(&row) {
                    let _ = self.updates.send(Arc::new(ServerFrame::Session {
                        session: row.clone(),
                    }));
                    rows.shown.insert(session, row);
                }
            }
            _ => {
                rows.parts.remove(&session);
                if rows.shown.remove(&session).is_some() {
                    let _ = self
                        .updates
                        .send(Arc::new(ServerFrame::SessionGone { session }));
                }
            }
        }
        Ok(())
    }
}
