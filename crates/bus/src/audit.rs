//! The audit trail of a session: who observed, controlled, joined or blocked it, and when.
//! Appended by the services that do these things, read by the host through chat-gateway.

use livehelp_protocol::{SessionId, UserId};
use serde::{Deserialize, Serialize};

use crate::chat_store::RETENTION_SECONDS;
use crate::{Bus, BusError};

/// Entries kept per session (approximately).
const MAX_ENTRIES: usize = 1_000;

/// One audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub operator: UserId,
    /// `observe`, `observe_stopped`, `control`, `control_released`, `join`, `block`,
    /// `unblock`, `forward_calls`, …
    pub action: String,
}

impl Bus {
    /// Appends an entry; failures are logged, never fatal to the action itself.
    pub async fn audit(&self, session: &SessionId, operator: &UserId, action: &str) {
        let entry = AuditEntry {
            at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            operator: operator.clone(),
            action: action.to_owned(),
        };
        let Ok(json) = serde_json::to_string(&entry) else {
            return;
        };
        let key = self.keys.audit(session);
        let result = self
            .run(async |c| {
                redis::pipe()
                    .cmd("XADD")
                    .arg(&key)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(MAX_ENTRIES)
                    .arg("*")
                    .arg("e")
                    .arg(&json)
                    .ignore()
                    .expire(&key, RETENTION_SECONDS as i64)
                    .ignore()
                    .query_async::<()>(c)
                    .await
            })
            .await;
        match result {
            Ok(()) => {
                tracing::info!(audit = action, operator = %operator, session = %session, "audited")
            }
            Err(e) => {
                tracing::warn!(error = %e, audit = action, session = %session, "could not write the audit trail")
            }
        }
    }

    /// The session's audit trail, oldest first.
    pub async fn audit_trail(&self, session: &SessionId) -> Result<Vec<AuditEntry>, BusError> {
        let key = self.keys.audit(session);
        let reply: redis::streams::StreamRangeReply = self
            .run(async |c| {
                redis::cmd("XRANGE")
                    .arg(&key)
                    .arg("-")
                    .arg("+")
                    .query_async(c)
                    .await
            })
            .await?;
        reply
            .ids
            .into_iter()
            .map(|entry| {
                let json: String = entry.get("e").ok_or_else(|| {
                    BusError::Corrupt(format!("audit entry {} is empty", entry.id))
                })?;
                serde_json::from_str(&json).map_err(|e| BusError::Corrupt(e.to_string()))
            })
            .collect()
    }
}
