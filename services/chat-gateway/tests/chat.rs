//! chat-gateway against a real Redis, over real HTTP and WebSockets.

use chat_gateway::Application;
use livehelp_testkit::{HOST_API_KEY, Identities, RedisServer, WsClient, test_settings};
use serde_json::{Value, json};

struct Gateway {
    app_port: u16,
    ids: Identities,
    _redis: RedisServer,
}

impl Gateway {
    async fn start() -> Self {
        let redis = RedisServer::start().expect("redis");
        let app = Application::build(test_settings(&redis.url(), None))
            .await
            .expect("build");
        let app_port = app.port();
        actix_web::rt::spawn(app.run_until_stopped());
        Self {
            app_port,
            ids: Identities::default(),
            _redis: redis,
        }
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/chat/ws", self.app_port)
    }

    fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.app_port)
    }

    async fn user(&self, session: &str, name: &str) -> WsClient {
        let token = self.ids.user(&format!("u-{name}"), session, Some(name));
        let mut ws = WsClient::connect(&self.ws_url(), Some(&token))
            .await
            .expect("user connects");
        let hello = ws.next_of_type("hello").await;
        assert_eq!(hello["you"]["kind"], "user");
        assert_eq!(hello["session"], session);
        ws
    }

    async fn operator(&self, name: &str) -> WsClient {
        let token = self.ids.operator(&format!("o-{name}"), Some(name));
        let mut ws = WsClient::connect(&self.ws_url(), Some(&token))
            .await
            .expect("operator connects");
        assert_eq!(ws.next_of_type("hello").await["you"]["kind"], "operator");
        ws
    }
}

async fn send(ws: &mut WsClient, cmid: &str, text: &str, session: Option<&str>) -> Value {
    let mut frame = json!({"type": "chat.send", "cmid": cmid, "text": text});
    if let Some(s) = session {
        frame["session"] = json!(s);
    }
    ws.send_json(frame).await;
    ws.next_of_type("chat.ack").await
}

#[actix_web::test]
async fn a_message_goes_from_user_to_operator_and_back() {
    let gw = Gateway::start().await;
    let mut user = gw.user("s1", "Ada").await;
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    assert_eq!(user.next_of_type("chat.state").await["active"], true);

    let mut op = gw.operator("Olivia").await;
    op.send_json(json!({"type": "chat.open", "session": "s1"}))
        .await;

    let ack = send(&mut user, "c1", "hello <b>there</b>", None).await;
    let seen = op.next_of_type("chat.message").await;
    assert_eq!(seen["text"], "hello <b>there</b>");
    assert_eq!(seen["id"], ack["id"]);
    assert_eq!(seen["from"]["name"], "Ada");
    assert_eq!(seen["from"]["kind"], "user");

    send(&mut op, "r1", "hi Ada", Some("s1")).await;
    // The user sees their own message (stored), then the reply, in order.
    assert_eq!(
        user.next_of_type("chat.message").await["text"],
        "hello <b>there</b>"
    );
    let reply = user.next_of_type("chat.message").await;
    assert_eq!(reply["text"], "hi Ada");
    assert_eq!(reply["from"]["kind"], "operator");
}

#[actix_web::test]
async fn a_retried_send_is_stored_once_and_a_reconnect_resumes_after_the_last_id() {
    let gw = Gateway::start().await;
    let mut user = gw.user("s2", "Bo").await;
    user.send_json(json!({"type": "chat.open"})).await;
    let first = send(&mut user, "c1", "one", None).await;
    let again = send(&mut user, "c1", "one", None).await;
    assert_eq!(first["id"], again["id"], "same cmid, same stored message");
    let second = send(&mut user, "c2", "two", None).await;

    // A fresh connection that saw only the first message gets exactly the second.
    let mut back = gw.user("s2", "Bo").await;
    back.send_json(json!({"type": "chat.open", "after": first["id"]}))
        .await;
    let m = back.next_of_type("chat.message").await;
    assert_eq!((m["text"].as_str(), &m["id"]), (Some("two"), &second["id"]));
    send(&mut back, "c3", "three", None).await;
    assert_eq!(back.next_of_type("chat.message").await["text"], "three");
}

#[actix_web::test]
async fn sockets_without_a_valid_identity_are_refused_before_the_upgrade() {
    let gw = Gateway::start().await;
    assert_eq!(
        WsClient::connect(&gw.ws_url(), None)
            .await
            .err()
            .map(|s| s.as_u16()),
        Some(401)
    );
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad";
    assert_eq!(
        WsClient::connect(&gw.ws_url(), Some(forged))
            .await
            .err()
            .map(|s| s.as_u16()),
        Some(401)
    );
    let clerk = gw.ids.staff("clerk");
    assert_eq!(
        WsClient::connect(&gw.ws_url(), Some(&clerk))
            .await
            .err()
            .map(|s| s.as_u16()),
        Some(403)
    );
}

#[actix_web::test]
async fn users_cannot_reach_other_sessions() {
    let gw = Gateway::start().await;
    let mut user = gw.user("mine", "Cy").await;
    user.send_json(json!({"type": "chat.open", "session": "theirs"}))
        .await;
    assert_eq!(user.next_of_type("error").await["code"], "forbidden");
    user.send_json(json!({"type": "chat.send", "cmid": "x1", "text": "hi", "session": "theirs"}))
        .await;
    let e = user.next_of_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("forbidden"), Some("x1"))
    );
}

#[actix_web::test]
async fn bad_frames_get_errors_and_oversized_frames_close_the_socket() {
    let gw = Gateway::start().await;
    let mut user = gw.user("s3", "Di").await;
    user.send_text("{not json").await;
    assert_eq!(user.next_of_type("error").await["code"], "bad_frame");
    user.send_json(json!({"type": "chat.explode"})).await;
    assert_eq!(user.next_of_type("error").await["code"], "bad_frame");
    user.send_json(json!({"type": "chat.send", "cmid": "c1", "text": ""}))
        .await;
    let e = user.next_of_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("bad_frame"), Some("c1"))
    );
    // Still usable after errors.
    send(&mut user, "c2", "fine", None).await;

    user.send_text(&"x".repeat(70_000)).await;
    let close = user.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009);
}

#[actix_web::test]
async fn the_host_sets_a_status_with_its_api_key_and_bad_values_name_the_field() {
    let gw = Gateway::start().await;
    let http = reqwest::Client::new();
    let url = gw.http("/chat/api/sessions/s4/status");

    let anonymous = http
        .put(&url)
        .json(&json!({"availability": "available"}))
        .send()
        .await
        .expect("http");
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");

    let set = http
        .put(&url)
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "available", "partner_roles": ["advocate", "advocate", "Family"], "title": "Benefits"}))
        .send()
        .await
        .expect("http");
    assert_eq!(set.status(), 200);
    let status: Value = set.json().await.expect("json");
    assert_eq!(status["availability"], "available");
    assert_eq!(status["mode"], "help", "omitted fields keep their default");
    assert_eq!(status["partner_roles"], json!(["advocate", "Family"]));

    let patched: Value = http
        .put(&url)
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"mode": "peer"}))
        .send()
        .await
        .expect("http")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (patched["mode"].as_str(), patched["availability"].as_str()),
        (Some("peer"), Some("available"))
    );

    let bad = http
        .put(&url)
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "sometimes"}))
        .send()
        .await
        .expect("http");
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("availability")),
        "{body}"
    );
}
