//! Several hub subscriptions of one connection, into one bounded queue. When the queue is
//! full the inbox marks itself overflowed: the connection either re-reads what it follows
//! from storage (chat) or is closed as a slow consumer (screen mirror).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use crate::{Arrival, Hub, Membership};

#[derive(Debug)]
pub struct Inbox {
    /// A handful per connection: a list is smaller than a map.
    channels: Vec<Membership>,
    queue: mpsc::Sender<Arc<Arrival>>,
    overflowed: Arc<AtomicBool>,
}

impl Inbox {
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Arc<Arrival>>) {
        let (queue, rx) = mpsc::channel(capacity);
        let inbox = Self {
            channels: Vec::with_capacity(2),
            queue,
            overflowed: Arc::default(),
        };
        (inbox, rx)
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Whether payloads were dropped since the last call.
    pub fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::Relaxed)
    }

    pub fn follows(&self, channel: &str) -> bool {
        self.channels.iter().any(|m| m.channel() == channel)
    }

    /// Subscribes to a channel (confirmed by Redis before returning) unless already
    /// following it.
    pub async fn follow(&mut self, hub: &Hub, channel: String) {
        if self.follows(&channel) {
            return;
        }
        let membership = hub
            .join(channel, self.queue.clone(), self.overflowed.clone())
            .await;
        self.channels.push(membership);
    }

    pub fn unfollow(&mut self, channel: &str) {
        self.channels.retain(|m| m.channel() != channel);
    }
}
