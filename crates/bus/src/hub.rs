//! The process's one pub/sub connection, fanned out in-process to whoever subscribed.
//!
//! Local subscribers get a bounded [`broadcast`] receiver per channel; the Redis channel is
//! subscribed while at least one local receiver exists. When the connection drops, the task
//! reconnects with backoff, resubscribes every channel and bumps [`Hub::generation`], so
//! subscribers know to re-read anything published while it was down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Messages a channel buffers per local subscriber before that subscriber lags (and is
/// expected to resynchronise from storage or be closed).
const CHANNEL_CAPACITY: usize = 1024;
/// How often the connection proves it is alive when nothing arrives.
const PING_EVERY: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A payload received on a channel, with the connection generation it arrived in: a
/// subscriber that last synchronised in an older generation may have missed payloads
/// published while the connection was down.
#[derive(Debug, Clone)]
pub struct Published {
    pub generation: u64,
    pub payload: Bytes,
}

enum Command {
    Subscribe(String, oneshot::Sender<()>),
    Unsubscribe(String),
}

struct Inner {
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
    pub(crate) fn start(client: redis::Client, timeout: Duration) -> Self {
        let (commands, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            topics: Mutex::new(HashMap::new()),
            commands,
            connected: AtomicBool::new(false),
            generation: watch::Sender::new(0),
        });
        tokio::spawn(run(client, timeout, inner.clone(), rx));
        Self { inner }
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
    ///
    /// A later local subscriber of a channel waits too: the connection task answers
    /// commands in order, so its answer comes after the channel's SUBSCRIBE was confirmed.
    /// (Returning at once while the first subscriber's SUBSCRIBE was still on its way let a
    /// chat connection read its backlog before Redis sent this process anything, losing
    /// what was published in between for good; the chaos test found it.)
    pub async fn subscribe(&self, channel: String) -> Subscription {
        let (receiver, confirmed) = {
            let mut topics = self.inner.topics.lock().unwrap_or_else(|p| p.into_inner());
            let receiver = match topics.get(&channel) {
                Some(sender) => sender.subscribe(),
                None => {
                    let (sender, receiver) = broadcast::channel(CHANNEL_CAPACITY);
                    topics.insert(channel.clone(), sender);
                    receiver
                }
            };
            let (tx, rx) = oneshot::channel();
            let _ = self
                .inner
                .commands
                .send(Command::Subscribe(channel.clone(), tx));
            (receiver, rx)
        };
        let _ = confirmed.await;
        Subscription {
            channel,
            receiver: Some(receiver),
            hub: self.inner.clone(),
        }
    }
}

async fn run(
    client: redis::Client,
    timeout: Duration,
    inner: Arc<Inner>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        match tokio::time::timeout(timeout, client.get_async_pubsub()).await {
            Ok(Ok(pubsub)) => {
                backoff = Duration::from_millis(50);
                let stop = serve(pubsub, timeout, &inner, &mut commands).await;
                inner.connected.store(false, Ordering::Relaxed);
                if stop {
                    return;
                }
                tracing::warn!("redis pub/sub connection lost; reconnecting");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "redis pub/sub connect failed"),
            Err(_) => tracing::warn!("redis pub/sub connect timed out"),
        }
        metrics::counter!("livehelp_redis_errors").increment(1);
        // While disconnected, commands only change the topic table, which the next
        // connection subscribes in full; answer waiting subscribers so nobody blocks.
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                cmd = commands.recv() => match cmd {
                    Some(Command::Subscribe(_, done)) => { let _ = done.send(()); }
                    Some(Command::Unsubscribe(_)) => {}
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Serves one connection until it fails (false) or the runtime shuts down (true).
async fn serve(
    pubsub: redis::aio::PubSub,
    timeout: Duration,
    inner: &Inner,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> bool {
    let (mut sink, mut stream) = pubsub.split();
    let channels: Vec<String> = inner
        .topics
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .keys()
        .cloned()
        .collect();
    if !channels.is_empty() && sink.subscribe(&channels).await.is_err() {
        return false;
    }
    // What Redis confirmed on this connection: a repeated Subscribe is answered at once.
    let mut subscribed: std::collections::HashSet<String> = channels.into_iter().collect();
    inner.connected.store(true, Ordering::Relaxed);
    inner.generation.send_modify(|g| *g += 1);
    let generation = *inner.generation.borrow();
    // On a subscribed connection Redis answers PING with a ["pong", ""] array, not +PONG:
    // any answer proves the connection alive.
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { return false };
                let sender = inner
                    .topics
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(msg.get_channel_name())
                    .cloned();
                if let Some(sender) = sender {
                    // No receivers left is fine: the unsubscribe is on its way.
                    let _ = sender.send(Published {
                        generation,
                        payload: Bytes::copy_from_slice(msg.get_payload_bytes()),
                    });
                }
            }
            cmd = commands.recv() => match cmd {
                Some(Command::Subscribe(channel, done)) => {
                    if !subscribed.contains(&channel) {
                        if sink.subscribe(&channel).await.is_err() {
                            let _ = done.send(());
                            return false;
                        }
                        subscribed.insert(channel);
                    }
                    let _ = done.send(());
                }
                Some(Command::Unsubscribe(channel)) => {
                    // A new local subscriber may have arrived since the drop.
                    let wanted = inner.topics.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&channel);
                    if !wanted {
                        if sink.unsubscribe(&channel).await.is_err() {
                            return false;
                        }
                        subscribed.remove(&channel);
                    }
                }
                None => return true,
            },
            _ = ping.tick() => {
                match tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    _ => return false,
                }
            }
        }
    }
}
