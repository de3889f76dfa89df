//! A chat-gateway on a private Redis, with the other half of the cluster's Redis state
//! (operators' availability and roles, which session-monitor writes) set through the bus.
#![allow(dead_code)]

use chat_gateway::Application;
use livehelp_bus::{Bus, OperatorStatus};
use livehelp_protocol::{PartnerRole, UserId};
use livehelp_settings::Settings;
use livehelp_testkit::{HOST_API_KEY, Identities, RedisServer, WsClient, test_settings};
use livehelp_web::Stopper;
use serde_json::{Value, json};

pub struct Gateway {
    pub port: u16,
    pub stopper: Stopper,
    pub ids: Identities,
    pub bus: Bus,
    pub settings: Settings,
    pub redis: RedisServer,
}

impl Gateway {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut Settings)) -> Self {
        let redis = RedisServer::start().expect("redis");
        let mut settings = test_settings(&redis.url(), None);
        tune(&mut settings);
        Self::on(redis, settings).await
    }

    async fn on(redis: RedisServer, settings: Settings) -> Self {
        let app = Application::build(settings.clone()).await.expect("build");
        let (port, stopper) = (app.port(), app.stopper());
        actix_web::rt::spawn(app.run_until_stopped());
        let bus = livehelp_testkit::test_bus(&settings);
        Self {
            port,
            stopper,
            ids: Identities::default(),
            bus,
            settings,
            redis,
        }
    }

    /// A second instance on the same Redis and key prefix.
    pub async fn another_instance(&self) -> (u16, Stopper) {
        let app = Application::build(self.settings.clone())
            .await
            .expect("build");
        let out = (app.port(), app.stopper());
        actix_web::rt::spawn(app.run_until_stopped());
        out
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/chat/ws", self.port)
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The instance's `/metrics` text.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.http("/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// The host sets a session's status.
    pub async fn set_status(&self, session: &str, status: Value) -> Value {
        let response = reqwest::Client::new()
            .put(self.http(&format!("/chat/api/sessions/{session}/status")))
            .bearer_auth(HOST_API_KEY)
            .json(&status)
            .send()
            .await
            .expect("host api");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// An operator with a monitor open, available or not, serving roles — as
    /// session-monitor records it.
    pub async fn operator_ready(&self, id: &str, name: &str, available: bool, roles: &[&str]) {
        let op = UserId::parse(id).expect("id");
        self.bus
            .operator_connected(&op, Some(name), "test-monitor", 60_000)
            .await
            .expect("presence");
        let roles = roles
            .iter()
            .map(|r| PartnerRole::parse(*r).expect("role"))
            .collect();
        self.bus
            .set_operator_status(&op, &OperatorStatus { available, roles })
            .await
            .expect("status");
    }

    /// The operator closes their last monitor.
    pub async fn operator_signs_off(&self, id: &str) {
        let op = UserId::parse(id).expect("id");
        self.bus
            .operator_disconnected(&op, "test-monitor")
            .await
            .expect("disconnect");
        self.bus.sign_off(&op).await.expect("sign off");
    }

    pub async fn user_at(&self, url: &str, session: &str, id: &str, name: &str) -> WsClient {
        let token = self.ids.user(id, session, Some(name));
        let mut ws = WsClient::connect(url, Some(&token))
            .await
            .expect("user connects");
        let hello = ws.next_of_type("hello").await;
        assert_eq!(hello["you"]["kind"], "user");
        assert_eq!(hello["session"], session);
        ws
    }

    pub async fn user(&self, session: &str, id: &str, name: &str) -> WsClient {
        self.user_at(&self.ws_url(), session, id, name).await
    }

    pub async fn operator_at(&self, url: &str, id: &str, name: &str) -> WsClient {
        let token = self.ids.operator(id, Some(name));
        let mut ws = WsClient::connect(url, Some(&token))
            .await
            .expect("operator connects");
        assert_eq!(ws.next_of_type("hello").await["you"]["kind"], "operator");
        ws
    }

    pub async fn operator(&self, id: &str, name: &str) -> WsClient {
        self.operator_at(&self.ws_url(), id, name).await
    }
}

/// Sends a message and returns its ack.
pub async fn send(ws: &mut WsClient, cmid: &str, text: &str, conversation: Option<&str>) -> Value {
    let mut frame = json!({"type": "chat.send", "cmid": cmid, "text": text});
    if let Some(c) = conversation {
        frame["conversation"] = json!(c);
    }
    ws.send_json(frame).await;
    ws.next_of_type("chat.ack").await
}

/// Waits for a chat state that satisfies `want`.
pub async fn state_where(ws: &mut WsClient, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let s = ws.next_of_type("chat.state").await;
        if want(&s) {
            return s;
        }
    }
}

/// The next message whose text is `text`, skipping others.
pub async fn message(ws: &mut WsClient, text: &str) -> Value {
    loop {
        let m = ws.next_of_type("chat.message").await;
        if m["text"] == text {
            return m;
        }
    }
}
