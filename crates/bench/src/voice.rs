//! Scenario 7: Twilio's "a call comes in" webhook (`POST /voice/incoming`) under oha, every
//! request signed as Twilio signs it and checked by voice-forwarder before it touches Redis.
//!
//! oha sends one body again and again, so every request carries the same CallSid: after
//! `voice.max_attempts` prompts the service answers "Goodbye" — the same signature check
//! and one Redis round trip per request as a new call, a slightly shorter answer.

use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::systems::{self, Paths};

const AUTH_TOKEN: &str = "bench-twilio-auth-token";
const PUBLIC_BASE: &str = "https://help.example.org";

/// What oha saw.
#[derive(Debug, Clone, Serialize)]
pub struct Voice {
    pub seconds: u64,
    pub connections: u32,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// HTTP status → count.
    pub statuses: Vec<(String, u64)>,
    pub server_cpu_s: f64,
    pub redis_cpu_s: f64,
}

/// Starts a Redis and one voice-forwarder, and runs oha against it for `seconds`.
pub fn run(paths: &Paths, seconds: u64, connections: u32) -> anyhow::Result<Voice> {
    let (dir, redis, redis_port) = systems::start_redis("voice")?;
    let port = livehelp_testkit::free_port();
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let mut env = crate::livehelp::env(&redis_url, &livehelp_testkit::fresh_prefix(), port);
    env.extend(
        [
            ("LIVEHELP__VOICE__ENABLED", "true"),
            (
                "LIVEHELP__VOICE__ACCOUNT_SID",
                "AC0123456789abcdef0123456789abcdef",
            ),
            ("LIVEHELP__VOICE__AUTH_TOKEN", AUTH_TOKEN),
            ("LIVEHELP__VOICE__NUMBER", "+12025550123"),
            ("LIVEHELP__VOICE__PUBLIC_BASE_URL", PUBLIC_BASE),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut server = systems::spawn(
        "voice-forwarder",
        Command::new(paths.target.join("voice-forwarder")).envs(env),
        &dir.0,
    )?;
    systems::wait_for_port(&mut server, port, &dir.0)?;
    std::thread::sleep(Duration::from_millis(300));

    let params = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+14158675309"),
        ("To", "+12025550123"),
    ];
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // The service's own signing function: what it checks is what we sign.
    let signature = voice_forwarder::signature::compute(
        AUTH_TOKEN.as_bytes(),
        &format!("{PUBLIC_BASE}/voice/incoming"),
        &owned,
    );
    let body: String = form_body(&params);
    let (server0, redis0) = (server.cpu_seconds(), redis.cpu_seconds());
    let oha = Command::new("oha")
        .args(["--no-tui", "--output-format", "json"])
        .args(["-z", &format!("{seconds}s"), "-c", &connections.to_string()])
        .args(["-m", "POST"])
        .args(["-H", &format!("X-Twilio-Signature: {signature}")])
        .args(["-T", "application/x-www-form-urlencoded"])
        .args(["-d", &body])
        .arg(format!("http://127.0.0.1:{port}/voice/incoming"))
        .output()
        .context("running oha (bench/run installs it into .tools/bin)")?;
    let (server1, redis1) = (server.cpu_seconds(), redis.cpu_seconds());
    anyhow::ensure!(
        oha.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&oha.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&oha.stdout).context("oha's JSON report")?;
    let pct = |p: &str| report["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    let statuses = report["statusCodeDistribution"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    drop(server);
    drop(redis);
    Ok(Voice {
        seconds,
        connections,
        requests_per_second: report["summary"]["requestsPerSec"]
            .as_f64()
            .unwrap_or(f64::NAN),
        p50_ms: pct("p50"),
        p99_ms: pct("p99"),
        p999_ms: pct("p99.9"),
        statuses,
        server_cpu_s: server1 - server0,
        redis_cpu_s: redis1 - redis0,
    })
}

fn form_body(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
        .collect::<Vec<_>>()
        .join("&")
}
