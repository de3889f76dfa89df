//! Several hub subscriptions of one connection, forwarded into one bounded queue. A
//! connection that lets the queue fill up is a slow consumer: the inbox marks itself
//! overflowed and stops, and the connection is closed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Hub, Published};

/// Something that arrived on one of the followed channels.
#[derive(Debug)]
pub enum Arrival {
    Published(String, Published),
    /// Payloads were dropped for this subscriber: whatever it keeps must be re-read.
    Lagged,
}

#[derive(Debug)]
pub struct Inbox {
    channels: HashMap<String, JoinHandle<()>>,
    tx: mpsc::Sender<Arrival>,
    overflowed: Arc<AtomicBool>,
}

impl Drop for Inbox {
    fn drop(&mut self) {
        for task in self.channels.values() {
            task.abort();
        }
    }
}

impl Inbox {
    pub fn new(queue: usize) -> (Self, mpsc::Receiver<Arrival>) {
        let (tx, rx) = mpsc::channel(queue);
        let inbox = Self {
            channels: HashMap::new(),
            tx,
            overflowed: Arc::default(),
        };
        (inbox, rx)
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    pub fn follows(&self, channel: &str) -> bool {
        self.channels.contains_key(channel)
    }

    /// Subscribes to a channel (confirmed by Redis before returning) unless already
    /// following it.
    pub async fn follow(&mut self, hub: &Hub, channel: String) {
        if self.channels.contains_key(&channel) {
            return;
        }
        let mut sub = hub.subscribe(channel.clone()).await;
        let (tx, overflowed, name) = (self.tx.clone(), self.overflowed.clone(), channel.clone());
        let task = tokio::spawn(async move {
            loop {
                let arrival = match sub.recv().await {
                    Ok(p) => Arrival::Published(name.clone(), p),
                    Err(RecvError::Lagged(_)) => Arrival::Lagged,
                    Err(RecvError::Closed) => return,
                };
                if tx.try_send(arrival).is_err() {
                    overflowed.store(true, Ordering::Relaxed);
                    return;
                }
            }
        });
        self.channels.insert(channel, task);
    }

    pub fn unfollow(&mut self, channel: &str) {
        if let Some(task) = self.channels.remove(channel) {
            task.abort();
        }
    }
}
