//! screen-mirror against a real Redis over real WebSockets: observing, late observers,
//! the control lock and its expiry, the user's Stop, and who may do what.

use livehelp_bus::Bus;
use livehelp_protocol::{SessionId, StatusPatch, UserId};
use livehelp_settings::Settings;
use livehelp_testkit::{Identities, RedisServer, WsClient, test_settings};
use screen_mirror::Application;
use serde_json::{Value, json};

struct Mirror {
    port: u16,
    bus: Bus,
    ids: Identities,
    _redis: RedisServer,
}

impl Mirror {
    async fn start(tune: impl FnOnce(&mut Settings)) -> Self {
        let redis = RedisServer::start().expect("redis");
        let mut settings = test_settings(&redis.url(), None);
        tune(&mut settings);
        let app = Application::build(settings.clone()).await.expect("build");
        let port = app.port();
        actix_web::rt::spawn(app.run_until_stopped());
        let bus = livehelp_testkit::test_bus(&settings);
        Self {
            port,
            bus,
            ids: Identities::default(),
            _redis: redis,
        }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/mirror/ws", self.port)
    }

    async fn availability(&self, session: &str, availability: &str) {
        let patch: StatusPatch =
            serde_json::from_value(json!({"availability": availability})).expect("patch");
        self.bus
            .update_status(&SessionId::parse(session).expect("id"), patch)
            .await
            .expect("status");
    }

    async fn user(&self, session: &str) -> WsClient {
        let mut ws = WsClient::connect(
            &self.url(),
            Some(&self.ids.user("u1", session, Some("Ada"))),
        )
        .await
        .expect("user");
        ws.next_of_type("hello").await;
        ws
    }

    async fn operator(&self, id: &str) -> WsClient {
        let mut ws = WsClient::connect(&self.url(), Some(&self.ids.operator(id, Some(id))))
            .await
            .expect("operator");
        ws.next_of_type("hello").await;
        ws
    }
}

/// Waits for a `mirror.control` frame naming `controller` (an id, or null).
async fn control_is(ws: &mut WsClient, controller: Value) {
    loop {
        let f = ws.next_of_type("mirror.control").await;
        if f["controller"]["id"] == controller
            || (controller.is_null() && f["controller"].is_null())
        {
            return;
        }
    }
}

#[actix_web::test]
async fn an_observer_sees_the_users_events_and_a_late_one_gets_a_fresh_snapshot() {
    let m = Mirror::start(|_| {}).await;
    m.availability("m1", "observeonly").await;
    let mut user = m.user("m1").await;
    assert_eq!(user.next_of_type("mirror.watchers").await["count"], 0);

    let mut op = m.operator("o-1").await;
    op.send_json(json!({"type": "mirror.observe", "session": "m1", "on": true}))
        .await;
    assert_eq!(user.next_of_type("mirror.watchers").await["count"], 1);
    user.next_of_type("mirror.snapshot").await;
    let events = json!([{"type": 2, "data": {"node": {"id": 1}}}, {"type": 3, "data": {"source": 5, "id": 7, "text": "abc"}}]);
    user.send_json(json!({"type": "mirror.events", "events": events}))
        .await;
    let seen = op.next_of_type("mirror.events").await;
    assert_eq!(
        (seen["session"].as_str(), &seen["events"]),
        (Some("m1"), &events),
        "relayed byte for byte"
    );

    let mut late = m.operator("o-2").await;
    late.send_json(json!({"type": "mirror.observe", "session": "m1", "on": true}))
        .await;
    assert_eq!(user.next_of_type("mirror.watchers").await["count"], 2);
    user.next_of_type("mirror.snapshot").await;

    // A user who moves to the next page reconnects; observers follow along.
    drop(user);
    let mut next_page = m.user("m1").await;
    assert_eq!(next_page.next_of_type("mirror.watchers").await["count"], 2);
    next_page.next_of_type("mirror.snapshot").await;
    next_page
        .send_json(json!({"type": "mirror.events", "events": [{"type": 4}]}))
        .await;
    assert_eq!(
        late.next_of_type("mirror.events").await["events"],
        json!([{"type": 4}])
    );
}

#[actix_web::test]
async fn one_operator_controls_at_a_time_and_only_they_send_input() {
    let m = Mirror::start(|_| {}).await;
    m.availability("c1", "available").await;
    let mut user = m.user("c1").await;
    let mut a = m.operator("o-a").await;
    let mut b = m.operator("o-b").await;
    for op in [&mut a, &mut b] {
        op.send_json(json!({"type": "mirror.observe", "session": "c1", "on": true}))
            .await;
        control_is(op, Value::Null).await;
    }
    a.send_json(json!({"type": "mirror.control", "session": "c1", "on": true}))
        .await;
    control_is(&mut user, json!("o-a")).await;
    control_is(&mut b, json!("o-a")).await;

    b.send_json(json!({"type": "mirror.control", "session": "c1", "on": true}))
        .await;
    assert_eq!(
        b.next_of_type("error").await["message"],
        "already being controlled by another operator"
    );
    let action = json!({"kind": "input", "id": 7, "value": "filled by the operator"});
    b.send_json(json!({"type": "mirror.input", "session": "c1", "action": action}))
        .await;
    assert_eq!(
        b.next_of_type("error").await["message"],
        "you do not control this screen"
    );

    a.send_json(json!({"type": "mirror.input", "session": "c1", "action": action}))
        .await;
    assert_eq!(user.next_of_type("mirror.input").await["action"], action);

    a.send_json(json!({"type": "mirror.control", "session": "c1", "on": false}))
        .await;
    control_is(&mut user, Value::Null).await;
    b.send_json(json!({"type": "mirror.control", "session": "c1", "on": true}))
        .await;
    control_is(&mut user, json!("o-b")).await;
}

#[actix_web::test]
async fn a_silent_controllers_lock_expires_and_the_user_is_told() {
    let m = Mirror::start(|_| {}).await;
    m.availability("e1", "available").await;
    let mut user = m.user("e1").await;
    control_is(&mut user, Value::Null).await;
    // An operator whose connection died without a word: only its lock is left, for 3 s.
    // The user's socket reads the lock every 2 s, so it sees the lock before it expires
    // (with a shorter lock, whether it did depended on when its first read happened).
    let ghost = UserId::parse("o-ghost").expect("id");
    m.bus
        .take_control(&SessionId::parse("e1").expect("id"), &ghost, 3_000)
        .await
        .expect("lock");
    control_is(&mut user, json!("o-ghost")).await;
    control_is(&mut user, Value::Null).await;
}

#[actix_web::test]
async fn the_users_stop_ends_every_view_and_control() {
    let m = Mirror::start(|_| {}).await;
    m.availability("st", "available").await;
    let mut user = m.user("st").await;
    let mut op = m.operator("o-1").await;
    op.send_json(json!({"type": "mirror.observe", "session": "st", "on": true}))
        .await;
    op.send_json(json!({"type": "mirror.control", "session": "st", "on": true}))
        .await;
    control_is(&mut user, json!("o-1")).await;
    user.send_json(json!({"type": "mirror.stop"})).await;
    let ended = op.next_of_type("mirror.ended").await;
    assert_eq!(ended["reason"], "stopped by the user");
    control_is(&mut user, Value::Null).await;
    op.send_json(
        json!({"type": "mirror.input", "session": "st", "action": {"kind": "click", "id": 1}}),
    )
    .await;
    assert_eq!(
        op.next_of_type("error").await["message"],
        "you do not control this screen"
    );
}

#[actix_web::test]
async fn nobody_sees_an_unavailable_session_and_roles_are_enforced() {
    let m = Mirror::start(|s| s.mirror.max_frame_bytes = 65_536).await;
    let mut user = m.user("u9").await;
    user.send_json(json!({"type": "mirror.events", "events": [{"type": 4}]}))
        .await;
    assert_eq!(
        user.next_of_type("error").await["message"],
        "this session is not visible to operators"
    );
    user.send_json(json!({"type": "mirror.observe", "session": "u9", "on": true}))
        .await;
    assert_eq!(user.next_of_type("error").await["code"], "forbidden");
    user.send_json(json!({"type": "mirror.events", "events": {"not": "a list"}}))
        .await;
    assert_eq!(user.next_of_type("error").await["code"], "bad_frame");

    let mut op = m.operator("o-1").await;
    op.send_json(json!({"type": "mirror.observe", "session": "u9", "on": true}))
        .await;
    assert_eq!(
        op.next_of_type("error").await["message"],
        "this session cannot be observed"
    );
    op.send_json(json!({"type": "mirror.events", "events": []}))
        .await;
    assert_eq!(
        op.next_of_type("error").await["message"],
        "only users stream their screen"
    );

    assert_eq!(
        WsClient::connect(&m.url(), None)
            .await
            .err()
            .map(|s| s.as_u16()),
        Some(401)
    );
    assert_eq!(
        WsClient::connect(&m.url(), Some(&m.ids.staff("clerk")))
            .await
            .err()
            .map(|s| s.as_u16()),
        Some(403)
    );

    user.send_text(&format!(
        r#"{{"type":"mirror.events","events":["{}"]}}"#,
        "x".repeat(70_000)
    ))
    .await;
    assert_eq!(user.closed().await.map(|c| u16::from(c.code)), Some(1009));
}

#[actix_web::test]
async fn with_consent_required_the_user_decides_before_anyone_watches_or_controls() {
    let m = Mirror::start(|_| {}).await;
    let patch: StatusPatch = serde_json::from_value(json!({
        "availability": "available", "observe_consent": true, "control_consent": true
    }))
    .expect("patch");
    m.bus
        .update_status(&SessionId::parse("cs").expect("id"), patch)
        .await
        .expect("status");
    let mut user = m.user("cs").await;
    let mut op = m.operator("o-1").await;

    op.send_json(json!({"type": "mirror.observe", "session": "cs", "on": true}))
        .await;
    assert_eq!(op.next_of_type("mirror.pending").await["kind"], "observe");
    let ask = user.next_of_type("mirror.ask").await;
    assert_eq!(
        (ask["kind"].as_str(), ask["operator"]["id"].as_str()),
        (Some("observe"), Some("o-1"))
    );
    // Nothing of the page reaches the operator before the user agrees.
    user.send_json(json!({"type": "mirror.events", "events": [{"type": 4, "secret": "before"}]}))
        .await;
    user.send_json(
        json!({"type": "mirror.consent", "kind": "observe", "operator": "o-1", "granted": false}),
    )
    .await;
    assert_eq!(op.next_of_type("mirror.answer").await["granted"], false);

    op.send_json(json!({"type": "mirror.observe", "session": "cs", "on": true}))
        .await;
    user.next_of_type("mirror.ask").await;
    user.send_json(
        json!({"type": "mirror.consent", "kind": "observe", "operator": "o-1", "granted": true}),
    )
    .await;
    user.next_of_type("mirror.snapshot").await;
    user.send_json(json!({"type": "mirror.events", "events": [{"type": 4, "after": true}]}))
        .await;
    assert_eq!(
        op.next_of_type("mirror.events").await["events"],
        json!([{"type": 4, "after": true}])
    );

    op.send_json(json!({"type": "mirror.control", "session": "cs", "on": true}))
        .await;
    assert_eq!(op.next_of_type("mirror.pending").await["kind"], "control");
    assert_eq!(user.next_of_type("mirror.ask").await["kind"], "control");
    user.send_json(
        json!({"type": "mirror.consent", "kind": "control", "operator": "o-1", "granted": true}),
    )
    .await;
    control_is(&mut user, json!("o-1")).await;
}
