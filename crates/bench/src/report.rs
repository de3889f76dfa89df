//! The figures of one `compare` run: the raw JSON and the tables of `docs/benchmarks.md`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::RunResult;
use crate::scenarios::{FanOut, Idle, Saturation};

#[derive(Debug, Default, Serialize)]
pub struct Results {
    pub started_utc: String,
    pub finished_utc: String,
    pub command: String,
    pub quick: bool,
    pub machine: String,
    pub versions: Vec<(String, String)>,
    pub loadavg_start: String,
    pub loadavg_end: String,
    pub settings: Vec<(String, String)>,
    /// (what, requests per second) of redis-benchmark.
    pub redis_publish: Vec<(String, f64)>,
    pub systems: Vec<SystemResults>,
    pub voice: Option<crate::voice::Voice>,
    pub mirror: Option<crate::scenarios::Mirror>,
    pub mirror_error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct SystemResults {
    pub system: String,
    pub chat: Vec<RunResult>,
    pub redis_pubsub: String,
    pub redis_output_buffer_disconnections: usize,
    pub saturation: Option<Saturation>,
    pub idle: Option<Idle>,
    pub fan_out: Vec<FanOut>,
    pub errors: Vec<String>,
    /// Close frames the servers sent unasked ("code reason" → sockets).
    pub closed_by_server: Vec<(String, u64)>,
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "–".to_owned()
    } else if v.is_infinite() {
        "none delivered".to_owned()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

fn whole(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.0}")
    } else {
        "–".to_owned()
    }
}

fn joined(runs: &[&RunResult], f: impl Fn(&RunResult) -> String) -> String {
    runs.iter().map(|r| f(r)).collect::<Vec<_>>().join(" / ")
}

/// The median run; a run that delivered nothing counts as infinitely slow.
fn median(v: Vec<f64>) -> f64 {
    let mut v: Vec<f64> = v
        .into_iter()
        .map(|x| if x.is_nan() { f64::INFINITY } else { x })
        .collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

impl Results {
    fn system(&self, name: &str) -> Option<&SystemResults> {
        self.systems.iter().find(|s| s.system == name)
    }

    fn runs_at(&self, name: &str, rate: u64) -> Vec<&RunResult> {
        self.system(name)
            .map(|s| s.chat.iter().filter(|r| r.rate == rate).collect())
            .unwrap_or_default()
    }

    fn rates(&self) -> Vec<u64> {
        let mut rates: Vec<u64> = self
            .systems
            .iter()
            .flat_map(|s| s.chat.iter().map(|r| r.rate))
            .collect();
        rates.sort_unstable();
        rates.dedup();
        rates
    }

    /// The body of the "Side by side with the peers" section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let w = &mut md;
        let _ = writeln!(
            w,
            "Measured {} → {} UTC{}. Machine: {}. Load average (1/5/15 min) {} at the start, {} at the end.\n",
            self.started_utc,
            self.finished_utc,
            if self.quick { " (quick mode)" } else { "" },
            self.machine,
            self.loadavg_start,
            self.loadavg_end
        );
        let _ = writeln!(
            w,
            "**Noise.** Everything (servers, Redis, the generator) shares the machine's cores; \
             the \"others\" column is CPU the rest of the machine used during each run (other \
             people's builds when this was measured). Figures from a busy machine are noisy, \
             tails most: rerun on a quiet one with the command below and compare systems only \
             within one run.\n"
        );
        let _ = writeln!(w, "Versions: {}.\n", {
            self.versions
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let _ = writeln!(w, "Setup: {}.\n", {
            self.settings
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        });
        let _ = writeln!(
            w,
            "Rerun: `{}` (raw figures: `bench/results/latest.json`).\n",
            self.command
        );

        let rates = self.rates();
        if !rates.is_empty() {
            let _ = writeln!(
                w,
                "### Chat latency, open loop (scenario 1)\n\n\
                 User on node A → node B, open loop: sends scheduled at the offered rate with \
                 ±½-interval jitter, latency from the *scheduled* send time to delivery (no \
                 coordinated omission). Each cell lists every run (\" / \"). \"lost\": not delivered \
                 within 5 s of the run's end; \"reordered\": delivered after a message its sender \
                 sent later; \"closed\": sockets the servers closed during the \
                 run (the next run reconnects). CPU: seconds per million delivered messages, \
                 whole run; servers = both nodes.\n"
            );
            let _ = writeln!(
                w,
                "| system | offered/s | p50 ms | p99 ms | p99.9 ms | lost | reordered | closed | servers CPU s/M | Redis CPU s/M | generator CPU s | others CPU s |"
            );
            let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|---|---|");
            for &rate in &rates {
                for s in &self.systems {
                    let runs = self.runs_at(&s.system, rate);
                    if runs.is_empty() {
                        continue;
                    }
                    let _ = writeln!(
                        w,
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        s.system,
                        rate,
                        joined(&runs, |r| ms(r.p50_ms)),
                        joined(&runs, |r| ms(r.p99_ms)),
                        joined(&runs, |r| ms(r.p999_ms)),
                        joined(&runs, |r| r.lost().to_string()),
                        joined(&runs, |r| r.reordered.to_string()),
                        joined(&runs, |r| r.dropped.to_string()),
                        joined(&runs, |r| whole(r.server_cpu_per_million())),
                        joined(&runs, |r| whole(r.redis_cpu_per_million())),
                        joined(&runs, |r| format!("{:.1}", r.client_cpu_s)),
                        joined(&runs, |r| format!("{:.1}", r.others_cpu_s)),
                    );
                }
            }
            let _ = writeln!(
                w,
                "\nRedis pub/sub with every pair connected (`CLIENT LIST`), and subscribers Redis \
                 cut off for their output buffer during the runs (from its log):\n"
            );
            let _ = writeln!(
                w,
                "| system | pub/sub connections | cut off |\n|---|---|---|"
            );
            for s in self.systems.iter().filter(|s| !s.redis_pubsub.is_empty()) {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} |",
                    s.system, s.redis_pubsub, s.redis_output_buffer_disconnections
                );
            }
            let _ = writeln!(w);
        }

        if self.systems.iter().any(|s| s.saturation.is_some()) {
            let _ = writeln!(
                w,
                "### Saturation (scenario 2)\n\n\
                 The highest offered rate whose p99 stayed under 100 ms with under 0.1% lost, \
                 probing ×1.5 up from a start rate then bisecting twice (short runs: noisy; the \
                 fixed-rate table above is the steadier comparison).\n"
            );
            let _ = writeln!(
                w,
                "| system | highest ok/s | lowest failed/s | probes (rate: p99 ms) |"
            );
            let _ = writeln!(w, "|---|---|---|---|");
            for s in &self.systems {
                if let Some(sat) = &s.saturation {
                    let probes = sat
                        .probes
                        .iter()
                        .map(|p| {
                            format!(
                                "{}: {}{}",
                                p.rate,
                                ms(p.p99_ms),
                                if p.lost() * 1000 > p.expected {
                                    " (loss)"
                                } else {
                                    ""
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let _ = writeln!(
                        w,
                        "| {} | {} | {} | {} |",
                        s.system,
                        sat.highest_ok.map_or("none".into(), |r| r.to_string()),
                        sat.lowest_failed
                            .map_or("none (max probed)".into(), |r| r.to_string()),
                        probes
                    );
                }
            }
            let _ = writeln!(w);
        }

        if self.systems.iter().any(|s| s.idle.is_some()) {
            let _ = writeln!(
                w,
                "### Idle connections (scenario 3)\n\n\
                 Connections ramped onto one node in ten steps (32 handshakes in flight), each \
                 its own room or session, heartbeats answered; memory per connection is the \
                 least-squares slope of that node's RSS over the connection count.\n"
            );
            let _ = writeln!(
                w,
                "| system | connections | bytes per connection | handshakes/s | RSS before → after |"
            );
            let _ = writeln!(w, "|---|---|---|---|---|");
            for s in &self.systems {
                if let Some(i) = &s.idle {
                    let _ = writeln!(
                        w,
                        "| {} | {}{} | {:.0} ({:.1} KiB) | {:.0} | {:.1} → {:.1} MiB |",
                        s.system,
                        i.connections,
                        if i.failed > 0 {
                            format!(" ({} failed)", i.failed)
                        } else {
                            String::new()
                        },
                        i.bytes_per_connection,
                        i.bytes_per_connection / 1024.0,
                        i.handshakes_per_second,
                        i.rss_before_bytes as f64 / 1048576.0,
                        i.rss_after_bytes as f64 / 1048576.0,
                    );
                }
            }
            let _ = writeln!(w);
        }

        if self.systems.iter().any(|s| !s.fan_out.is_empty()) {
            let _ = writeln!(
                w,
                "### Fan-out (scenario 4)\n\n\
                 One room (livehelp: a peer-mode session) of N members, one sender on node A, \
                 the other members alternating between the nodes; latency per delivery from \
                 the scheduled send time.\n"
            );
            let _ = writeln!(
                w,
                "| system | members | msgs/s | deliveries/s | p50 ms | p99 ms | p99.9 ms | lost | setup s |"
            );
            let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|");
            for s in &self.systems {
                for f in &s.fan_out {
                    match &f.run {
                        Some(r) => {
                            let _ = writeln!(
                                w,
                                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
                                s.system,
                                f.members,
                                r.rate,
                                r.rate * (f.members as u64 - 1),
                                ms(r.p50_ms),
                                ms(r.p99_ms),
                                ms(r.p999_ms),
                                r.lost(),
                                f.setup_seconds
                            );
                        }
                        None => {
                            let _ = writeln!(
                                w,
                                "| {} | {} | – | – | – | – | – | – | {:.1} (failed: {}) |",
                                s.system,
                                f.members,
                                f.setup_seconds,
                                f.error.as_deref().unwrap_or("?").replace('|', "/")
                            );
                        }
                    }
                }
            }
            let _ = writeln!(w);
        }

        if let Some(m) = &self.mirror {
            let _ = writeln!(
                w,
                "### Screen mirror load (scenario 5)\n\n\
                 {} sessions on two screen-mirror processes: each user (node A) streams \
                 {}-byte `mirror.events` batches at {}/s to an operator (node B) who observes \
                 and controls the screen and sends `mirror.input` back at {}/s. Open loop, \
                 latency from the scheduled send. livehelp only.\n",
                m.sessions,
                crate::client::MIRROR_BATCH_BYTES,
                m.batches_per_second_each,
                m.inputs_per_second_each
            );
            let _ = writeln!(
                w,
                "| direction | offered/s | p50 ms | p99 ms | p99.9 ms | lost | reordered | servers CPU s/M |"
            );
            let _ = writeln!(w, "|---|---|---|---|---|---|---|---|");
            for (what, r) in [
                ("user → observer batches", &m.events),
                ("operator → user input", &m.inputs),
            ] {
                let _ = writeln!(
                    w,
                    "| {what} | {} | {} | {} | {} | {} | {} | {} |",
                    r.rate,
                    ms(r.p50_ms),
                    ms(r.p99_ms),
                    ms(r.p999_ms),
                    r.lost(),
                    r.reordered,
                    if r.server_cpu_s > 0.0 {
                        format!("{:.0} (both directions)", r.server_cpu_per_million())
                    } else {
                        "–".into()
                    }
                );
            }
            let _ = writeln!(w);
        } else if let Some(e) = &self.mirror_error {
            let _ = writeln!(
                w,
                "### Screen mirror load (scenario 5)\n\nFailed in this run: {e}\n"
            );
        }

        if let Some(v) = &self.voice {
            let _ = writeln!(
                w,
                "### Voice webhook (scenario 7)\n\n\
                 oha for {} s over {} connections at one voice-forwarder (its own Redis): \
                 `POST /voice/incoming`, each request signed as Twilio signs it \
                 (HMAC-SHA1, checked before anything is read). livehelp only: the peers have \
                 no such endpoint.\n",
                v.seconds, v.connections
            );
            let _ = writeln!(
                w,
                "| requests/s | p50 ms | p99 ms | p99.9 ms | statuses | server CPU s | Redis CPU s |"
            );
            let _ = writeln!(w, "|---|---|---|---|---|---|---|");
            let _ = writeln!(
                w,
                "| {:.0} | {} | {} | {} | {} | {:.1} | {:.1} |\n",
                v.requests_per_second,
                ms(v.p50_ms),
                ms(v.p99_ms),
                ms(v.p999_ms),
                v.statuses
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                v.server_cpu_s,
                v.redis_cpu_s
            );
        }

        if !self.redis_publish.is_empty() {
            let _ = writeln!(w, "### Redis PUBLISH floor (redis-benchmark)\n");
            let _ = writeln!(w, "| what | PUBLISH/s |\n|---|---|");
            for (what, rps) in &self.redis_publish {
                let _ = writeln!(w, "| {what} | {rps:.0} |");
            }
            let _ = writeln!(w);
        }

        let errors: Vec<String> = self
            .systems
            .iter()
            .flat_map(|s| {
                let closes = s.closed_by_server.iter().map(move |(why, n)| {
                    format!(
                        "- {}: the servers closed {n} sockets with \"{why}\"",
                        s.system
                    )
                });
                s.errors
                    .iter()
                    .map(move |e| format!("- {}: {e}", s.system))
                    .chain(closes)
            })
            .collect();
        if !errors.is_empty() {
            let _ = writeln!(
                w,
                "### Errors and sockets the servers closed in this run\n\n{}\n",
                errors.join("\n")
            );
        }

        let _ = writeln!(w, "### Against issue 8's targets (this run)\n");
        for line in self.targets() {
            let _ = writeln!(w, "- {line}");
        }
        md
    }

    /// Issue 8's bar, checked on this run's medians.
    fn targets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let med = |name: &str, rate: u64, f: fn(&RunResult) -> f64| {
            median(self.runs_at(name, rate).iter().map(|r| f(r)).collect())
        };
        let verdict = |ok: bool| if ok { "met" } else { "**not met**" };
        for rate in self.rates() {
            let lh50 = med("livehelp", rate, |r| r.p50_ms);
            for peer in ["soketi", "socket.io"] {
                let p = med(peer, rate, |r| r.p50_ms);
                if !lh50.is_nan() && !p.is_nan() {
                    out.push(format!(
                        "p50 at {rate}/s ≤ 0.5× {peer}'s: livehelp {} ms vs {peer} {} ms ({:.2}×) — {}",
                        ms(lh50),
                        ms(p),
                        lh50 / p,
                        verdict(lh50 <= 0.5 * p)
                    ));
                }
            }
            if rate <= 10_000 {
                let lh99 = med("livehelp", rate, |r| r.p99_ms);
                let s99 = med("sockudo", rate, |r| r.p99_ms);
                if !lh99.is_nan() && !s99.is_nan() {
                    out.push(format!(
                        "p99 at {rate}/s ≤ sockudo's: livehelp {} ms vs sockudo {} ms — {}",
                        ms(lh99),
                        ms(s99),
                        verdict(lh99 <= s99)
                    ));
                }
            }
            if rate == 5_000 {
                let lh99 = med("livehelp", rate, |r| r.p99_ms);
                if !lh99.is_nan() {
                    out.push(format!(
                        "p99 ≤ 5 ms at 5,000/s: livehelp {} ms — {}",
                        ms(lh99),
                        verdict(lh99 <= 5.0)
                    ));
                }
            }
        }
        let sat = |name: &str| {
            self.system(name)
                .and_then(|s| s.saturation.as_ref())
                .and_then(|s| s.highest_ok)
        };
        if let Some(lh) = sat("livehelp") {
            for (peer, factor) in [
                ("soketi", 1.5),
                ("socket.io", 2.0),
                ("sockudo", 1.0),
                ("bare-relay", 0.5),
            ] {
                if let Some(p) = sat(peer) {
                    out.push(format!(
                        "saturation ≥ {factor}× {peer}'s: livehelp {lh}/s vs {peer} {p}/s ({:.2}×) — {}",
                        lh as f64 / p as f64,
                        verdict(lh as f64 >= factor * p as f64)
                    ));
                }
            }
        }
        if let Some(i) = self.system("livehelp").and_then(|s| s.idle.as_ref()) {
            out.push(format!(
                "≤ 18 KB per idle connection: livehelp {:.1} KB — {}",
                i.bytes_per_connection / 1000.0,
                verdict(i.bytes_per_connection <= 18_000.0)
            ));
        }
        if out.is_empty() {
            out.push("not enough systems or scenarios in this run to compare".to_owned());
        }
        out
    }
}
