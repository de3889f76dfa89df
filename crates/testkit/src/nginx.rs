//! A private nginx from the real templates in `deploy/nginx/`, under its own prefix.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, repo_root};

/// Loopback ports of what nginx routes to.
#[derive(Debug, Clone, Copy)]
pub struct Upstreams {
    pub chat_gateway: u16,
    pub session_monitor: u16,
    pub screen_mirror: u16,
    pub voice_forwarder: u16,
    pub demo_host: u16,
}

/// Several instances of each service behind nginx (the demo host stays one).
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pub chat_gateway: Vec<u16>,
    pub session_monitor: Vec<u16>,
    pub screen_mirror: Vec<u16>,
    pub voice_forwarder: Vec<u16>,
    pub demo_host: u16,
}

impl From<Upstreams> for Pools {
    fn from(u: Upstreams) -> Self {
        Self {
            chat_gateway: vec![u.chat_gateway],
            session_monitor: vec![u.session_monitor],
            screen_mirror: vec![u.screen_mirror],
            voice_forwarder: vec![u.voice_forwarder],
            demo_host: u.demo_host,
        }
    }
}

/// What replaces an `${..._ADDR}` placeholder: one address, or several as more `server`
/// directives of the same upstream on one line (the placeholders also appear in the
/// template's comments). The template follows the placeholder with the server parameters
/// (`max_fails=0;`), so each earlier address gets them here.
fn servers(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(" max_fails=0; server ")
}

#[derive(Debug)]
pub struct Nginx {
    port: u16,
    prefix: PathBuf,
    child: Option<Child>,
}

/// Replaces each `${NAME}` placeholder; nginx's own `$variables` stay as they are.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("${{{name}}}"), value)
        })
}

impl Nginx {
    /// Renders the templates for these upstreams and starts nginx on a free port, serving
    /// browser assets from `static_root`.
    pub fn start(upstreams: Upstreams, static_root: &Path) -> anyhow::Result<Self> {
        Self::start_pools(&upstreams.into(), static_root)
    }

    /// [`Nginx::start`] balancing over several instances of each service.
    pub fn start_pools(pools: &Pools, static_root: &Path) -> anyhow::Result<Self> {
        let port = free_port();
        let prefix =
            std::env::temp_dir().join(format!("livehelp-nginx-{port}-{}", std::process::id()));
        for dir in ["conf", "logs", "tmp"] {
            std::fs::create_dir_all(prefix.join(dir))?;
        }
        let local = |p: u16| format!("127.0.0.1:{p}");
        let values = [
            ("PREFIX", prefix.display().to_string()),
            ("LISTEN", local(port)),
            ("CHAT_GATEWAY_ADDR", servers(&pools.chat_gateway)),
            ("SESSION_MONITOR_ADDR", servers(&pools.session_monitor)),
            ("SCREEN_MIRROR_ADDR", servers(&pools.screen_mirror)),
            ("VOICE_FORWARDER_ADDR", servers(&pools.voice_forwarder)),
            ("DEMO_HOST_ADDR", local(pools.demo_host)),
            (
                "STATIC_ROOT",
                std::fs::canonicalize(static_root)?.display().to_string(),
            ),
        ];
        let templates = repo_root().join("deploy/nginx");
        for (template, out) in [
            ("nginx.conf.template", "nginx.conf"),
            ("livehelp.conf.template", "livehelp.conf"),
        ] {
            let text = std::fs::read_to_string(templates.join(template))?;
            std::fs::write(prefix.join("conf").join(out), render(&text, &values))?;
        }
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .args(["-c", "conf/nginx.conf", "-e", "logs/error.log"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("starting nginx (deploy/local/install-deps installs it): {e}")
            })?;
        let mut nginx = Self {
            port,
            prefix,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(nginx);
            }
            if let Some(Ok(Some(status))) = nginx.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(nginx.prefix.join("logs/error.log"))
                    .unwrap_or_default();
                anyhow::bail!("nginx exited with {status}: {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("nginx did not listen on {port} within 10 s")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What nginx logged so far (upstream failures, refusals), for a failing test's report.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.join("logs/error.log")).unwrap_or_default()
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM lets the master stop its workers; SIGKILL would orphan them.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}
