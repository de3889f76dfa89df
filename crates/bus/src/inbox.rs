//! Several hub subscriptions of one connection, into one bounded queue. A connection that
//! lets the queue fill up is a slow consumer: the inbox marks itself overflowed and the
//! connection is closed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use crate::{Arrival, Hub, Membership};

#[derive(Debug)]
pub struct Inbox {
    channels: HashMap<String, Membership>,
    queue: mpsc::Sender<Arrival>,
    overflowed: Arc<AtomicBool>,
}

impl Inbox {
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Arrival>) {
        let (queue, rx) = mpsc::channel(capacity);
        let inbox = Self {
            channels: HashMap::new(),
            queue,
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
        let membership = hub
            .join(channel.clone(), self.queue.clone(), self.overflowed.clone())
            .await;
        self.channels.insert(channel, membership);
    }

    pub fn unfollow(&mut self, channel: &str) {
        self.channels.remove(channel);
    }
}
