//! The cluster as real processes: one Redis, two instances of each of the four services
//! (the `livehelp-service` binary of this package), and nginx balancing over both, so an
//! instance can be SIGKILLed and restarted on its port while clients go on through nginx.

use std::time::Duration;

use livehelp_testkit::{Nginx, Pools, RedisServer, ServiceProcess, free_port, repo_root, test_env};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The four services; each runs twice.
pub const SERVICES: [&str; 4] = [
    "chat-gateway",
    "session-monitor",
    "screen-mirror",
    "voice-forwarder",
];
pub const INSTANCES: usize = 2;

/// Twilio settings for voice-forwarder (no call reaches Twilio in this test).
pub const TWILIO_NUMBER: &str = "+15005550006";

pub struct Fleet {
    /// Held for the fleet's lifetime (dropping it stops Redis).
    _redis: RedisServer,
    pub nginx: Nginx,
    /// `INSTANCES` per service, in `SERVICES` order.
    instances: Vec<(&'static str, ServiceProcess)>,
    /// Services still to be struck this round.
    turns: Vec<&'static str>,
    /// Every kill and restart: milliseconds since the epoch, what happened.
    pub timeline: Vec<String>,
}

impl Fleet {
    /// Starts everything and waits until every instance is ready. Blocking.
    pub fn start() -> anyhow::Result<Self> {
        let redis = RedisServer::start()?;
        let prefix = livehelp_testkit::fresh_prefix();
        let mut env = test_env(&redis.url(), &prefix);
        env.extend(
            [
                // Killed instances log Redis and socket errors by design; keep the output
                // for real failures.
                ("LIVEHELP__LOG__FILTER", "error"),
                ("LIVEHELP__VOICE__ENABLED", "true"),
                (
                    "LIVEHELP__VOICE__ACCOUNT_SID",
                    "AC00000000000000000000000000000000",
                ),
                ("LIVEHELP__VOICE__AUTH_TOKEN", "chaos-twilio-token"),
                ("LIVEHELP__VOICE__NUMBER", TWILIO_NUMBER),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let binary = env!("CARGO_BIN_EXE_livehelp-service");
        let mut instances = Vec::new();
        for service in SERVICES {
            for _ in 0..INSTANCES {
                let process = ServiceProcess::start_with(binary, &[service], env.clone())?;
                instances.push((service, process));
            }
        }
        let ports = |name: &str| {
            instances
                .iter()
                .filter(|(s, _)| *s == name)
                .map(|(_, p)| p.port())
                .collect::<Vec<_>>()
        };
        let pools = Pools {
            chat_gateway: ports("chat-gateway"),
            session_monitor: ports("session-monitor"),
            screen_mirror: ports("screen-mirror"),
            voice_forwarder: ports("voice-forwarder"),
            // No demo host: nothing here goes to `/`.
            demo_host: free_port(),
        };
        let nginx = Nginx::start_pools(&pools, &repo_root().join("web/dist"))?;
        Ok(Self {
            _redis: redis,
            nginx,
            instances,
            turns: Vec::new(),
            timeline: Vec::new(),
        })
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.nginx.port())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nginx.base_url())
    }

    /// One round of chaos, blocking: SIGKILL a random instance (now and then both
    /// instances of its service, an outage of that service), wait a moment, restart what
    /// was killed and wait until it is ready, wait again. Returns the services of the
    /// processes killed.
    pub fn strike(&mut self, rng: &mut StdRng) -> anyhow::Result<Vec<&'static str>> {
        // Every service in turn, in a random order each round, so even a short run kills
        // each of them.
        if self.turns.is_empty() {
            self.turns = SERVICES.to_vec();
            self.turns.shuffle(rng);
        }
        let service = self.turns.pop().unwrap_or(SERVICES[0]);
        let of_service: Vec<usize> = (0..self.instances.len())
            .filter(|i| self.instances[*i].0 == service)
            .collect();
        // Mostly the instance holding the most sockets: after a kill its clients all move
        // to the survivor, and killing the idle one would hurt nobody.
        let victim = if rng.random_bool(0.75) {
            *of_service
                .iter()
                .max_by_key(|i| open_sockets(self.instances[**i].1.port()))
                .unwrap_or(&of_service[0])
        } else {
            of_service[rng.random_range(0..of_service.len())]
        };
        let mut victims = vec![victim];
        if rng.random_bool(0.15) {
            victims = of_service;
        }
        for &i in &victims {
            self.instances[i].1.kill();
            self.timeline.push(format!(
                "{} killed {} on {}",
                crate::now_ms(),
                self.instances[i].0,
                self.instances[i].1.port()
            ));
            crate::trace(&format!(
                "killed {} on {}",
                self.instances[i].0,
                self.instances[i].1.port()
            ));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(20..400)));
        for &i in &victims {
            self.instances[i].1.restart()?;
            self.timeline.push(format!(
                "{} ready on {}",
                crate::now_ms(),
                self.instances[i].1.port()
            ));
            crate::trace(&format!("ready on {}", self.instances[i].1.port()));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(100..700)));
        Ok(victims.iter().map(|&i| self.instances[i].0).collect())
    }

    /// Whether every instance runs (after chaos, before the final checks).
    pub fn all_running(&self) -> bool {
        self.instances.iter().all(|(_, p)| p.is_running())
    }
}

/// The `livehelp_ws_connections` gauge of the instance on `port` (0 when unreadable).
fn open_sockets(port: u16) -> u64 {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut scrape = String::new();
    if stream.write_all(request.as_bytes()).is_err() || stream.read_to_string(&mut scrape).is_err()
    {
        return 0;
    }
    scrape
        .lines()
        .filter(|l| l.starts_with("livehelp_ws_connections{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}
