//! An operator's monitor page: one `/monitor/ws` socket through nginx that reconnects when
//! it dies, keeps the operator available for the roles the sessions ask for, and keeps the
//! session list as the page would (the whole list on connect, then row updates).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::link::Link;
use crate::participant::lock;

/// What the monitor shows.
#[derive(Debug, Default)]
pub struct View {
    /// session id → its row.
    pub rows: BTreeMap<String, Value>,
    /// The operator's own `operator.state`.
    pub available: bool,
    pub connects: u64,
    /// Times a reconnect found the operator no longer available (signed off meanwhile).
    pub availability_lost: u64,
}

impl View {
    /// Applies a list frame; ignores the rest.
    pub fn apply(&mut self, frame: &Value) {
        match frame["type"].as_str() {
            Some("sessions") => {
                self.rows = frame["sessions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| Some((r["session"].as_str()?.to_owned(), r.clone())))
                    .collect();
            }
            Some("session") => {
                let row = &frame["session"];
                if let Some(id) = row["session"].as_str() {
                    self.rows.insert(id.to_owned(), row.clone());
                }
            }
            Some("session.gone") => {
                if let Some(id) = frame["session"].as_str() {
                    self.rows.remove(id);
                }
            }
            _ => {}
        }
    }
}

pub struct Monitor {
    pub view: Arc<Mutex<View>>,
}

impl Monitor {
    /// Starts the operator's monitor; `phone` is set once on the first connection.
    pub fn spawn(url: String, token: String, phone: Option<&'static str>) -> Self {
        let view = Arc::new(Mutex::new(View::default()));
        tokio::spawn(run(url, token, phone, view.clone()));
        Self { view }
    }

    pub fn view(&self) -> std::sync::MutexGuard<'_, View> {
        lock(&self.view)
    }
}

async fn run(url: String, token: String, mut phone: Option<&'static str>, view: Arc<Mutex<View>>) {
    let mut was_available = false;
    loop {
        if let Ok(mut link) = Link::connect(&url, &token).await {
            lock(&view).connects += 1;
            if let Some(number) = phone
                && link
                    .send(&json!({"type": "operator.phone", "phone": number}))
                    .await
            {
                phone = None;
            }
            while let Some(frame) = link.recv().await {
                if frame["type"] == "operator.state" {
                    let available = frame["available"] == true;
                    lock(&view).available = available;
                    if available {
                        was_available = true;
                    } else {
                        // As a person would: tick "Available" (again).
                        if was_available {
                            lock(&view).availability_lost += 1;
                            was_available = false;
                        }
                        let status = json!({"type": "operator.status", "available": true, "roles": ["advocate"]});
                        if !link.send(&status).await {
                            break;
                        }
                    }
                }
                lock(&view).apply(&frame);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The list a freshly opened monitor shows, or `None` when it could not be read.
pub async fn snapshot(url: &str, token: &str) -> Option<BTreeMap<String, Value>> {
    let mut link = Link::connect(url, token).await.ok()?;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), link.recv())
            .await
            .ok()??;
        if frame["type"] == "sessions" {
            let mut view = View::default();
            view.apply(&frame);
            return Some(view.rows);
        }
    }
}
