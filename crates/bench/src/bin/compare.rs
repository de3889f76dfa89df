//! livehelp side by side with its peers (issue 8). Started by `bench/run`, which installs
//! and builds what this needs; run it directly only with everything in place.
//!
//! Usage: see `USAGE` (`compare --help` prints it).
//!
//! Each system runs alone: its own Redis and two server processes on loopback, started
//! before its scenarios and stopped after them. Figures go to stderr as they come, then to
//! `bench/results/<time>.json` (and `latest.json`) and the "Side by side" section of
//! `docs/benchmarks.md`.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use livehelp_bench::load::Timing;
use livehelp_bench::report::{Results, SystemResults};
use livehelp_bench::scenarios;
use livehelp_bench::systems::{self, Kind, Paths};

#[derive(Debug)]
struct Options {
    quick: bool,
    systems: Vec<Kind>,
    scenarios: Vec<String>,
    runs: usize,
    rates: Vec<u64>,
    pairs: usize,
    idle: usize,
    fan_out: Vec<usize>,
    timing: Timing,
    docs: bool,
    client_threads: usize,
}

const USAGE: &str = "compare [--quick] [--systems livehelp,bare-relay,sockudo,soketi,socket.io]
        [--scenarios redis,chat,saturation,idle,fanout,voice,mirror] [--runs N] [--rates 1000,5000]
        [--pairs N] [--idle N] [--client-threads N] [--no-docs]";

const SCENARIOS: [&str; 7] = [
    "redis",
    "chat",
    "saturation",
    "idle",
    "fanout",
    "voice",
    "mirror",
];

/// The command line, or `None` when it asks for the usage. Any flag or name it does not
/// know is an error, so a typo never starts the full run.
fn options() -> anyhow::Result<Option<Options>> {
    let mut flags = std::collections::BTreeMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quick" | "--no-docs" => {
                flags.insert(arg, String::new());
            }
            "--systems" | "--scenarios" | "--runs" | "--rates" | "--pairs" | "--idle"
            | "--client-threads" => {
                let value = args
                    .next()
                    .with_context(|| format!("{arg} needs a value"))?;
                flags.insert(arg, value);
            }
            _ => anyhow::bail!("unknown argument {arg:?}; usage:\n{USAGE}"),
        }
    }
    let quick = flags.contains_key("--quick");
    let list = |name: &str| flags.get(name).map(|v| v.split(',').collect::<Vec<_>>());
    let number = |name: &str, default: usize| -> anyhow::Result<usize> {
        flags.get(name).map_or(Ok(default), |v| {
            v.parse()
                .with_context(|| format!("{name} {v:?} is not a count"))
        })
    };
    let systems = match list("--systems") {
        Some(names) => names
            .iter()
            .map(|n| Kind::parse(n).with_context(|| format!("unknown system {n}")))
            .collect::<anyhow::Result<_>>()?,
        None => Kind::ALL.to_vec(),
    };
    let scenarios = list("--scenarios").unwrap_or(SCENARIOS.to_vec());
    if let Some(unknown) = scenarios.iter().find(|s| !SCENARIOS.contains(s)) {
        anyhow::bail!(
            "unknown scenario {unknown}; scenarios: {}",
            SCENARIOS.join(",")
        );
    }
    let rates = match list("--rates") {
        Some(r) => r
            .iter()
            .map(|s| {
                s.parse()
                    .with_context(|| format!("rate {s:?} is not a number"))
            })
            .collect::<anyhow::Result<_>>()?,
        None if quick => vec![1_000, 5_000, 10_000],
        None => vec![1_000, 5_000, 10_000, 20_000, 30_000],
    };
    Ok(Some(Options {
        quick,
        systems,
        scenarios: scenarios.into_iter().map(str::to_owned).collect(),
        runs: number("--runs", if quick { 1 } else { 3 })?,
        rates,
        pairs: number("--pairs", 200)?,
        idle: number("--idle", if quick { 500 } else { 5_000 })?,
        fan_out: if quick {
            vec![100]
        } else {
            vec![10, 100, 1000]
        },
        timing: Timing {
            warmup: Duration::from_secs(1),
            measure: Duration::from_secs(if quick { 3 } else { 6 }),
            drain: Duration::from_secs(if quick { 2 } else { 5 }),
        },
        docs: !flags.contains_key("--no-docs"),
        client_threads: number("--client-threads", 1)?,
    }))
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn utc_now() -> String {
    sh("date", &["-u", "+%Y-%m-%d %H:%M:%S"])
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn versions(paths: &Paths) -> Vec<(String, String)> {
    let lock: serde_json::Value =
        std::fs::read_to_string(paths.repo.join("bench/peers/package-lock.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
    let npm = |p: &str| {
        lock["packages"][format!("node_modules/{p}")]["version"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    };
    let redis = sh("redis-server", &["--version"]);
    let redis = redis
        .split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .unwrap_or("?")
        .to_owned();
    vec![
        ("Redis".into(), redis),
        (
            "rustc".into(),
            sh("rustc", &["--version"]).replace("rustc ", ""),
        ),
        ("Node".into(), sh("node", &["--version"])),
        ("socket.io".into(), npm("socket.io")),
        (
            "@socket.io/redis-adapter".into(),
            npm("@socket.io/redis-adapter"),
        ),
        ("soketi".into(), npm("@soketi/soketi")),
        ("uWebSockets.js (soketi's)".into(), npm("uWebSockets.js")),
        ("sockudo".into(), "5.2.0".into()),
    ]
}

/// redis-benchmark PUBLISH of a 100-byte message: plain, pipelined, and pipelined with one
/// subscriber.
fn redis_publish(quick: bool) -> anyhow::Result<Vec<(String, f64)>> {
    let port = livehelp_testkit::free_port().to_string();
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(300));
    let n = if quick { "50000" } else { "300000" };
    let msg = "x".repeat(100);
    let bench = |pipeline: &str| -> f64 {
        let out = sh(
            "redis-benchmark",
            &[
                "-p", &port, "-n", n, "-c", "50", "-P", pipeline, "-q", "PUBLISH", "bench", &msg,
            ],
        );
        out.split("requests per second")
            .next()
            .and_then(|s| s.rsplit(' ').nth(1))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    let mut out = vec![
        (
            "50 clients, no pipelining, no subscriber".to_owned(),
            bench("1"),
        ),
        (
            "50 clients, pipeline 16, no subscriber".to_owned(),
            bench("16"),
        ),
    ];
    let mut sub = Command::new("redis-cli")
        .args(["-p", &port, "subscribe", "bench"])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(200));
    out.push((
        "50 clients, no pipelining, one subscriber".to_owned(),
        bench("1"),
    ));
    out.push((
        "50 clients, pipeline 16, one subscriber".to_owned(),
        bench("16"),
    ));
    let _ = sub.kill();
    let _ = sub.wait();
    let _ = server.kill();
    let _ = server.wait();
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let Some(opts) = options()? else {
        writeln!(std::io::stdout().lock(), "{USAGE}")?;
        return Ok(());
    };
    let repo = std::env::var("LIVEHELP_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|_| livehelp_testkit::repo_root());
    let target = std::env::current_exe()?
        .parent()
        .context("the binary has a directory")?
        .to_owned();
    let paths = Paths {
        repo: repo.clone(),
        target,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.client_threads)
        .enable_all()
        .build()?;
    let command = std::env::var("LIVEHELP_BENCH_COMMAND")
        .unwrap_or_else(|_| format!("bench/run{}", if opts.quick { " --quick" } else { "" }));
    let mut results = Results {
        started_utc: utc_now(),
        command,
        quick: opts.quick,
        machine: livehelp_bench::machine(),
        versions: versions(&paths),
        loadavg_start: loadavg(),
        settings: vec![
            ("pairs".into(), format!("{0} user→receiver pairs ({0} senders on node A, {0} receivers on node B)", opts.pairs)),
            ("message".into(), format!("{}-byte text", livehelp_bench::client::PAYLOAD_BYTES)),
            ("runs".into(), format!("{} s warm-up + {} s measured, {} run(s) per rate", opts.timing.warmup.as_secs(), opts.timing.measure.as_secs(), opts.runs)),
            ("generator".into(), format!("one process, tokio with {} worker thread(s) + a scheduling thread", opts.client_threads)),
            ("Redis".into(), "one private redis-server per system, appendonly yes, appendfsync everysec".into()),
            ("livehelp".into(), "two chat-gateway processes (release build, 1 worker each, as configured by default), clients straight to them (no nginx), peer-mode sessions of two users; chat rate limit and connection caps raised to 1M".into()),
            ("bare relay".into(), "crates/bench/src/bin/relay.rs: actix-ws, PUBLISH per frame, one PSUBSCRIBE per process, 1 worker".into()),
            ("socket.io".into(), "bench/peers/socketio-relay.js, websocket transport, sharded Redis adapter".into()),
            ("soketi / sockudo".into(), "Pusher protocol, private channel per pair, client events; Redis adapter (sockudo: Redis cache too, rate limiter off)".into()),
        ],
        ..Results::default()
    };
    let tried: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LIVEHELP__"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !tried.is_empty() {
        results
            .settings
            .push(("livehelp settings tried".into(), tried.join(" ")));
    }
    let redis_tried = systems::redis_args_tried();
    if !redis_tried.is_empty() {
        results
            .settings
            .push(("Redis settings tried".into(), redis_tried.join(" ")));
    }
    let wants = |s: &str| opts.scenarios.iter().any(|x| x == s);

    if wants("redis") {
        eprintln!("redis-benchmark PUBLISH");
        match redis_publish(opts.quick) {
            Ok(r) => {
                for (what, rps) in &r {
                    eprintln!("  {what}: {rps:.0}/s");
                }
                results.redis_publish = r;
            }
            Err(e) => eprintln!("  redis-benchmark failed: {e:#}"),
        }
    }

    for &kind in &opts.systems {
        let mut sr = SystemResults {
            system: kind.name().to_owned(),
            ..SystemResults::default()
        };
        if let Err(why) = paths.available(kind) {
            eprintln!("{}: skipped: {why}", kind.name());
            sr.errors.push(format!("skipped: {why}"));
            results.systems.push(sr);
            continue;
        }
        eprintln!("{}", kind.name());
        let outcome: anyhow::Result<()> = runtime.block_on(async {
            if wants("chat") {
                let mut sys = systems::start(kind, &paths)?;
                match scenarios::chat_rates(
                    &mut sys,
                    opts.pairs,
                    &opts.rates,
                    opts.runs,
                    opts.timing,
                )
                .await
                {
                    Ok(r) => {
                        sr.chat = r.runs;
                        sr.redis_pubsub = r.redis_pubsub;
                        sr.redis_output_buffer_disconnections =
                            r.redis_output_buffer_disconnections;
                    }
                    Err(e) => sr.errors.push(format!("chat: {e:#}")),
                }
            }
            if wants("saturation") {
                let mut sys = systems::start(kind, &paths)?;
                let timing = Timing {
                    measure: Duration::from_secs(if opts.quick { 2 } else { 4 }),
                    ..opts.timing
                };
                let max_probes = if opts.quick { 3 } else { 10 };
                match scenarios::saturation(
                    &mut sys,
                    opts.pairs,
                    (10_000, 120_000),
                    max_probes,
                    timing,
                )
                .await
                {
                    Ok(r) => sr.saturation = Some(r),
                    Err(e) => sr.errors.push(format!("saturation: {e:#}")),
                }
            }
            if wants("idle") {
                let sys = systems::start(kind, &paths)?;
                match scenarios::idle(&sys, opts.idle).await {
                    Ok(r) => {
                        eprintln!(
                            "  idle: {} connections, {:.0} bytes each, {:.0} handshakes/s",
                            r.connections, r.bytes_per_connection, r.handshakes_per_second
                        );
                        sr.idle = Some(r);
                    }
                    Err(e) => sr.errors.push(format!("idle: {e:#}")),
                }
            }
            if wants("fanout") {
                let mut sys = systems::start(kind, &paths)?;
                for &members in &opts.fan_out {
                    let rate = (10_000 / members as u64).clamp(5, 200);
                    let f = scenarios::fan_out(&mut sys, members, rate, opts.timing).await;
                    if let Some(e) = &f.error {
                        eprintln!("  fan-out {members}: {e}");
                        sr.errors.push(format!("fan-out {members}: {e}"));
                    }
                    sr.fan_out.push(f);
                    if sys.check_alive().is_err() {
                        sr.errors.push("a server died during fan-out".into());
                        break;
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = outcome {
            eprintln!("  {}: {e:#}", kind.name());
            sr.errors.push(format!("{e:#}"));
        }
        sr.closed_by_server = livehelp_bench::client::take_close_reasons();
        for (why, n) in &sr.closed_by_server {
            eprintln!("  the servers closed {n} sockets: {why}");
        }
        results.systems.push(sr);
    }

    if wants("voice") {
        eprintln!("voice webhook (oha)");
        match livehelp_bench::voice::run(&paths, if opts.quick { 5 } else { 10 }, 50) {
            Ok(v) => {
                eprintln!(
                    "  {:.0} requests/s, p99 {:.2} ms, statuses {:?}",
                    v.requests_per_second, v.p99_ms, v.statuses
                );
                results.voice = Some(v);
            }
            Err(e) => eprintln!("  voice: {e:#}"),
        }
    }

    if wants("mirror") {
        eprintln!("screen mirror");
        match paths.available(Kind::Mirror) {
            Err(why) => eprintln!("  skipped: {why}"),
            Ok(()) => {
                let outcome = runtime.block_on(async {
                    let mut sys = systems::start(Kind::Mirror, &paths)?;
                    scenarios::mirror(&mut sys, 200, 30, 2, opts.timing).await
                });
                match outcome {
                    Ok(m) => results.mirror = Some(m),
                    Err(e) => {
                        eprintln!("  mirror: {e:#}");
                        results.mirror_error = Some(format!("{e:#}"));
                    }
                }
            }
        }
    }

    results.finished_utc = utc_now();
    results.loadavg_end = loadavg();
    let dir = repo.join("bench/results");
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(&results)?;
    let stamp = results.started_utc.replace([' ', ':'], "-");
    std::fs::write(
        dir.join(format!(
            "{stamp}{}.json",
            if opts.quick { "-quick" } else { "" }
        )),
        &json,
    )?;
    // A partial run (`--no-docs`) leaves latest.json to the run docs/benchmarks.md shows.
    if opts.docs {
        std::fs::write(dir.join("latest.json"), &json)?;
    }
    let md = results.markdown();
    if opts.docs {
        livehelp_bench::write_section(&repo, "Side by side with the peers (issue 8)", &md)?;
        eprintln!("wrote docs/benchmarks.md and bench/results/");
    } else {
        eprintln!("{md}");
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}
