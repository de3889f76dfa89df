//! The hub's connection to one server, or to the primary that Sentinel names: one pub/sub
//! connection with plain channels.

use std::time::Duration;

use futures_util::StreamExt;
use redis::sentinel::SentinelClient;
use tokio::sync::mpsc;

use super::{Command, Connector, Ended, Inner, PING_EVERY};

pub(crate) enum Source {
    Server(redis::Client),
    /// Asked again on every reconnection: after a failover it names the new primary.
    Sentinel(Box<SentinelClient>),
}

impl Source {
    async fn pubsub(&mut self) -> redis::RedisResult<redis::aio::PubSub> {
        match self {
            Self::Server(client) => client.get_async_pubsub().await,
            Self::Sentinel(sentinel) => sentinel.async_get_client().await?.get_async_pubsub().await,
        }
    }
}

pub(super) struct Direct {
    pub(super) source: Source,
    pub(super) timeout: Duration,
}

impl Connector for Direct {
    async fn session(
        &mut self,
        inner: &Inner,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Ended {
        match tokio::time::timeout(self.timeout, self.source.pubsub()).await {
            Ok(Ok(pubsub)) => serve(pubsub, self.timeout, inner, commands).await,
            Ok(Err(e)) => Ended::Failed(e.to_string()),
            Err(_) => Ended::Failed("timed out".into()),
        }
    }
}

/// Serves one connection until it breaks or the hub is gone.
async fn serve(
    pubsub: redis::aio::PubSub,
    timeout: Duration,
    inner: &Inner,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Ended {
    let (mut sink, mut stream) = pubsub.split();
    let channels = inner.channels();
    if !channels.is_empty() && sink.subscribe(&channels).await.is_err() {
        return Ended::Lost;
    }
    let generation = inner.subscribed();
    // On a subscribed connection Redis answers PING with a ["pong", ""] array, not +PONG:
    // any answer proves the connection alive.
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { return Ended::Lost };
                inner.deliver(msg.get_channel_name(), generation, msg.get_payload_bytes());
            }
            cmd = commands.recv() => match cmd {
                Some(Command::Subscribe(channel, done)) => {
                    let ok = sink.subscribe(&channel).await.is_ok();
                    done.send_replace(true);
                    if !ok { return Ended::Lost; }
                }
                Some(Command::Unsubscribe(channel)) => {
                    // A new local subscriber may have arrived since the drop.
                    if !inner.wants(&channel) && sink.unsubscribe(&channel).await.is_err() {
                        return Ended::Lost;
                    }
                }
                None => return Ended::Stopped,
            },
            _ = ping.tick() => {
                match tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    _ => return Ended::Lost,
                }
            }
        }
    }
}
