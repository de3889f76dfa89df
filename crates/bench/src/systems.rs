//! The systems compared: how to start each as two server processes sharing one private
//! Redis on loopback, and what their processes cost (CPU ticks, RSS from /proc).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};

/// The Pusher app the soketi and sockudo nodes serve.
pub const PUSHER_APP_ID: &str = "bench";
pub const PUSHER_KEY: &str = "bench-key";
pub const PUSHER_SECRET: &str = "bench-secret-bench-secret";

/// How a client talks to a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Livehelp,
    Relay,
    SocketIo,
    Pusher,
    /// livehelp's `/mirror/ws`, as the user whose screen streams...
    MirrorUser,
    /// ...and as the operator observing and controlling it.
    MirrorOperator,
}

/// A system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Livehelp,
    Relay,
    SocketIo,
    Soketi,
    Sockudo,
    /// livehelp's screen-mirror (scenario 5; no peer has one).
    Mirror,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Livehelp,
        Kind::Relay,
        Kind::Sockudo,
        Kind::Soketi,
        Kind::SocketIo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Livehelp => "livehelp",
            Kind::Relay => "bare-relay",
            Kind::SocketIo => "socket.io",
            Kind::Soketi => "soketi",
            Kind::Sockudo => "sockudo",
            Kind::Mirror => "livehelp screen-mirror",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Kind::Livehelp => Protocol::Livehelp,
            Kind::Relay => Protocol::Relay,
            Kind::SocketIo => Protocol::SocketIo,
            Kind::Soketi | Kind::Sockudo => Protocol::Pusher,
            Kind::Mirror => Protocol::MirrorUser,
        }
    }

    /// Whether a sender receives its own messages back (the Pusher protocol never echoes
    /// client events; the others deliver to the whole room).
    pub fn echoes(self) -> bool {
        !matches!(self.protocol(), Protocol::Pusher | Protocol::MirrorUser)
    }
}

/// `key:hex(HMAC-SHA256(secret, "socket_id:channel"))`, the Pusher private-channel auth.
pub fn pusher_auth(socket_id: &str, channel: &str) -> String {
    // A key of any length is valid for HMAC.
    #[allow(clippy::unwrap_used)]
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(PUSHER_SECRET.as_bytes()).unwrap();
    mac.update(format!("{socket_id}:{channel}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{PUSHER_KEY}:{hex}")
}

/// One server process we started; killed when dropped.
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    child: Child,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid())
    }

    /// Resident memory now, in bytes.
    pub fn rss_bytes(&self) -> u64 {
        rss_bytes(self.pid())
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::LazyLock<f64> = std::sync::LazyLock::new(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    });
    *TICKS
}

/// utime + stime of a process, in seconds (0 when it is gone).
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name is in parentheses and may hold spaces: count fields after it.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime 15.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<f64>().ok()))
        .sum();
    ticks / clock_ticks()
}

/// CPU seconds the whole machine has been busy (all cores, /proc/stat).
pub fn machine_busy_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(cpu) = stat.lines().next() else {
        return 0.0;
    };
    // user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    let ticks: f64 = cpu
        .split_whitespace()
        .skip(1)
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .filter_map(|(_, f)| f.parse::<f64>().ok())
        .sum();
    ticks / clock_ticks()
}

/// VmRSS of a process, in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// A client's view of one server process.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub protocol: Protocol,
    pub port: u16,
}

/// A running system: its Redis and its two nodes (user side A, operator side B).
#[derive(Debug)]
pub struct Running {
    pub kind: Kind,
    /// Stopped first (fields drop in order), so that they do not see Redis go away.
    pub servers: Vec<Proc>,
    pub redis: Proc,
    pub redis_port: u16,
    pub nodes: [Node; 2],
    /// livehelp's Redis key prefix (shared by its nodes).
    pub prefix: String,
    dir: TempDir,
}

impl Running {
    /// CPU seconds of the two servers and of Redis.
    pub fn cpu(&self) -> (f64, f64) {
        (
            self.servers.iter().map(Proc::cpu_seconds).sum(),
            self.redis.cpu_seconds(),
        )
    }

    /// Redis's pub/sub view (CLIENT LIST): connections with any subscription, and the
    /// channel, pattern and shard-channel subscriptions they hold in all.
    pub fn redis_pubsub(&self) -> String {
        let list = Command::new("redis-cli")
            .args(["-p", &self.redis_port.to_string(), "client", "list"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let (mut conns, mut sub, mut psub, mut ssub) = (0, 0u64, 0u64, 0u64);
        for line in list.lines() {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|f| f.strip_prefix(name))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let (s, p, ss) = (field("sub="), field("psub="), field("ssub="));
            if s + p + ss > 0 {
                conns += 1;
                sub += s;
                psub += p;
                ssub += ss;
            }
        }
        format!(
            "{conns} subscribed connections holding {sub} channels, {psub} patterns, {ssub} shard channels"
        )
    }

    /// Subscribers Redis cut off for exceeding their output buffer (from its log; Redis 7.0
    /// keeps no counter of them).
    pub fn redis_output_buffer_disconnections(&self) -> usize {
        std::fs::read_to_string(self.dir.0.join("redis.log"))
            .map(|log| {
                log.lines()
                    .filter(|l| l.contains("overcoming of output buffer limits"))
                    .count()
            })
            .unwrap_or(0)
    }

    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        for p in self
            .servers
            .iter_mut()
            .chain(std::iter::once(&mut self.redis))
        {
            if !p.alive() {
                bail!("{} died", p.name);
            }
        }
        Ok(())
    }
}

/// A scratch directory for one system's logs and Redis files, removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    /// Kept with `LIVEHELP_BENCH_KEEP=1`, to read the servers' logs afterwards.
    fn drop(&mut self) {
        if std::env::var_os("LIVEHELP_BENCH_KEEP").is_some() {
            eprintln!("  kept {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Paths to what the systems run.
#[derive(Debug, Clone)]
pub struct Paths {
    pub repo: PathBuf,
    pub target: PathBuf,
}

impl Paths {
    fn peers(&self) -> PathBuf {
        self.repo.join("bench/peers")
    }
    fn sockudo(&self) -> PathBuf {
        self.repo.join(".tools/bin/sockudo")
    }
    /// Which systems can run here (their binaries or packages are installed).
    pub fn available(&self, kind: Kind) -> Result<(), String> {
        let need = match kind {
            Kind::Livehelp => self.target.join("chat-gateway"),
            Kind::Relay => self.target.join("relay"),
            Kind::SocketIo => self.peers().join("node_modules/socket.io"),
            Kind::Soketi => self.peers().join("node_modules/@soketi/soketi"),
            Kind::Sockudo => self.sockudo(),
            Kind::Mirror => self.target.join("screen-mirror"),
        };
        if need.exists() {
            Ok(())
        } else {
            Err(format!(
                "{} is missing (bench/run installs it)",
                need.display()
            ))
        }
    }
}

fn free_port() -> u16 {
    livehelp_testkit::free_port()
}

pub fn spawn(name: &str, cmd: &mut Command, dir: &Path) -> anyhow::Result<Proc> {
    let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
    let child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Proc {
        name: name.to_owned(),
        child,
    })
}

pub fn wait_for_port(proc: &mut Proc, port: u16, dir: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if !proc.alive() {
            let log =
                std::fs::read_to_string(dir.join(format!("{}.log", proc.name))).unwrap_or_default();
            bail!("{} exited: {}", proc.name, tail(&log));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{} did not listen on {port} within 30 s", proc.name)
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

/// Extra `redis-server` arguments from `LIVEHELP_BENCH_REDIS_ARGS` (split on spaces), to
/// try a Redis setting: `LIVEHELP_BENCH_REDIS_ARGS="--auto-aof-rewrite-percentage 400"`.
pub fn redis_args_tried() -> Vec<String> {
    std::env::var("LIVEHELP_BENCH_REDIS_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// A scratch directory and a private Redis in it (append-only file on, fsync every
/// second, as deployments run it).
pub fn start_redis(name: &str) -> anyhow::Result<(TempDir, Proc, u16)> {
    let dir = std::env::temp_dir().join(format!(
        "livehelp-bench-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir)?;
    let dir = TempDir(dir);
    let redis_port = free_port();
    let mut redis = spawn(
        "redis",
        Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ])
            .args(redis_args_tried())
            .args(["--daemonize", "no"]),
        &dir.0,
    )?;
    wait_for_port(&mut redis, redis_port, &dir.0)?;
    Ok((dir, redis, redis_port))
}

/// Starts a private Redis 7 (append-only file on, fsync every second, as deployments run it)
/// and the two nodes of `kind`.
pub fn start(kind: Kind, paths: &Paths) -> anyhow::Result<Running> {
    let (dir, redis, redis_port) = start_redis(kind.name())?;
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let prefix = livehelp_testkit::fresh_prefix();
    let mut servers = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..2 {
        let port = free_port();
        let name = format!("{}-{}", kind.name(), ["a", "b"][i]);
        let mut cmd = match kind {
            Kind::Livehelp => {
                let mut c = Command::new(paths.target.join("chat-gateway"));
                c.envs(crate::livehelp::env(&redis_url, &prefix, port));
                c
            }
            Kind::Mirror => {
                let mut c = Command::new(paths.target.join("screen-mirror"));
                c.envs(crate::livehelp::env(&redis_url, &prefix, port));
                c
            }
            Kind::Relay => {
                let mut c = Command::new(paths.target.join("relay"));
                c.arg(port.to_string()).arg(&redis_url);
                c
            }
            Kind::SocketIo => {
                let mut c = Command::new("node");
                c.arg(paths.peers().join("socketio-relay.js"))
                    .arg(port.to_string())
                    .arg(redis_port.to_string());
                c
            }
            Kind::Soketi => {
                let mut c = Command::new("node");
                c.arg(
                    paths
                        .peers()
                        .join("node_modules/@soketi/soketi/bin/server.js"),
                )
                .arg("start")
                .envs([
                    ("SOKETI_PORT", port.to_string()),
                    ("SOKETI_METRICS_SERVER_PORT", free_port().to_string()),
                    ("SOKETI_ADAPTER_DRIVER", "redis".into()),
                    ("SOKETI_DB_REDIS_HOST", "127.0.0.1".into()),
                    ("SOKETI_DB_REDIS_PORT", redis_port.to_string()),
                    ("SOKETI_DEFAULT_APP_ID", PUSHER_APP_ID.into()),
                    ("SOKETI_DEFAULT_APP_KEY", PUSHER_KEY.into()),
                    ("SOKETI_DEFAULT_APP_SECRET", PUSHER_SECRET.into()),
                    ("SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "true".into()),
                ]);
                c
            }
            Kind::Sockudo => {
                let mut c = Command::new(paths.sockudo());
                c.envs([
                    ("HOST", "127.0.0.1".to_owned()),
                    ("PORT", port.to_string()),
                    ("METRICS_ENABLED", "false".into()),
                    ("METRICS_PORT", free_port().to_string()),
                    ("ADAPTER_DRIVER", "redis".into()),
                    ("CACHE_DRIVER", "redis".into()),
                    ("QUEUE_DRIVER", "none".into()),
                    ("RATE_LIMITER_ENABLED", "false".into()),
                    ("APP_MANAGER_DRIVER", "memory".into()),
                    ("DATABASE_REDIS_HOST", "127.0.0.1".into()),
                    ("DATABASE_REDIS_PORT", redis_port.to_string()),
                    ("REDIS_URL", redis_url.clone()),
                    ("SOCKUDO_DEFAULT_APP_ID", PUSHER_APP_ID.into()),
                    ("SOCKUDO_DEFAULT_APP_KEY", PUSHER_KEY.into()),
                    ("SOCKUDO_DEFAULT_APP_SECRET", PUSHER_SECRET.into()),
                    ("SOCKUDO_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "true".into()),
                    ("SOCKUDO_ENABLE_CLIENT_MESSAGES", "true".into()),
                    ("SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS", "1000000".into()),
                    (
                        "SOCKUDO_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SECOND",
                        "1000000".into(),
                    ),
                    ("RUST_LOG", "warn".into()),
                ]);
                c
            }
        };
        let mut proc = spawn(&name, &mut cmd, &dir.0)?;
        wait_for_port(&mut proc, port, &dir.0)?;
        servers.push(proc);
        let protocol = match (kind, i) {
            (Kind::Mirror, 1) => Protocol::MirrorOperator,
            _ => kind.protocol(),
        };
        nodes.push(Node { protocol, port });
    }
    // Let subscriptions and adapters settle before anyone connects.
    std::thread::sleep(Duration::from_millis(500));
    Ok(Running {
        kind,
        redis,
        redis_port,
        servers,
        nodes: [nodes[0], nodes[1]],
        prefix,
        dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pusher_auth_is_hex_hmac_sha256_of_socket_and_channel() {
        let auth = pusher_auth("1234.1234", "private-foobar");
        let (key, sig) = auth.split_once(':').expect("key:signature");
        assert_eq!(key, PUSHER_KEY);
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn our_own_cpu_time_is_readable() {
        assert!(cpu_seconds(std::process::id()) >= 0.0);
        assert!(rss_bytes(std::process::id()) > 0);
    }
}
