//! The whole cluster on loopback for end-to-end tests: a private Redis, the four services
//! and the demo host in-process on free ports, and nginx from the real routing config in
//! front of them. Only this crate depends on several services.

use std::path::PathBuf;

use livehelp_settings::Settings;
use livehelp_testkit::{
    HOST_API_KEY, Identities, JWT_SECRET, Nginx, RedisServer, Upstreams, WsClient, repo_root,
    test_settings,
};
use livehelp_web::Stopper;
use secrecy::SecretString;
use serde_json::json;

/// A running service: its own port (probes, metrics) and a way to drain it as SIGTERM does.
#[derive(Debug)]
pub struct Service {
    pub name: &'static str,
    pub port: u16,
    pub stopper: Stopper,
}

impl Service {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

#[derive(Debug)]
pub struct Cluster {
    pub redis: RedisServer,
    pub services: Vec<Service>,
    pub demo_host_port: u16,
    pub nginx: Nginx,
}

/// Where `npm run build` in `web/` puts the browser assets.
pub fn static_root() -> PathBuf {
    repo_root().join("web/dist")
}

impl Cluster {
    /// Starts everything. Must run inside an actix System (`#[actix_web::test]`).
    pub async fn start() -> anyhow::Result<Self> {
        Self::on(RedisServer::start()?, |_| {}).await
    }

    /// [`Cluster::start`] on a Redis with its append-only file on.
    pub async fn start_persistent() -> anyhow::Result<Self> {
        Self::on(RedisServer::start_persistent()?, |_| {}).await
    }

    /// [`Cluster::start`] with every service's settings adjusted by `tune`.
    pub async fn start_with(tune: impl Fn(&mut Settings)) -> anyhow::Result<Self> {
        Self::on(RedisServer::start()?, tune).await
    }

    async fn on(redis: RedisServer, tune: impl Fn(&mut Settings)) -> anyhow::Result<Self> {
        let settings = test_settings(&redis.url(), None);
        let prefix = settings.redis.key_prefix.clone();
        let settings = || {
            let mut s = test_settings(&redis.url(), Some(&prefix));
            tune(&mut s);
            s
        };

        let mut services = Vec::new();
        macro_rules! start {
            ($krate:ident) => {{
                let app = $krate::Application::build(settings()).await?;
                services.push(Service {
                    name: $krate::SERVICE,
                    port: app.port(),
                    stopper: app.stopper(),
                });
                actix_web::rt::spawn(app.run_until_stopped());
            }};
        }
        start!(chat_gateway);
        start!(session_monitor);
        start!(screen_mirror);
        start!(voice_forwarder);

        let demo = demo_host::Application::build(demo_host::DemoSettings {
            host: "127.0.0.1".into(),
            port: 0,
            jwt_secret: SecretString::from(JWT_SECRET),
            host_api_key: SecretString::from(HOST_API_KEY),
            chat_api_url: format!("http://127.0.0.1:{}", services[0].port),
        })?;
        let demo_host_port = demo.port();
        actix_web::rt::spawn(demo.run_until_stopped());

        let nginx = Nginx::start(
            Upstreams {
                chat_gateway: services[0].port,
                session_monitor: services[1].port,
                screen_mirror: services[2].port,
                voice_forwarder: services[3].port,
                demo_host: demo_host_port,
            },
            &static_root(),
        )?;
        Ok(Self {
            redis,
            services,
            demo_host_port,
            nginx,
        })
    }

    pub fn service(&self, name: &str) -> &Service {
        self.services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    }

    /// A URL through nginx.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nginx.base_url())
    }

    /// A WebSocket URL through nginx.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.nginx.port())
    }

    /// Turns live help on for `session` in peer mode, through the host API.
    pub async fn peer_session(&self, session: &str) {
        let status = reqwest::Client::new()
            .put(self.url(&format!("/chat/api/sessions/{session}/status")))
            .bearer_auth(HOST_API_KEY)
            .json(&json!({"availability": "available", "mode": "peer"}))
            .send()
            .await
            .expect("host api");
        assert_eq!(status.status(), 200);
    }

    /// A service's `/metrics` scrape.
    pub async fn scrape(&self, service: &str) -> String {
        reqwest::get(self.service(service).url("/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// A user (`u`, "Ann") of a peer-mode `session`, connected with chat open and active.
    pub async fn chatting_user(&self, session: &str) -> WsClient {
        self.peer_session(session).await;
        let token = Identities::default().user("u", session, Some("Ann"));
        let mut user = WsClient::connect(&self.ws_url("/chat/ws"), Some(&token))
            .await
            .expect("ws");
        user.send_json(json!({"type": "chat.open"})).await;
        user.send_json(json!({"type": "chat.activate"})).await;
        loop {
            if user.next_of_type("chat.state").await["active"] == true {
                return user;
            }
        }
    }
}

/// The value of one counter in a Prometheus scrape (0 when absent), matched by name and
/// every given label.
pub fn counter(scrape: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    scrape
        .lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}
