//! How long a change to a session takes to reach every open monitor, with thousands of
//! sessions listed and dozens of monitors open on two session-monitor instances, all on one
//! private Redis. Prints a table and writes it to docs/benchmarks.md.
//!
//!     cargo run --release -p livehelp-bench --bin monitor_lag -- [sessions] [monitors] [changes] [rate/s]

// A benchmark reports on standard output: that is what it is for.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use livehelp_bus::{Bus, Keyspace};
use livehelp_protocol::{SessionId, StatusPatch, UserId};
use livehelp_testkit::{Identities, RedisServer, WsClient, fresh_prefix, repo_root, test_settings};
use secrecy::ExposeSecret;
use serde_json::json;

/// A change waiting to be seen: the status every monitor must show, since when, by how many
/// monitors still.
struct Pending {
    status: &'static str,
    at: Instant,
    remaining: usize,
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let (sessions, monitors, changes, rate) = (arg(1, 2000), arg(2, 50), arg(3, 2000), arg(4, 200));
    let redis = RedisServer::start()?;
    let prefix = fresh_prefix();
    let settings = test_settings(&redis.url(), Some(&prefix));
    let mut ports = Vec::new();
    for _ in 0..2 {
        let app = session_monitor::Application::build(settings.clone()).await?;
        ports.push(app.port());
        actix_web::rt::spawn(app.run_until_stopped());
    }
    let bus = Bus::connect(
        settings.redis.url.expose_secret(),
        Keyspace::new(prefix),
        16,
        Duration::from_secs(5),
    )?;

    eprintln!("seeding {sessions} sessions…");
    let patch = || -> StatusPatch {
        serde_json::from_value(json!({"availability": "available", "mode": "help", "partner_roles": "advocate", "title": "Bench"}))
            .expect("a valid patch")
    };
    let mut connected = vec![true; sessions];
    for i in 0..sessions {
        let s = SessionId::parse(format!("b{i}"))?;
        bus.update_status(&s, patch()).await?;
        bus.user_connected(&s, &UserId::parse(format!("u{i}"))?, "c", None, 3_600_000)
            .await?;
    }

    let pending: Arc<Mutex<HashMap<String, Pending>>> = Arc::default();
    let lags = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let ids = Identities::default();
    eprintln!("opening {monitors} monitors…");
    for m in 0..monitors {
        let url = format!("ws://127.0.0.1:{}/monitor/ws", ports[m % ports.len()]);
        let mut ws = WsClient::connect(&url, Some(&ids.operator(&format!("o{m}"), None)))
            .await
            .map_err(|s| anyhow::anyhow!("monitor refused: {s}"))?;
        let (pending, lags) = (pending.clone(), lags.clone());
        actix_web::rt::spawn(async move {
            while let Ok(frame) = ws.next_frame_or_close().await {
                if frame["type"] != "session" {
                    continue;
                }
                let now = Instant::now();
                let row = &frame["session"];
                let (Some(id), Some(status)) = (row["session"].as_str(), row["status"].as_str())
                else {
                    continue;
                };
                let mut pending = pending.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(p) = pending.get_mut(id).filter(|p| p.status == status) {
                    let micros = now.duration_since(p.at).as_micros() as u64;
                    let _ = lags
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(micros);
                    p.remaining -= 1;
                    if p.remaining == 0 {
                        pending.remove(id);
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    eprintln!("{changes} changes at {rate}/s…");
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    for k in 0..changes {
        let due = started + every * k as u32;
        tokio::time::sleep_until(due.into()).await;
        let i = (k * 7919) % sessions;
        if pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&format!("b{i}"))
        {
            continue;
        }
        let s = SessionId::parse(format!("b{i}"))?;
        let u = UserId::parse(format!("u{i}"))?;
        let status = if connected[i] { "offline" } else { "waiting" };
        pending.lock().unwrap_or_else(|p| p.into_inner()).insert(
            s.to_string(),
            Pending {
                status,
                at: Instant::now(),
                remaining: monitors,
            },
        );
        if connected[i] {
            bus.user_disconnected(&s, &u, "c").await?;
        } else {
            bus.user_connected(&s, &u, "c", None, 3_600_000).await?;
        }
        connected[i] = !connected[i];
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !pending.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let missed: usize = pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .map(|p| p.remaining)
        .sum();
    let h = lags.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let table = format!(
        "Machine: {}. Redis {}; two session-monitor instances ({} build), one \
         private Redis, {sessions} listed sessions, {monitors} open monitors, {changes} user \
         arrivals/departures at {rate}/s. Lag: from the Redis write of the change to each \
         monitor receiving the changed row.\n\n\
         | deliveries | p50 | p90 | p99 | max | missed |\n|---|---|---|---|---|---|\n\
         | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {missed} |\n\n\
         Rerun: `cargo run --release -p livehelp-bench --bin monitor_lag -- {sessions} {monitors} {changes} {rate}`\n",
        livehelp_bench::machine(),
        redis_version(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        h.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        h.max() as f64 / 1000.0,
    );
    println!("{table}");
    livehelp_bench::write_section(&repo_root(), "Monitor list update lag", &table)?;
    Ok(())
}

fn redis_version() -> String {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            v.split_whitespace()
                .find(|w| w.starts_with("v="))
                .map(|w| w[2..].to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}
