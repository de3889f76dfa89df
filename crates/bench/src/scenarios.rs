//! The scenarios of issue 8, each against one running system.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::client::{self, Conn, Join, Out, Sink};
use crate::load::{self, Recorder, RunResult, Timing};
use crate::systems::{Kind, Running};

/// Connections opened at once while setting up.
const CONNECT_CONCURRENCY: usize = 32;

/// Rooms of connected clients: the first member of each room sends (on node A), the others
/// receive (alternating B, A, B, ...; a pair's receiver is on B).
#[derive(Debug)]
pub struct Rooms {
    pub senders: Vec<UnboundedSender<Out>>,
    conns: Vec<Conn>,
}

impl Rooms {
    pub fn close(self) {
        for c in self.conns {
            c.close();
        }
    }
}

fn tag() -> String {
    format!("{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// Opens `rooms` rooms of `members` members each.
pub async fn open_rooms(
    sys: &Running,
    rooms: usize,
    members: usize,
    recorder: &Arc<Recorder>,
) -> anyhow::Result<Rooms> {
    let tag = tag();
    let names: Vec<String> = (0..rooms).map(|r| format!("b{tag}r{r}")).collect();
    if sys.kind == Kind::Livehelp {
        let http = reqwest::Client::new();
        for name in &names {
            crate::livehelp::open_peer_session(&http, sys.nodes[0].port, name).await?;
        }
    }
    let mut jobs = Vec::new();
    for name in &names {
        // Receivers first, so that no sender's message is sent before its room is whole.
        for m in (1..members).chain([0]) {
            let node = if m % 2 == 1 {
                sys.nodes[1]
            } else {
                sys.nodes[0]
            };
            let sink: Option<Arc<dyn Sink>> = if m == 0 { None } else { Some(recorder.clone()) };
            jobs.push((name.clone(), m, node, sink));
        }
    }
    let results: Vec<anyhow::Result<(usize, Conn)>> = futures_util::stream::iter(jobs)
        .map(|(name, m, node, sink)| async move {
            let conn = client::connect(&node, &name, &format!("m{m}"), Join::Chat, sink).await?;
            Ok((m, conn))
        })
        .buffered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let mut senders = Vec::new();
    let mut conns = Vec::new();
    for r in results {
        let (m, conn) = r?;
        if m == 0 {
            senders.push(conn.tx.clone());
        }
        conns.push(conn);
    }
    // Subscriptions through Redis are asynchronous in some systems: let them land.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    Ok(Rooms { senders, conns })
}

/// Scenario 1's outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Chat {
    pub runs: Vec<RunResult>,
    /// Redis's pub/sub clients with every pair connected.
    pub redis_pubsub: String,
    pub redis_output_buffer_disconnections: usize,
}

/// Scenario 1: the offered rates, `runs` times each, over `pairs` user→operator pairs.
pub async fn chat_rates(
    sys: &mut Running,
    pairs: usize,
    rates: &[u64],
    runs: usize,
    timing: Timing,
) -> anyhow::Result<Chat> {
    let recorder = Recorder::new(Instant::now());
    let mut rooms = open_rooms(sys, pairs, 2, &recorder).await?;
    let redis_pubsub = sys.redis_pubsub();
    eprintln!("  Redis pub/sub: {redis_pubsub}");
    let mut out = Vec::new();
    for &rate in rates {
        for run in 0..runs {
            let cpu = || sys.cpu();
            let r = load::run(&recorder, &rooms.senders, 1, rate, timing, &cpu).await;
            if r.dropped > 0 {
                // The server closed sockets (a slow consumer, say): start the next run on
                // fresh ones rather than measure dead pairs.
                eprintln!(
                    "  {} closed {} connections: reconnecting",
                    sys.kind.name(),
                    r.dropped
                );
                rooms.close();
                tokio::time::sleep(Duration::from_secs(2)).await;
                rooms = open_rooms(sys, pairs, 2, &recorder).await?;
            }
            eprintln!(
                "  {} {rate}/s run {}: p50 {:.2} ms p99 {:.2} ms p99.9 {:.2} ms lost {} of {} (servers {:.2} s, redis {:.2} s, client {:.2} s CPU)",
                sys.kind.name(),
                run + 1,
                r.p50_ms,
                r.p99_ms,
                r.p999_ms,
                r.lost(),
                r.expected,
                r.server_cpu_s,
                r.redis_cpu_s,
                r.client_cpu_s
            );
            out.push(r);
            sys.check_alive()?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    rooms.close();
    Ok(Chat {
        runs: out,
        redis_pubsub,
        redis_output_buffer_disconnections: sys.redis_output_buffer_disconnections(),
    })
}

/// Scenario 2's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Saturation {
    /// The highest probed rate with p99 under 100 ms and no loss over 0.1%.
    pub highest_ok: Option<u64>,
    /// The lowest probed rate that failed.
    pub lowest_failed: Option<u64>,
    pub probes: Vec<RunResult>,
}

/// Scenario 2: ×1.5 steps from `start` until a rate fails (or `max`), then two bisections,
/// `max_probes` probes at most.
pub async fn saturation(
    sys: &mut Running,
    pairs: usize,
    (start, max): (u64, u64),
    max_probes: usize,
    timing: Timing,
) -> anyhow::Result<Saturation> {
    let recorder = Recorder::new(Instant::now());
    let mut rooms = open_rooms(sys, pairs, 2, &recorder).await?;
    let mut probes = Vec::new();
    let (mut ok, mut failed) = (None::<u64>, None::<u64>);
    let mut rate = start;
    let mut bisections = 0;
    loop {
        let cpu = || sys.cpu();
        let r = load::run(&recorder, &rooms.senders, 1, rate, timing, &cpu).await;
        let saturated = r.saturated();
        eprintln!(
            "  {} probe {rate}/s: p99 {:.2} ms lost {} of {} → {}",
            sys.kind.name(),
            r.p99_ms,
            r.lost(),
            r.expected,
            if saturated { "saturated" } else { "ok" }
        );
        probes.push(r);
        if saturated {
            failed = Some(failed.map_or(rate, |f| f.min(rate)));
        } else {
            ok = Some(ok.map_or(rate, |o| o.max(rate)));
        }
        // Let a saturated system drain its queues before the next probe, on fresh
        // sockets if it closed some.
        let dropped = probes.last().is_some_and(|p| p.dropped > 0);
        tokio::time::sleep(Duration::from_secs(if saturated { 3 } else { 1 })).await;
        if !sys_alive(sys) {
            break;
        }
        if dropped {
            rooms.close();
            rooms = match open_rooms(sys, pairs, 2, &recorder).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("  reconnecting failed: {e:#}");
                    return Ok(Saturation {
                        highest_ok: ok,
                        lowest_failed: failed,
                        probes,
                    });
                }
            };
        }
        if probes.len() >= max_probes {
            break;
        }
        rate = match (ok, failed) {
            (_, None) if rate >= max => break,
            (_, None) => (rate * 3 / 2).min(max),
            (None, Some(f)) if f <= start / 4 => break,
            (None, Some(f)) => f / 2,
            (Some(o), Some(f)) => {
                if bisections >= 2 || f - o <= o / 10 {
                    break;
                }
                bisections += 1;
                (o + f) / 2
            }
        };
    }
    rooms.close();
    Ok(Saturation {
        highest_ok: ok,
        lowest_failed: failed,
        probes,
    })
}

fn sys_alive(sys: &mut Running) -> bool {
    match sys.check_alive() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("  {e}");
            false
        }
    }
}

/// Scenario 3's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Idle {
    pub connections: usize,
    /// Least-squares slope of node A's RSS over the connection count while ramping.
    pub bytes_per_connection: f64,
    pub handshakes_per_second: f64,
    pub rss_before_bytes: u64,
    pub rss_after_bytes: u64,
    /// (connections, RSS bytes) samples.
    pub samples: Vec<(usize, u64)>,
    pub failed: usize,
}

/// Scenario 3: ramps `total` idle connections onto node A (each its own room or session)
/// in ten steps, sampling RSS after each; heartbeats stay on (clients answer them).
pub async fn idle(sys: &Running, total: usize) -> anyhow::Result<Idle> {
    let node = sys.nodes[0];
    let server = &sys.servers[0];
    let tag = tag();
    let steps = 10;
    let mut samples = vec![(0, server.rss_bytes())];
    let mut conns = Vec::new();
    let mut failed = 0;
    let mut connect_time = Duration::ZERO;
    for step in 0..steps {
        let range = (step * total / steps)..((step + 1) * total / steps);
        let started = Instant::now();
        let results: Vec<anyhow::Result<Conn>> =
            futures_util::stream::iter(range)
                .map(|i| {
                    let room = format!("i{tag}s{i}");
                    async move {
                        client::connect(&node, &room, &format!("u{i}"), Join::Idle, None).await
                    }
                })
                .buffer_unordered(CONNECT_CONCURRENCY)
                .collect()
                .await;
        connect_time += started.elapsed();
        for r in results {
            match r {
                Ok(c) => conns.push(c),
                Err(e) => {
                    if failed == 0 {
                        eprintln!("  {}: a connection failed: {e:#}", sys.kind.name());
                    }
                    failed += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        samples.push((conns.len(), server.rss_bytes()));
    }
    // Heartbeats on: hold them a little, then take the last sample.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = server.rss_bytes();
    let n = conns.len();
    for c in conns {
        c.close();
    }
    Ok(Idle {
        connections: n,
        bytes_per_connection: slope(&samples),
        handshakes_per_second: n as f64 / connect_time.as_secs_f64().max(1e-9),
        rss_before_bytes: samples[0].1,
        rss_after_bytes: rss_after,
        samples,
        failed,
    })
}

fn slope(samples: &[(usize, u64)]) -> f64 {
    let n = samples.len() as f64;
    let mx = samples.iter().map(|s| s.0 as f64).sum::<f64>() / n;
    let my = samples.iter().map(|s| s.1 as f64).sum::<f64>() / n;
    let cov: f64 = samples
        .iter()
        .map(|s| (s.0 as f64 - mx) * (s.1 as f64 - my))
        .sum();
    let var: f64 = samples.iter().map(|s| (s.0 as f64 - mx).powi(2)).sum();
    if var == 0.0 { f64::NAN } else { cov / var }
}

/// Scenario 4's outcome for one room size.
#[derive(Debug, Clone, Serialize)]
pub struct FanOut {
    pub members: usize,
    pub setup_seconds: f64,
    pub run: Option<RunResult>,
    pub error: Option<String>,
}

/// Scenario 4: one room of `members`, one sender on node A at `rate` messages a second,
/// the other members split over both nodes.
pub async fn fan_out(sys: &mut Running, members: usize, rate: u64, timing: Timing) -> FanOut {
    let recorder = Recorder::new(Instant::now());
    let started = Instant::now();
    let rooms = match open_rooms(sys, 1, members, &recorder).await {
        Ok(r) => r,
        Err(e) => {
            return FanOut {
                members,
                setup_seconds: started.elapsed().as_secs_f64(),
                run: None,
                error: Some(format!("{e:#}")),
            };
        }
    };
    let setup_seconds = started.elapsed().as_secs_f64();
    let cpu = || sys.cpu();
    let r = load::run(
        &recorder,
        &rooms.senders,
        members as u64 - 1,
        rate,
        timing,
        &cpu,
    )
    .await;
    eprintln!(
        "  {} fan-out {members} members at {rate}/s: p50 {:.2} ms p99 {:.2} ms lost {} of {}",
        sys.kind.name(),
        r.p50_ms,
        r.p99_ms,
        r.lost(),
        r.expected
    );
    rooms.close();
    tokio::time::sleep(Duration::from_secs(1)).await;
    FanOut {
        members,
        setup_seconds,
        run: Some(r),
        error: None,
    }
}

/// Scenario 5's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Mirror {
    pub sessions: usize,
    pub batches_per_second_each: u64,
    pub inputs_per_second_each: u64,
    /// User → observer batches.
    pub events: RunResult,
    /// Operator → user control input.
    pub inputs: RunResult,
}

/// Scenario 5: `sessions` users on node A each stream 2 KB batches to an operator on node
/// B who observes and controls the screen and sends input back.
pub async fn mirror(
    sys: &mut Running,
    sessions: usize,
    batches_each: u64,
    inputs_each: u64,
    timing: Timing,
) -> anyhow::Result<Mirror> {
    let settings = livehelp_testkit::test_settings(
        &format!("redis://127.0.0.1:{}", sys.redis_port),
        Some(&sys.prefix),
    );
    let bus = livehelp_testkit::test_bus(&settings);
    let tag = tag();
    let names: Vec<String> = (0..sessions).map(|i| format!("m{tag}s{i}")).collect();
    for name in &names {
        let patch: livehelp_protocol::StatusPatch =
            serde_json::from_value(serde_json::json!({"availability": "available"}))?;
        bus.update_status(&livehelp_protocol::SessionId::parse(name.clone())?, patch)
            .await?;
    }
    let events = Recorder::new(Instant::now());
    let inputs = Recorder::new(events.base());
    let (user_node, operator_node) = (sys.nodes[0], sys.nodes[1]);
    let connect_all = |node, who: &'static str, sink: Arc<Recorder>| {
        let names = names.clone();
        async move {
            let conns: Vec<anyhow::Result<Conn>> = futures_util::stream::iter(names)
                .enumerate()
                .map(|(i, name)| {
                    let sink: Arc<dyn Sink> = sink.clone();
                    async move {
                        client::connect(&node, &name, &format!("{who}{i}"), Join::Chat, Some(sink))
                            .await
                    }
                })
                .buffered(CONNECT_CONCURRENCY)
                .collect()
                .await;
            conns.into_iter().collect::<anyhow::Result<Vec<Conn>>>()
        }
    };
    let users = connect_all(user_node, "u", inputs.clone()).await?;
    let operators = connect_all(operator_node, "o", events.clone()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let user_tx: Vec<_> = users.iter().map(|c| c.tx.clone()).collect();
    let operator_tx: Vec<_> = operators.iter().map(|c| c.tx.clone()).collect();
    let cpu = || sys.cpu();
    let no_cpu = || (0.0, 0.0);
    let n = sessions as u64;
    let (events_run, inputs_run) = tokio::join!(
        load::run(&events, &user_tx, 1, n * batches_each, timing, &cpu),
        load::run(&inputs, &operator_tx, 1, n * inputs_each, timing, &no_cpu),
    );
    eprintln!(
        "  mirror {sessions} sessions: batches p50 {:.2} ms p99 {:.2} ms lost {} reordered {}; input p99 {:.2} ms lost {}",
        events_run.p50_ms,
        events_run.p99_ms,
        events_run.lost(),
        events_run.reordered,
        inputs_run.p99_ms,
        inputs_run.lost()
    );
    for c in users.into_iter().chain(operators) {
        c.close();
    }
    Ok(Mirror {
        sessions,
        batches_per_second_each: batches_each,
        inputs_per_second_each: inputs_each,
        events: events_run,
        inputs: inputs_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line() {
        let s = [(0, 100), (10, 300), (20, 500)];
        assert!((slope(&s) - 20.0).abs() < 1e-9);
    }
}
