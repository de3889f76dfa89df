//! Several hub subscriptions of one connection, into one bounded [`Mailbox`]. When it is
//! full it marks itself overflowed: the connection either re-reads what it follows from
//! storage (chat) or is closed as a slow consumer (screen mirror).

use std::sync::Arc;

use crate::{Hub, Mailbox, Membership};

#[derive(Debug)]
pub struct Inbox {
    /// A handful per connection: a list is smaller than a map.
    channels: Vec<Membership>,
    mailbox: Arc<Mailbox>,
}

impl Inbox {
    /// An inbox of `capacity` arrivals, and the mailbox to take them from.
    pub fn new(capacity: usize) -> (Self, Arc<Mailbox>) {
        let mailbox = Mailbox::new(capacity);
        let inbox = Self {
            channels: Vec::with_capacity(2),
            mailbox: mailbox.clone(),
        };
        (inbox, mailbox)
    }

    pub fn overflowed(&self) -> bool {
        self.mailbox.overflowed()
    }

    /// Whether payloads were dropped since the last call.
    pub fn take_overflow(&self) -> bool {
        self.mailbox.take_overflow()
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
        let membership = hub.join(channel, self.mailbox.clone()).await;
        self.channels.push(membership);
    }

    pub fn unfollow(&mut self, channel: &str) {
        self.channels.retain(|m| m.channel() != channel);
    }
}
