//! A service as its own process, for tests that kill it for real (SIGKILL) or stop it as an
//! orchestrator does (SIGTERM).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, test_env};

#[derive(Debug)]
pub struct ServiceProcess {
    binary: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    port: u16,
    child: Option<Child>,
}

impl ServiceProcess {
    /// Starts `binary` (e.g. `env!("CARGO_BIN_EXE_chat-gateway")`) on a free port with the
    /// test settings, and waits until `/readyz` answers 200.
    pub fn start(binary: &str, redis_url: &str, prefix: &str) -> anyhow::Result<Self> {
        Self::start_with(binary, &[], test_env(redis_url, prefix))
    }

    /// [`ServiceProcess::start`] with arguments and the whole environment given (usually
    /// [`test_env`] with changes); `LIVEHELP__SERVER__PORT` is set to a free port.
    pub fn start_with(
        binary: &str,
        args: &[&str],
        mut env: Vec<(String, String)>,
    ) -> anyhow::Result<Self> {
        let port = free_port();
        env.retain(|(k, _)| k != "LIVEHELP__SERVER__PORT");
        env.push(("LIVEHELP__SERVER__PORT".into(), port.to_string()));
        let mut process = Self {
            binary: binary.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env,
            port,
            child: None,
        };
        process.restart()?;
        Ok(process)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the process again on the same port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let child = Command::new(&self.binary)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if http_status(self.port, "/readyz") == Some(200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        anyhow::bail!(
            "{} on port {} was not ready within 20 s",
            self.binary.display(),
            self.port
        )
    }

    /// Whether the process runs (it may have been killed and not restarted yet).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: the process dies at once, closing nothing cleanly.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The status code of a plain HTTP GET on loopback, or `None` when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
