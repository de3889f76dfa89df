//! The process's one pub/sub connection, fanned out in-process to whoever subscribed.
//!
//! Local subscribers get a bounded [`broadcast`] receiver per channel; the Redis channel is
//! subscribed while at least one local receiver exists. When the connection drops, the task
//! reconnects with backoff, resubscribes every channel and bumps [`Hub::generation`], so
//! subscribers know to re-read anything published while it was down. On one server or
//! Sentinel the connection is one pub/sub connection ([`direct`]); on a Redis Cluster it is
//! the cluster client's connections with sharded channels ([`sharded`]).

mod direct;
mod sharded;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::pool::sentinel_client;
use crate::{BusError, Topology};

/// Messages a channel buffers per local subscriber before that subscriber lags (and is
/// expected to resynchronise from storage or be closed).
const CHANNEL_CAPACITY: usize = 1024;
/// How often the connection proves it is alive when nothing arrives.
pub(super) const PING_EVERY: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A payload received on a channel, with the connection generation it arrived in: a
/// subscriber that last synchronised in an older generation may have missed payloads
/// published while the connection was down.
#[derive(Debug, Clone)]
pub struct Published {
    pub generation: u64,
    pub payload: Bytes,
}

pub(super) enum Command {
    Subscribe(String, oneshot::Sender<()>),
    Unsubscribe(String),
}

pub(super) struct Inner {
    topics: Mutex<HashMap<String, broadcast::Sender<Published>>>,
    commands: mpsc::UnboundedSender<Command>,
    connected: AtomicBool,
    generation: watch::Sender<u64>,
}

/// A cloneable handle on the process's subscription task.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

/// A local subscription to one channel. Dropping the last one for a channel unsubscribes.
pub struct Subscription {
    channel: String,
    receiver: Option<broadcast::Receiver<Published>>,
    hub: Arc<Inner>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("channel", &self.channel)
            .finish()
    }
}

impl Subscription {
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The next payload. `Err(Lagged)` means payloads were dropped for this subscriber;
    /// `Err(Closed)` cannot happen while the subscription lives.
    pub async fn recv(&mut self) -> Result<Published, broadcast::error::RecvError> {
        match self.receiver.as_mut() {
            Some(r) => r.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut topics = self.hub.topics.lock().unwrap_or_else(|p| p.into_inner());
        if topics
            .get(&self.channel)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            topics.remove(&self.channel);
            let _ = self
                .hub
                .commands
                .send(Command::Unsubscribe(self.channel.clone()));
        }
    }
}

impl Hub {
    /// Starts the connection task on the current Tokio runtime; it lives as long as that
    /// runtime.
    pub(crate) fn start(topology: &Topology, timeout: Duration) -> Result<Self, BusError> {
        let (commands, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            topics: Mutex::new(HashMap::new()),
            commands,
            connected: AtomicBool::new(false),
            generation: watch::Sender::new(0),
        });
        match topology {
            Topology::Single { url } => {
                let source = direct::Source::Server(redis::Client::open(url.as_str())?);
                let connector = direct::Direct { source, timeout };
                tokio::spawn(reconnecting(connector, inner.clone(), rx));
            }
            Topology::Sentinel {
                sentinels,
                master,
                node_url,
            } => {
                let source = direct::Source::Sentinel(Box::new(sentinel_client(
                    sentinels, master, node_url,
                )?));
                let connector = direct::Direct { source, timeout };
                tokio::spawn(reconnecting(connector, inner.clone(), rx));
            }
            Topology::Cluster { nodes } => {
                let connector = sharded::Sharded {
                    nodes: nodes.clone(),
                    timeout,
                };
                tokio::spawn(reconnecting(connector, inner.clone(), rx));
            }
        }
        Ok(Self { inner })
    }

    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Relaxed)
    }

    /// Bumped after every successful (re)subscription: whoever relies on a channel should
    /// re-read what may have been published while the connection was down.
    pub fn generation(&self) -> watch::Receiver<u64> {
        self.inner.generation.subscribe()
    }

    /// The current connection generation.
    pub fn current_generation(&self) -> u64 {
        *self.inner.generation.borrow()
    }

    /// Subscribes to `channel`. Returns once Redis confirmed the subscription, or at once
    /// when the connection is down (it will be subscribed on reconnect and
    /// [`Hub::generation`] bumped).
    pub async fn subscribe(&self, channel: String) -> Subscription {
        let (receiver, confirm) = {
            let mut topics = self.inner.topics.lock().unwrap_or_else(|p| p.into_inner());
            match topics.get(&channel) {
                Some(sender) => (sender.subscribe(), None),
                None => {
                    let (sender, receiver) = broadcast::channel(CHANNEL_CAPACITY);
                    topics.insert(channel.clone(), sender);
                    let (tx, rx) = oneshot::channel();
                    let _ = self
                        .inner
                        .commands
                        .send(Command::Subscribe(channel.clone(), tx));
                    (receiver, Some(rx))
                }
            }
        };
        if let Some(confirmed) = confirm {
            let _ = confirmed.await;
        }
        Subscription {
            channel,
            receiver: Some(receiver),
            hub: self.inner.clone(),
        }
    }
}

impl Inner {
    /// Hands a payload to the channel's local subscribers.
    fn deliver(&self, channel: &str, generation: u64, payload: &[u8]) {
        let sender = self
            .topics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(channel)
            .cloned();
        if let Some(sender) = sender {
            // No receivers left is fine: the unsubscribe is on its way.
            let _ = sender.send(Published {
                generation,
                payload: Bytes::copy_from_slice(payload),
            });
        }
    }

    /// Whether a local subscriber still wants the channel.
    fn wants(&self, channel: &str) -> bool {
        self.topics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(channel)
    }

    /// Every channel with local subscribers.
    fn channels(&self) -> Vec<String> {
        self.topics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Marks the connection up after every channel was (re)subscribed; returns the new
    /// generation.
    fn subscribed(&self) -> u64 {
        self.connected.store(true, Ordering::Relaxed);
        self.generation.send_modify(|g| *g += 1);
        *self.generation.borrow()
    }
}

/// How one connection of the hub ended.
pub(super) enum Ended {
    /// It was serving and broke.
    Lost,
    /// It could not be opened.
    Failed(String),
    /// The hub is gone (the runtime shuts down).
    Stopped,
}

/// One way of opening and serving the hub's connection.
pub(super) trait Connector: Send {
    /// Opens a connection, subscribes every channel and serves it until it ends.
    fn session(
        &mut self,
        inner: &Inner,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> impl Future<Output = Ended> + Send;
}

/// Opens and serves connections until the hub is gone, backing off between failed attempts.
async fn reconnecting(
    mut connector: impl Connector,
    inner: Arc<Inner>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let ended = connector.session(&inner, &mut commands).await;
        inner.connected.store(false, Ordering::Relaxed);
        match ended {
            Ended::Stopped => return,
            Ended::Lost => {
                backoff = Duration::from_millis(50);
                tracing::warn!("redis pub/sub connection lost; reconnecting");
            }
            Ended::Failed(error) => tracing::warn!(%error, "redis pub/sub connect failed"),
        }
        if !pause(backoff, &mut commands).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Waits `backoff` after a lost connection. Meanwhile commands only change the topic
/// table, which the next connection subscribes in full; waiting subscribers are answered
/// so nobody blocks. Returns false when the hub is gone.
async fn pause(backoff: Duration, commands: &mut mpsc::UnboundedReceiver<Command>) -> bool {
    metrics::counter!("livehelp_redis_errors").increment(1);
    let sleep = tokio::time::sleep(backoff);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return true,
            cmd = commands.recv() => match cmd {
                Some(Command::Subscribe(_, done)) => { let _ = done.send(()); }
                Some(Command::Unsubscribe(_)) => {}
                None => return false,
            },
        }
    }
}
