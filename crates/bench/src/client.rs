//! One benchmark client connection, whatever the system: the handshake each protocol needs
//! to join a room, then a writer task (frames to send, heartbeat answers) and a reader task
//! that hands every delivered payload to a [`Sink`].
//!
//! A payload is `@@<scheduled ns>@@` padded to [`PAYLOAD_BYTES`]; the reader finds the
//! marker in the raw frame without parsing it, so every protocol is read at the same cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::systems::{Node, Protocol};

/// Size of a chat message's text.
pub const PAYLOAD_BYTES: usize = 100;
const SETUP_WAIT: Duration = Duration::from_secs(15);
/// Bytes read from a socket at once (a larger frame still arrives whole).
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// Where a reader reports what it receives.
pub trait Sink: Send + Sync + 'static {
    /// A payload scheduled at `scheduled_ns` (since the run's clock base) was delivered.
    fn delivered(&self, scheduled_ns: u64);
    /// A payload arrived after one scheduled later than it, on one connection (each
    /// connection's payloads come from one sender, in schedule order).
    fn reordered(&self) {}
}

/// Size of a screen-mirror batch of events.
pub const MIRROR_BATCH_BYTES: usize = 2048;

/// How far a client goes after connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Join the room's chat, ready to send and receive.
    Chat,
    /// Connected and identified only (livehelp: a user on a page, chat not opened; the
    /// others subscribe their room as in `Chat`: that is all they need to receive).
    Idle,
}

/// What a writer sends: a chat message scheduled at the given time, or a raw frame.
#[derive(Debug)]
pub enum Out {
    Chat(u64),
    Raw(String),
    Close,
}

/// Connections the server closed (or that broke) without our asking, since start.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Why the servers closed sockets on us: "code reason" → count, since the last take.
static CLOSE_REASONS: std::sync::Mutex<std::collections::BTreeMap<String, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// The close codes and reasons servers sent since the last call, and resets them.
pub fn take_close_reasons() -> Vec<(String, u64)> {
    CLOSE_REASONS
        .lock()
        .map(|mut m| std::mem::take(&mut *m).into_iter().collect())
        .unwrap_or_default()
}

/// How many connections the servers have closed on us so far (a slow-consumer close, a
/// crash); a run compares it before and after.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// A connected client: send through `tx`; its reader reports to the sink it was given.
#[derive(Debug, Clone)]
pub struct Conn {
    pub tx: mpsc::UnboundedSender<Out>,
    closing: Arc<AtomicBool>,
}

impl Conn {
    /// Closes the socket; the server closing it is no longer counted as dropped.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        let _ = self.tx.send(Out::Close);
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The payload text for a message scheduled at `ns`.
pub fn payload(ns: u64) -> String {
    let mut s = format!("@@{ns}@@");
    while s.len() < PAYLOAD_BYTES {
        s.push('x');
    }
    s
}

/// The scheduled time in a delivered frame, if it carries a payload.
pub fn scheduled_in(frame: &str) -> Option<u64> {
    let start = frame.find("@@")? + 2;
    let len = frame[start..].find("@@")?;
    frame[start..start + len].parse().ok()
}

/// Connects `member` of `room` to `node` and joins the room as the protocol requires.
pub async fn connect(
    node: &Node,
    room: &str,
    member: &str,
    join: Join,
    sink: Option<Arc<dyn Sink>>,
) -> anyhow::Result<Conn> {
    let (ws, channel) = tokio::time::timeout(SETUP_WAIT, handshake(node, room, member, join))
        .await
        .context("joining took longer than 15 s")??;
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let (mut write, mut read) = ws.split();
    let protocol = node.protocol;
    let writer = async move {
        let mut seq = 0u64;
        while let Some(out) = rx.recv().await {
            let frame = match out {
                Out::Chat(ns) => {
                    seq += 1;
                    chat_frame(protocol, &channel, seq, ns)
                }
                Out::Raw(s) => s,
                Out::Close => {
                    let _ = write.send(Message::Close(None)).await;
                    break;
                }
            };
            if write.send(Message::text(frame)).await.is_err() {
                break;
            }
        }
    };
    tokio::spawn(writer);
    let pong = tx.clone();
    let closing = Arc::new(AtomicBool::new(false));
    let closed_by_us = closing.clone();
    tokio::spawn(async move {
        let mut last = 0;
        while let Some(Ok(msg)) = read.next().await {
            if let Message::Close(frame) = &msg
                && !closed_by_us.load(Ordering::Relaxed)
            {
                let why = frame.as_ref().map_or("no close frame".to_owned(), |f| {
                    format!("{} {}", u16::from(f.code), f.reason)
                });
                if let Ok(mut m) = CLOSE_REASONS.lock() {
                    *m.entry(why).or_default() += 1;
                }
            }
            let Message::Text(text) = msg else { continue };
            let text = text.as_str();
            if let Some(ns) = scheduled_in(text) {
                if let Some(sink) = &sink {
                    sink.delivered(ns);
                    if ns < last {
                        sink.reordered();
                    }
                    last = last.max(ns);
                }
                continue;
            }
            if let Some(answer) = heartbeat_answer(protocol, text) {
                let _ = pong.send(Out::Raw(answer));
            }
        }
        if !closed_by_us.load(Ordering::Relaxed) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    });
    Ok(Conn { tx, closing })
}

fn chat_frame(protocol: Protocol, channel: &str, seq: u64, ns: u64) -> String {
    let text = payload(ns);
    match protocol {
        Protocol::Relay => text,
        Protocol::Livehelp => {
            json!({"type": "chat.send", "cmid": format!("c{seq}"), "text": text}).to_string()
        }
        Protocol::SocketIo => format!("42[\"msg\",\"{text}\"]"),
        Protocol::Pusher => {
            json!({"event": "client-msg", "channel": channel, "data": text}).to_string()
        }
        Protocol::MirrorUser => {
            // One rrweb batch: a text mutation carrying the payload, padded to 2 KB.
            let mut text = text;
            text.extend(std::iter::repeat_n('x', MIRROR_BATCH_BYTES - 120));
            json!({"type": "mirror.events", "events": [{"type": 3, "timestamp": 0, "data": {"source": 0, "texts": [{"id": 7, "value": text}], "attributes": [], "removes": [], "adds": []}}]}).to_string()
        }
        Protocol::MirrorOperator => json!({
            "type": "mirror.input", "session": channel,
            "action": {"kind": "input", "id": 42, "value": text}
        })
        .to_string(),
    }
}

/// Socket.IO's server pings with "2" and wants "3"; Pusher's with `pusher:ping`.
/// livehelp and the relay use WebSocket pings, which tungstenite answers by itself.
fn heartbeat_answer(protocol: Protocol, text: &str) -> Option<String> {
    match protocol {
        Protocol::SocketIo if text == "2" => Some("3".to_owned()),
        Protocol::Pusher if text.contains("\"pusher:ping\"") => {
            Some(r#"{"event":"pusher:pong","data":{}}"#.to_owned())
        }
        _ => None,
    }
}

/// Opens the socket and joins the room; returns the socket and the channel name to send on.
async fn handshake(
    node: &Node,
    room: &str,
    member: &str,
    join: Join,
) -> anyhow::Result<(Ws, String)> {
    let port = node.port;
    match node.protocol {
        Protocol::Relay => {
            let url = format!("ws://127.0.0.1:{port}/ws?room={room}");
            let ws = open(url).await?;
            Ok((ws, room.to_owned()))
        }
        Protocol::Livehelp => {
            let token = crate::livehelp::user_token(member, room);
            let mut ws = livehelp_socket(port, "/chat/ws", &token).await?;
            if join == Join::Idle {
                return Ok((ws, room.to_owned()));
            }
            send_json(&mut ws, json!({"type": "chat.open"})).await?;
            send_json(&mut ws, json!({"type": "chat.activate"})).await?;
            next_json_where(&mut ws, |v| {
                v["type"] == "chat.state" && v["active"] == true
            })
            .await?;
            Ok((ws, room.to_owned()))
        }
        Protocol::MirrorUser | Protocol::MirrorOperator => {
            let token = if node.protocol == Protocol::MirrorUser {
                crate::livehelp::user_token(member, room)
            } else {
                crate::livehelp::operator_token(member)
            };
            let mut ws = livehelp_socket(port, "/mirror/ws", &token).await?;
            if node.protocol == Protocol::MirrorOperator && join == Join::Chat {
                send_json(
                    &mut ws,
                    json!({"type": "mirror.observe", "session": room, "on": true}),
                )
                .await?;
                send_json(
                    &mut ws,
                    json!({"type": "mirror.control", "session": room, "on": true}),
                )
                .await?;
                next_json_where(&mut ws, |v| {
                    v["type"] == "mirror.control" && v["controller"]["id"] == member
                })
                .await?;
            }
            Ok((ws, room.to_owned()))
        }
        Protocol::SocketIo => {
            let url =
                format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket&room={room}");
            let mut ws = open(url).await?;
            next_text_where(&mut ws, |t| t.starts_with('0')).await?;
            ws.send(Message::text("40")).await?;
            next_text_where(&mut ws, |t| t.starts_with("40")).await?;
            next_text_where(&mut ws, |t| t.starts_with("42[\"joined\"")).await?;
            Ok((ws, room.to_owned()))
        }
        Protocol::Pusher => {
            let url = format!(
                "ws://127.0.0.1:{port}/app/{}?protocol=7&client=livehelp-bench&version=1.0",
                crate::systems::PUSHER_KEY
            );
            let mut ws = open(url).await?;
            let established =
                next_json_where(&mut ws, |v| v["event"] == "pusher:connection_established").await?;
            let data: Value = match &established["data"] {
                Value::String(s) => serde_json::from_str(s)?,
                other => other.clone(),
            };
            let socket_id = data["socket_id"]
                .as_str()
                .context("connection_established without a socket_id")?
                .to_owned();
            let channel = format!("private-{room}");
            let auth = crate::systems::pusher_auth(&socket_id, &channel);
            send_json(
                &mut ws,
                json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth}}),
            )
            .await?;
            next_json_where(&mut ws, |v| {
                v["event"] == "pusher_internal:subscription_succeeded"
            })
            .await?;
            Ok((ws, channel))
        }
    }
}

/// Opens a WebSocket as browsers do, with Nagle's algorithm off, and with a small read
/// buffer: tungstenite zeroes the free part of its buffer (128 KiB by default) before every
/// read, which had made that `memset` a tenth of the generator's CPU.
async fn open(request: impl IntoClientRequest + Unpin) -> anyhow::Result<Ws> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    Ok(ws)
}

/// A livehelp socket as a browser opens it (the token as a `bearer.` subprotocol), once the
/// server said `hello`.
async fn livehelp_socket(port: u16, path: &str, token: &str) -> anyhow::Result<Ws> {
    let mut request = format!("ws://127.0.0.1:{port}{path}").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        format!("livehelp.v1, bearer.{token}").parse()?,
    );
    let mut ws = open(request).await?;
    next_json_where(&mut ws, |v| v["type"] == "hello").await?;
    Ok(ws)
}

async fn send_json(ws: &mut Ws, v: Value) -> anyhow::Result<()> {
    ws.send(Message::text(v.to_string())).await?;
    Ok(())
}

async fn next_text_where(ws: &mut Ws, want: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => {
                let t = t.as_str();
                if want(t) {
                    return Ok(t.to_owned());
                }
                if t.contains("\"error\"") && !t.contains("pusher") {
                    bail!("server said: {t}");
                }
            }
            Message::Close(Some(frame)) => bail!(
                "the server closed the socket during the handshake: {} {}",
                u16::from(frame.code),
                frame.reason
            ),
            _ => {}
        }
    }
    bail!("the server closed the socket during the handshake")
}

async fn next_json_where(ws: &mut Ws, want: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    loop {
        let text = next_text_where(ws, |_| true).await?;
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if want(&v) {
            return Ok(v);
        }
        if v["event"] == "pusher:error" || v["event"] == "pusher:subscription_error" {
            bail!("server said: {text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_found_in_every_protocols_frame() {
        let p = payload(123_456);
        assert_eq!(p.len(), PAYLOAD_BYTES);
        for protocol in [
            Protocol::Relay,
            Protocol::Livehelp,
            Protocol::SocketIo,
            Protocol::Pusher,
            Protocol::MirrorUser,
            Protocol::MirrorOperator,
        ] {
            assert_eq!(
                scheduled_in(&chat_frame(protocol, "private-r", 1, 123_456)),
                Some(123_456)
            );
        }
    }
}
