//! The process's one pub/sub connection, fanned out in-process to whoever subscribed.
//!
//! Each local subscriber gives a bounded queue ([`Mailbox`]); the hub puts every payload of the channel
//! straight into it, and raises the subscriber's flag instead when the queue is full (a
//! slow consumer: it must resynchronise from storage, or be closed). Nothing is buffered
//! per channel, so an idle subscriber costs a few words. The Redis channel is subscribed
//! while at least one local subscriber exists. When the connection drops, the task
//! reconnects with backoff, resubscribes every channel and bumps [`Hub::generation`], so
//! subscribers know to re-read anything published while it was down. On one server or
//! Sentinel the connection is one pub/sub connection ([`direct`]); on a Redis Cluster it is
//! the cluster client's connections with sharded channels ([`sharded`]).

mod direct;
mod mailbox;
mod sharded;

pub use mailbox::Mailbox;

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

use crate::pool::sentinel_client;
use crate::{BusError, Topology};

/// Payloads a [`Subscription`] holds before it lags (and is expected to resynchronise).
const SUBSCRIPTION_CAPACITY: usize = 1024;
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

/// A payload and the channel it came on. Every local subscriber of the channel is queued
/// the same arrival, so what they derive from it is derived once per process
/// ([`Arrival::decoded`]).
#[derive(Debug)]
pub struct Arrival {
    pub channel: Arc<str>,
    pub published: Published,
    decoded: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl Arrival {
    /// What `decode` makes of the payload, computed by the first subscriber to ask and
    /// shared with the others. `None` when an earlier subscriber decoded it as another type.
    pub fn decoded<T: Any + Send + Sync>(
        &self,
        decode: impl FnOnce(&Published) -> T,
    ) -> Option<&T> {
        self.decoded
            .get_or_init(|| Box::new(decode(&self.published)))
            .downcast_ref()
    }
}

pub(super) enum Command {
    /// Subscribe the channel, then mark it confirmed (also when the connection is down: it
    /// is subscribed on reconnect).
    Subscribe(String, watch::Sender<bool>),
    Unsubscribe(String),
}

/// One local subscriber of a channel.
struct Subscriber {
    id: u64,
    mailbox: Arc<Mailbox>,
}

/// A channel's local subscribers, and whether Redis confirmed the subscription: everyone
/// joining waits for that, or they could read their backlog and go live before the
/// process receives the channel, missing what is published in between. `None` once
/// confirmed (an idle channel keeps no watch).
struct Topic {
    subscribers: Vec<Subscriber>,
    confirmed: Option<watch::Receiver<bool>>,
}

pub(super) struct Inner {
    topics: Mutex<HashMap<Arc<str>, Topic>>,
    next_id: AtomicU64,
    commands: mpsc::UnboundedSender<Command>,
    connected: AtomicBool,
    generation: watch::Sender<u64>,
}

/// Spawns the connection task.
type Start = Box<dyn FnOnce() + Send>;

/// A cloneable handle on the process's subscription task.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
    /// The connection task, until its first user starts it ([`Hub::run_here`]).
    pending: Arc<Mutex<Option<Start>>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

/// One subscriber's place on a channel. Dropping it leaves the channel; the last one to
/// leave unsubscribes.
pub struct Membership {
    channel: Arc<str>,
    id: u64,
    hub: Arc<Inner>,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("channel", &self.channel)
            .finish()
    }
}

impl Membership {
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut topics = self.hub.topics.lock().unwrap_or_else(|p| p.into_inner());
        let Some(topic) = topics.get_mut(&self.channel) else {
            return;
        };
        topic.subscribers.retain(|s| s.id != self.id);
        if topic.subscribers.is_empty() {
            topics.remove(&self.channel);
            let _ = self
                .hub
                .commands
                .send(Command::Unsubscribe(self.channel.to_string()));
        }
    }
}

/// A local subscription to one channel with a queue of its own.
#[derive(Debug)]
pub struct Subscription {
    membership: Membership,
    mailbox: Arc<Mailbox>,
}

impl Subscription {
    pub fn channel(&self) -> &str {
        &self.membership.channel
    }

    /// The next payload. `Err(Lagged)` means payloads were dropped for this subscriber
    /// (its queue was full): whatever it keeps must be re-read.
    pub async fn recv(&mut self) -> Result<Published, RecvError> {
        if self.mailbox.take_overflow() {
            return Err(RecvError::Lagged(1));
        }
        Ok(self.mailbox.recv().await.published.clone())
    }
}

impl Hub {
    /// Prepares the connection task; it starts on the runtime of the first to use the hub
    /// ([`Hub::run_here`]), so that in a server it runs on the thread of the sockets it
    /// serves rather than waking that thread from another for every payload.
    pub(crate) fn start(topology: &Topology, timeout: Duration) -> Result<Self, BusError> {
        let (commands, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            topics: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            commands,
            connected: AtomicBool::new(false),
            generation: watch::Sender::new(0),
        });
        let task = inner.clone();
        let start = match topology {
            Topology::Single { url } => {
                let source = direct::Source::Server(redis::Client::open(url.as_str())?);
                starter(direct::Direct { source, timeout }, task, rx)
            }
            Topology::Sentinel {
                sentinels,
                master,
                node_url,
            } => {
                let source = direct::Source::Sentinel(Box::new(sentinel_client(
                    sentinels, master, node_url,
                )?));
                starter(direct::Direct { source, timeout }, task, rx)
            }
            Topology::Cluster { nodes } => {
                let connector = sharded::Sharded {
                    nodes: nodes.clone(),
                    timeout,
                };
                starter(connector, task, rx)
            }
        };
        Ok(Self {
            inner,
            pending: Arc::new(Mutex::new(Some(start))),
        })
    }

    /// Starts the connection task on the current Tokio runtime unless it runs already. It
    /// lives as long as that runtime.
    pub fn run_here(&self) {
        let start = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(start) = start {
            start();
        }
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

    /// Subscribes to `channel` with a queue of its own. Returns once Redis confirmed the
    /// subscription, or at once when the connection is down (it will be subscribed on
    /// reconnect and [`Hub::generation`] bumped).
    pub async fn subscribe(&self, channel: String) -> Subscription {
        let mailbox = Mailbox::new(SUBSCRIPTION_CAPACITY);
        let membership = self.join(channel, mailbox.clone()).await;
        Subscription {
            membership,
            mailbox,
        }
    }

    /// Puts every payload of `channel` into `mailbox` from now on (which marks itself
    /// overflowed when full). Returns once Redis confirmed the subscription (or at once
    /// while the connection is down, as [`Hub::subscribe`]).
    pub async fn join(&self, channel: String, mailbox: Arc<Mailbox>) -> Membership {
        self.run_here();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (channel, confirmed) = {
            let mut topics = self.inner.topics.lock().unwrap_or_else(|p| p.into_inner());
            let subscriber = Subscriber { id, mailbox };
            let existing = topics
                .get_key_value(channel.as_str())
                .map(|(k, _)| k.clone());
            match existing.and_then(|name| topics.get_mut(&name).map(|t| (name, t))) {
                Some((name, topic)) => {
                    topic.subscribers.push(subscriber);
                    (name, topic.confirmed.clone())
                }
                None => {
                    let name: Arc<str> = channel.clone().into();
                    let (done, confirmed) = watch::channel(false);
                    topics.insert(
                        name.clone(),
                        Topic {
                            subscribers: vec![subscriber],
                            confirmed: Some(confirmed.clone()),
                        },
                    );
                    let _ = self.inner.commands.send(Command::Subscribe(channel, done));
                    (name, Some(confirmed))
                }
            }
        };
        if let Some(mut confirmed) = confirmed {
            let _ = confirmed.wait_for(|c| *c).await;
            let mut topics = self.inner.topics.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(topic) = topics.get_mut(&channel)
                && topic
                    .confirmed
                    .as_ref()
                    .is_some_and(|c| c.same_channel(&confirmed))
            {
                topic.confirmed = None;
            }
        }
        Membership {
            channel,
            id,
            hub: self.inner.clone(),
        }
    }
}

impl Inner {
    /// Hands a payload to the channel's local subscribers.
    fn deliver(&self, channel: &str, generation: u64, payload: &[u8]) {
        let topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        let Some((name, topic)) = topics.get_key_value(channel) else {
            // Nobody left is fine: the unsubscribe is on its way.
            return;
        };
        let arrival = Arc::new(Arrival {
            channel: name.clone(),
            published: Published {
                generation,
                payload: Bytes::copy_from_slice(payload),
            },
            decoded: OnceLock::new(),
        });
        for s in &topic.subscribers {
            s.mailbox.put(arrival.clone());
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
            .map(|c| c.to_string())
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

/// What spawns the connection task of `connector` on the runtime it is called on.
fn starter(
    connector: impl Connector + 'static,
    inner: Arc<Inner>,
    commands: mpsc::UnboundedReceiver<Command>,
) -> Start {
    Box::new(move || drop(tokio::spawn(reconnecting(connector, inner, commands))))
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
                Some(Command::Subscribe(_, done)) => { done.send_replace(true); }
                Some(Command::Unsubscribe(_)) => {}
                None => return false,
            },
        }
    }
}
