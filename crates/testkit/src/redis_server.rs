//! A private redis-server process that can be stopped and started again on the same port:
//! a plain server, or one member of a cluster or Sentinel setup.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Append-only file on, as deployments configure Redis.
    persistent: bool,
    /// Given after the defaults, e.g. `--cluster-enabled yes` or `--sentinel`.
    extra: Vec<String>,
    /// A config file Redis may rewrite (Sentinel must have one).
    config: Option<PathBuf>,
}

impl RedisServer {
    /// Starts a redis-server on a free port and waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(false)
    }

    /// Like [`RedisServer::start`], with the append-only file on (`appendfsync everysec`, as
    /// docker-compose and the chart configure it): data survives the process being killed.
    pub fn start_persistent() -> anyhow::Result<Self> {
        Self::start_with(true)
    }

    fn start_with(persistent: bool) -> anyhow::Result<Self> {
        Self::start_custom(persistent, &[], None)
    }

    /// A server started with `extra` arguments and, when given, `config` as its config
    /// file (written to the server's own directory).
    pub fn start_custom(
        persistent: bool,
        extra: &[String],
        config: Option<&dyn Fn(u16) -> String>,
    ) -> anyhow::Result<Self> {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("livehelp-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let config = match config {
            Some(text) => {
                let path = dir.join("redis.conf");
                std::fs::write(&path, text(port))?;
                Some(path)
            }
            None => None,
        };
        let mut server = Self {
            port,
            dir,
            child: None,
            persistent,
            extra: extra.to_vec(),
            config,
        };
        server.resume()?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL); without persistence its data goes with it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn resume(&mut self) -> anyhow::Result<()> {
        self.stop();
        let mut command = Command::new("redis-server");
        if let Some(config) = &self.config {
            command.arg(config);
        }
        let child = command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--daemonize", "no"])
            .args(["--appendonly", if self.persistent { "yes" } else { "no" }])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "starting redis-server (deploy/local/install-deps installs it): {e}"
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!(
            "redis-server on port {} did not answer within 10 s",
            self.port
        )
    }
}

fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
