//! The chat path's floor: a minimal actix-ws relay over Redis, the "bare relay" the
//! benchmark compares livehelp with. It reads a text frame, PUBLISHes it on the room's
//! channel, and one PSUBSCRIBE per process writes every published frame to the room's local
//! sockets (the sender's included, as livehelp echoes a sender's own messages). Nothing
//! else: no auth, no storage, no heartbeat of its own, one worker.
//!
//! `relay <port> <redis-url>`; clients connect to `ws://127.0.0.1:<port>/ws?room=<room>`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::{Message, Session};
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use tokio::sync::OnceCell;

const CHANNEL_PREFIX: &str = "relay.";

type Rooms = HashMap<String, Vec<(u64, Session)>>;

static ROOMS: LazyLock<Mutex<Rooms>> = LazyLock::new(|| Mutex::new(HashMap::new()));
static PUBLISHER: OnceCell<MultiplexedConnection> = OnceCell::const_new();
static SUBSCRIBED: OnceCell<()> = OnceCell::const_new();
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

struct Config {
    redis: redis::Client,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: relay <port> <redis-url>"))?
        .parse()?;
    let redis_url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: relay <port> <redis-url>"))?;
    let redis = redis::Client::open(redis_url)?;
    let config = web::Data::new(Config { redis });
    HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .route("/ws", web::get().to(ws))
            .route("/readyz", web::get().to(HttpResponse::Ok))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await?;
    Ok(())
}

/// The Redis connections are made by the first socket, so that their I/O runs on the
/// worker's thread (cheaper than a hop to another thread).
async fn redis_ready(config: &Config) -> anyhow::Result<MultiplexedConnection> {
    SUBSCRIBED
        .get_or_try_init(|| async {
            let mut pubsub = config.redis.get_async_pubsub().await?;
            pubsub.psubscribe(format!("{CHANNEL_PREFIX}*")).await?;
            actix_rt::spawn(async move {
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    deliver(msg).await;
                }
            });
            anyhow::Ok(())
        })
        .await?;
    let publisher = PUBLISHER
        .get_or_try_init(|| config.redis.get_multiplexed_async_connection())
        .await?;
    Ok(publisher.clone())
}

async fn deliver(msg: redis::Msg) {
    let channel = msg.get_channel_name();
    let Some(room) = channel.strip_prefix(CHANNEL_PREFIX) else {
        return;
    };
    let Ok(text) = String::from_utf8(msg.get_payload_bytes().to_vec()) else {
        return;
    };
    let sessions: Vec<Session> = match ROOMS.lock() {
        Ok(rooms) => rooms
            .get(room)
            .map(|members| members.iter().map(|(_, s)| s.clone()).collect())
            .unwrap_or_default(),
        Err(_) => return,
    };
    for mut session in sessions {
        let _ = session.text(text.clone()).await;
    }
}

async fn ws(
    req: HttpRequest,
    body: web::Payload,
    config: web::Data<Config>,
) -> actix_web::Result<HttpResponse> {
    let room = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("room").cloned())
        .unwrap_or_default();
    let mut publisher = redis_ready(&config)
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut rooms) = ROOMS.lock() {
        rooms
            .entry(room.clone())
            .or_default()
            .push((id, session.clone()));
    }
    let channel = format!("{CHANNEL_PREFIX}{room}");
    actix_rt::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Text(text) => {
                    let _: Result<(), _> = redis::cmd("PUBLISH")
                        .arg(&channel)
                        .arg(text.as_bytes().as_ref())
                        .query_async(&mut publisher)
                        .await;
                }
                Message::Ping(bytes) => {
                    let _ = session.pong(&bytes).await;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        if let Ok(mut rooms) = ROOMS.lock()
            && let Some(members) = rooms.get_mut(&room)
        {
            members.retain(|(member, _)| *member != id);
            if members.is_empty() {
                rooms.remove(&room);
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}
