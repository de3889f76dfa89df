//! session-monitor against a real Redis: who may open it, the list across two instances,
//! every status indicator as sessions change, presence that lapses, block seen everywhere.

use std::time::Duration;

use livehelp_bus::{Bus, ChatEvent, ChatPayload, decode_published};
use livehelp_protocol::{ConversationId, PartnerRole, SessionId, StatusPatch, UserId};
use livehelp_settings::Settings;
use livehelp_testkit::{Identities, RedisServer, WsClient, test_settings};
use serde_json::{Value, json};
use session_monitor::Application;

struct Monitors {
    ports: Vec<u16>,
    bus: Bus,
    ids: Identities,
    _redis: RedisServer,
}

impl Monitors {
    /// `instances` session-monitors on one Redis and key prefix.
    async fn start(instances: usize, tune: impl Fn(&mut Settings)) -> Self {
        let redis = RedisServer::start().expect("redis");
        let mut settings = test_settings(&redis.url(), None);
        tune(&mut settings);
        let mut ports = Vec::new();
        for _ in 0..instances {
            let app = Application::build(settings.clone()).await.expect("build");
            ports.push(app.port());
            actix_web::rt::spawn(app.run_until_stopped());
        }
        let bus = livehelp_testkit::test_bus(&settings);
        Self {
            ports,
            bus,
            ids: Identities::default(),
            _redis: redis,
        }
    }

    fn url(&self, instance: usize) -> String {
        format!("ws://127.0.0.1:{}/monitor/ws", self.ports[instance])
    }

    async fn operator(&self, instance: usize, id: &str) -> WsClient {
        let token = self.ids.operator(id, Some(id));
        let mut ws = WsClient::connect(&self.url(instance), Some(&token))
            .await
            .expect("monitor");
        ws.next_of_type("hello").await;
        ws
    }

    /// The host enables help for a session and its user connects (what chat-gateway records).
    async fn user_arrives(&self, session: &str, user: &str) {
        let s = SessionId::parse(session).expect("id");
        let patch: StatusPatch = serde_json::from_value(json!({
            "availability": "available", "mode": "help", "partner_roles": "advocate", "title": "T"
        }))
        .expect("patch");
        self.bus.update_status(&s, patch).await.expect("status");
        let u = UserId::parse(user).expect("id");
        self.bus
            .user_connected(&s, &u, "conn-1", Some(user), 60_000)
            .await
            .expect("presence");
    }
}

/// Waits for the row of `session` to satisfy `want`, from `sessions` or `session` frames.
async fn row(ws: &mut WsClient, session: &str, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = ws.next_json().await;
        let rows = match frame["type"].as_str() {
            Some("session") => vec![frame["session"].clone()],
            Some("sessions") => frame["sessions"].as_array().cloned().unwrap_or_default(),
            _ => continue,
        };
        if let Some(r) = rows
            .into_iter()
            .find(|r| r["session"] == session && want(r))
        {
            return r;
        }
    }
}

#[actix_web::test]
async fn only_operators_open_the_monitor() {
    let m = Monitors::start(1, |_| {}).await;
    let refused = |t: String| {
        let url = m.url(0);
        async move {
            WsClient::connect(&url, Some(&t))
                .await
                .err()
                .map(|s| s.as_u16())
        }
    };
    assert_eq!(refused(m.ids.user("u", "s", None)).await, Some(403));
    assert_eq!(refused(m.ids.staff("clerk")).await, Some(403));
    let page = reqwest::get(format!("http://127.0.0.1:{}/monitor/", m.ports[0]))
        .await
        .expect("page");
    assert!(
        page.text()
            .await
            .expect("text")
            .contains("Live help monitor")
    );
}

#[actix_web::test]
async fn the_list_walks_through_every_indicator_on_two_instances() {
    let m = Monitors::start(2, |_| {}).await;
    let mut first = m.operator(0, "o-first").await;
    let mut second = m.operator(1, "o-second").await;

    m.user_arrives("w1", "u1").await;
    for ws in [&mut first, &mut second] {
        // Nobody serves advocate yet.
        row(ws, "w1", |r| r["status"] == "waiting").await;
    }

    // o-first becomes available for advocate: standby everywhere.
    first
        .send_json(json!({"type": "operator.status", "available": true, "roles": ["advocate"]}))
        .await;
    for ws in [&mut first, &mut second] {
        row(ws, "w1", |r| r["status"] == "standby").await;
    }

    // The user turns chat on (as chat-gateway does): on, with o-first attached.
    let s = SessionId::parse("w1").expect("id");
    let u = UserId::parse("u1").expect("id");
    let roles = [PartnerRole::parse("advocate").expect("role")];
    m.bus
        .activate(
            &ConversationId::private(s.clone(), u.clone()),
            &u,
            Some("u1"),
            &roles,
            5,
        )
        .await
        .expect("activate");
    for ws in [&mut first, &mut second] {
        let on = row(ws, "w1", |r| r["status"] == "on").await;
        assert_eq!(on["chats"][0]["operator"]["id"], "o-first");
    }

    // Block from the second instance shows on the first.
    second
        .send_json(json!({"type": "session.block", "session": "w1"}))
        .await;
    row(&mut first, "w1", |r| r["blocked"] == true).await;

    // The user leaves: offline, and the row stays.
    m.bus
        .user_disconnected(&s, &u, "conn-1")
        .await
        .expect("leave");
    for ws in [&mut first, &mut second] {
        row(ws, "w1", |r| r["status"] == "offline").await;
    }

    // Observe-only sessions are off; unavailable ones leave the list.
    m.bus
        .user_connected(&s, &u, "conn-2", Some("u1"), 60_000)
        .await
        .expect("back");
    let patch: StatusPatch =
        serde_json::from_value(json!({"availability": "observeonly"})).expect("patch");
    m.bus.update_status(&s, patch).await.expect("status");
    row(&mut first, "w1", |r| r["status"] == "off").await;
    let patch: StatusPatch =
        serde_json::from_value(json!({"availability": "unavailable"})).expect("patch");
    m.bus.update_status(&s, patch).await.expect("status");
    loop {
        let f = first.next_json().await;
        if f["type"] == "session.gone" {
            assert_eq!(f["session"], "w1");
            break;
        }
    }
}

#[actix_web::test]
async fn tabs_of_one_operator_share_their_status_and_presence_lapses_when_they_vanish() {
    let m = Monitors::start(1, |s| s.limits.presence_seconds = 1).await;
    m.user_arrives("r1", "u1").await;
    let mut tab1 = m.operator(0, "o-1").await;
    let mut tab2 = m.operator(0, "o-1").await;
    tab1.send_json(json!({"type": "operator.status", "available": true, "roles": ["advocate"]}))
        .await;
    loop {
        let s = tab2.next_of_type("operator.state").await;
        if s["available"] == true {
            assert_eq!(s["roles"], json!(["advocate"]));
            assert_eq!(s["known_roles"], json!(["advocate"]));
            break;
        }
    }
    let roles = [PartnerRole::parse("advocate").expect("role")];
    assert_eq!(
        m.bus.count_qualifying(&roles).await.expect("count"),
        1,
        "two tabs count once"
    );

    // A monitor that vanishes without closing (a crashed browser): only its renewals stop.
    let ghost = UserId::parse("o-ghost").expect("id");
    m.bus
        .operator_connected(&ghost, Some("Ghost"), "crashed-tab", 1_000)
        .await
        .expect("presence");
    m.bus
        .set_operator_status(
            &ghost,
            &livehelp_bus::OperatorStatus {
                available: true,
                roles: roles.to_vec(),
            },
        )
        .await
        .expect("status");
    assert_eq!(m.bus.count_qualifying(&roles).await.expect("count"), 2);
    let mut lapsed = false;
    for _ in 0..100 {
        if m.bus.count_qualifying(&roles).await.expect("count") == 1
            && m.bus.expired_operators().await.expect("sweep").is_empty()
        {
            lapsed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        lapsed,
        "the crashed operator stops counting and is signed off"
    );

    // Closing both tabs signs o-1 off at once.
    drop(tab1);
    drop(tab2);
    for _ in 0..100 {
        if m.bus.count_qualifying(&roles).await.expect("count") == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("o-1 still counts after closing every tab");
}

#[actix_web::test]
async fn phone_numbers_must_be_e164_and_clearing_removes_them() {
    let m = Monitors::start(1, |_| {}).await;
    let mut op = m.operator(0, "o-p").await;
    assert_eq!(
        op.next_of_type("operator.state").await["phone"],
        json!(null)
    );
    op.send_json(json!({"type": "operator.phone", "phone": "555-1234"}))
        .await;
    let e = op.next_of_type("error").await;
    assert_eq!(e["code"], "invalid");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("phone: must be in E.164 form")),
        "{e}"
    );
    op.send_json(json!({"type": "operator.phone", "phone": "+12025550123"}))
        .await;
    assert_eq!(
        op.next_of_type("operator.state").await["phone"],
        "+12025550123"
    );
    op.send_json(json!({"type": "operator.phone", "phone": null}))
        .await;
    assert_eq!(
        op.next_of_type("operator.state").await["phone"],
        json!(null)
    );
}

#[actix_web::test]
async fn operators_get_signed_single_use_join_links() {
    let m = Monitors::start(1, |_| {}).await;
    m.user_arrives("j1", "u1").await;
    let http = reqwest::Client::new();
    let url = format!(
        "http://127.0.0.1:{}/monitor/api/sessions/j1/join",
        m.ports[0]
    );
    let ask = |token: String| http.post(&url).bearer_auth(token).send();

    let answer = ask(m.ids.operator("o-j", Some("Jo"))).await.expect("http");
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.expect("json");
    let link = body["url"].as_str().expect("url");
    let token = link
        .strip_prefix("/livehelp/join?token=")
        .expect("the configured join url");
    let secret = secrecy::SecretString::from(livehelp_testkit::JWT_SECRET);
    let claims = livehelp_identity::JoinClaims::verify(token, &secret).expect("a valid join token");
    assert_eq!(
        (
            claims.sub.as_str(),
            claims.sid.as_str(),
            claims.name.as_deref()
        ),
        ("o-j", "j1", Some("Jo"))
    );
    assert!(claims.exp - claims.iat <= 60);

    let second: Value = ask(m.ids.operator("o-j", Some("Jo")))
        .await
        .expect("http")
        .json()
        .await
        .expect("json");
    assert_ne!(
        second["url"], body["url"],
        "every link is unique (its own jti)"
    );
    assert_eq!(
        ask(m.ids.user("u1", "j1", None))
            .await
            .expect("http")
            .status(),
        403
    );
    assert_eq!(http.post(&url).send().await.expect("http").status(), 401);
}

#[actix_web::test]
async fn a_dismissed_offline_row_stays_hidden_until_its_user_returns() {
    let m = Monitors::start(1, |_| {}).await;
    m.user_arrives("d1", "u1").await;
    let mut op = m.operator(0, "o-d").await;
    row(&mut op, "d1", |r| r["status"] == "waiting").await;
    let s = SessionId::parse("d1").expect("id");
    let u = UserId::parse("u1").expect("id");
    m.bus
        .user_disconnected(&s, &u, "conn-1")
        .await
        .expect("leave");
    row(&mut op, "d1", |r| r["status"] == "offline").await;

    op.send_json(json!({"type": "session.dismiss", "session": "d1"}))
        .await;
    assert_eq!(op.next_of_type("session.gone").await["session"], "d1");
    // Reconnecting keeps it hidden.
    drop(op);
    let mut op = m.operator(0, "o-d").await;
    assert_eq!(op.next_of_type("sessions").await["sessions"], json!([]));

    m.bus
        .user_connected(&s, &u, "conn-2", Some("u1"), 60_000)
        .await
        .expect("back");
    row(&mut op, "d1", |r| r["status"] == "waiting").await;
}

#[actix_web::test]
async fn a_name_given_later_shows_at_once_and_nameless_tabs_do_not_erase_it() {
    let m = Monitors::start(1, |_| {}).await;
    m.user_arrives("n1", "u1").await;
    let mut op = m.operator(0, "o-n").await;
    row(&mut op, "n1", |r| r["user_name"] == "u1").await;
    let (s, u) = (
        SessionId::parse("n1").expect("id"),
        UserId::parse("u1").expect("id"),
    );
    // A second tab, after the user answered "Your name".
    m.bus
        .user_connected(&s, &u, "conn-2", Some("Ada"), 60_000)
        .await
        .expect("presence");
    row(&mut op, "n1", |r| r["user_name"] == "Ada").await;
    // The first tab renews its presence without a name: the row keeps "Ada".
    m.bus
        .user_connected(&s, &u, "conn-1", None, 60_000)
        .await
        .expect("renewal");
    let record = m.bus.session_record(&s).await.expect("record");
    assert_eq!(record.user_name.as_deref(), Some("Ada"));
}

#[actix_web::test]
async fn renewing_presence_in_a_session_of_two_named_users_changes_nothing() {
    let m = Monitors::start(1, |_| {}).await;
    let s = SessionId::parse("p1").expect("id");
    let (ada, bob) = (
        UserId::parse("ada").expect("id"),
        UserId::parse("bob").expect("id"),
    );
    let arrive = async |user: &UserId, connection: &str, name: &str| {
        m.bus
            .user_connected(&s, user, connection, Some(name), 60_000)
            .await
            .expect("presence")
    };
    assert!(arrive(&ada, "conn-a", "Ada").await, "Ada arrives");
    assert!(arrive(&bob, "conn-b", "Bob").await, "Bob arrives");
    let mut events = m.bus.hub().subscribe(m.bus.chat_channel(&s)).await;

    // Each renews twice, in turns: nobody arrives, the name stays the newest arrival's, and
    // nothing is published (the first payload is the marker published after the renewals).
    for _ in 0..2 {
        assert!(!arrive(&ada, "conn-a", "Ada").await);
        assert!(!arrive(&bob, "conn-b", "Bob").await);
    }
    let record = m.bus.session_record(&s).await.expect("record");
    assert_eq!(record.user_name.as_deref(), Some("Bob"));
    assert_eq!(record.users_online, [ada.clone(), bob]);
    m.bus
        .publish_chat_event(&ChatEvent::Blocked { session: s.clone() })
        .await
        .expect("marker");
    let first = events.recv().await.expect("payload");
    assert!(
        matches!(
            decode_published(&first.payload),
            Ok(ChatPayload::Event(ChatEvent::Blocked { .. }))
        ),
        "renewals published nothing"
    );

    // A second tab of Ada's arrives with her name: the session is hers again.
    assert!(!arrive(&ada, "conn-a2", "Ada").await, "Ada was online");
    let record = m.bus.session_record(&s).await.expect("record");
    assert_eq!(record.user_name.as_deref(), Some("Ada"));
}
