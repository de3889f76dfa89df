//! The hub's connection to a Redis Cluster: the cluster client's connections (one per
//! primary) with sharded channels, so each message only crosses the shard that owns its
//! channel. Messages arrive as RESP3 pushes.
//!
//! The cluster client would resubscribe by itself after losing a node, but nobody could
//! tell when, and subscribers must re-read what was published meanwhile. So a lost node (or
//! a channel the cluster moved away) counts as a lost connection: reconnect, resubscribe
//! every channel, bump the generation.

use std::time::Duration;

use redis::cluster_async::ClusterConnection;
use redis::{ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::mpsc;

use crate::commands::cluster_client;

use super::{Command, Connector, Ended, Inner, PING_EVERY};

pub(super) struct Sharded {
    pub(super) nodes: Vec<String>,
    pub(super) timeout: Duration,
}

impl Connector for Sharded {
    async fn session(
        &mut self,
        inner: &Inner,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Ended {
        let (pushes_tx, pushes) = mpsc::unbounded_channel();
        let client = match cluster_client(&self.nodes, self.timeout)
            .use_protocol(ProtocolVersion::RESP3)
            .push_sender(pushes_tx)
            .build()
        {
            Ok(client) => client,
            Err(e) => return Ended::Failed(e.to_string()),
        };
        match tokio::time::timeout(self.timeout, client.get_async_connection()).await {
            Ok(Ok(conn)) => serve(conn, pushes, self.timeout, inner, commands).await,
            Ok(Err(e)) => Ended::Failed(e.to_string()),
            Err(_) => Ended::Failed("timed out".into()),
        }
    }
}

/// Serves one connection until it breaks or the hub is gone.
async fn serve(
    mut conn: ClusterConnection,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    timeout: Duration,
    inner: &Inner,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Ended {
    // Channels of different slots cannot share one SSUBSCRIBE.
    for channel in inner.channels() {
        if conn.ssubscribe(&channel).await.is_err() {
            return Ended::Lost;
        }
    }
    let generation = inner.subscribed();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            push = pushes.recv() => {
                let Some(push) = push else { return Ended::Lost };
                match (push.kind, push.data.as_slice()) {
                    (PushKind::SMessage, [Value::BulkString(channel), Value::BulkString(payload)]) => {
                        if let Ok(channel) = std::str::from_utf8(channel) {
                            inner.deliver(channel, generation, payload);
                        }
                    }
                    (PushKind::Disconnection, _) => return Ended::Lost,
                    // The cluster dropped a channel we still want (its slot moved).
                    (PushKind::SUnsubscribe, [Value::BulkString(channel), ..])
                        if std::str::from_utf8(channel).is_ok_and(|c| inner.wants(c)) =>
                    {
                        return Ended::Lost;
                    }
                    _ => {}
                }
            }
            cmd = commands.recv() => match cmd {
                Some(Command::Subscribe(channel, done)) => {
                    let ok = conn.ssubscribe(&channel).await.is_ok();
                    done.send_replace(true);
                    if !ok { return Ended::Lost; }
                }
                Some(Command::Unsubscribe(channel)) => {
                    if !inner.wants(&channel) && conn.sunsubscribe(&channel).await.is_err() {
                        return Ended::Lost;
                    }
                }
                None => return Ended::Stopped,
            },
            _ = ping.tick() => {
                let ping = redis::cmd("PING");
                match tokio::time::timeout(timeout, ping.query_async::<Value>(&mut conn)).await {
                    Ok(Ok(_)) => {}
                    _ => return Ended::Lost,
                }
            }
        }
    }
}
