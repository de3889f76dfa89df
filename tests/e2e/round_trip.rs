//! One conversation end to end through nginx: the host enables live help, an operator makes
//! themselves available on the monitor, the user chats, the monitor shows the session
//! (learnt through Redis only) and the reply comes back. Blocking from the monitor ends the
//! operator's part at once.

use livehelp_e2e::Cluster;
use livehelp_testkit::{HOST_API_KEY, Identities, WsClient};
use serde_json::{Value, json};

async fn row_where(monitor: &mut WsClient, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = monitor.next_json().await;
        let rows = match frame["type"].as_str() {
            Some("session") => vec![frame["session"].clone()],
            Some("sessions") => frame["sessions"].as_array().cloned().unwrap_or_default(),
            _ => continue,
        };
        if let Some(row) = rows.into_iter().find(|r| want(r)) {
            return row;
        }
    }
}

#[actix_web::test]
async fn a_message_and_its_reply_cross_the_whole_cluster() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    let http = reqwest::Client::new();

    let status = http
        .put(cluster.url("/chat/api/sessions/e2e-1/status"))
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "help", "partner_roles": "advocate", "title": "Benefits"}))
        .send()
        .await
        .expect("host api");
    assert_eq!(status.status(), 200);

    let operator = ids.operator("o1", Some("Olivia"));
    let mut monitor = WsClient::connect(&cluster.ws_url("/monitor/ws"), Some(&operator))
        .await
        .expect("monitor");
    monitor.next_of_type("hello").await;
    let state = monitor.next_of_type("operator.state").await;
    assert_eq!(state["available"], false);
    assert_eq!(
        state["known_roles"],
        json!(["advocate"]),
        "roles sessions asked for are offered"
    );
    monitor
        .send_json(json!({"type": "operator.status", "available": true, "roles": ["advocate"]}))
        .await;
    let state = monitor.next_of_type("operator.state").await;
    assert_eq!(
        (state["available"].as_bool(), &state["roles"]),
        (Some(true), &json!(["advocate"]))
    );

    let mut user = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        Some(&ids.user("u1", "e2e-1", Some("Ada"))),
    )
    .await
    .expect("user");
    user.next_of_type("hello").await;
    let standby = row_where(&mut monitor, |r| r["session"] == "e2e-1").await;
    assert_eq!(
        (standby["status"].as_str(), standby["title"].as_str()),
        (Some("standby"), Some("Benefits"))
    );
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;

    let row = row_where(&mut monitor, |r| r["status"] == "on").await;
    assert_eq!(row["user_name"], "Ada");
    assert_eq!(row["chats"][0]["conversation"], "e2e-1/u1");
    assert_eq!(row["chats"][0]["operator"]["name"], "Olivia");

    let mut op_chat = WsClient::connect(&cluster.ws_url("/chat/ws"), Some(&operator))
        .await
        .expect("operator chat");
    op_chat.next_of_type("hello").await;
    op_chat
        .send_json(json!({"type": "chat.open", "conversation": "e2e-1/u1"}))
        .await;

    user.send_json(json!({"type": "chat.send", "cmid": "c1", "text": "I need help"}))
        .await;
    assert_eq!(
        op_chat.next_of_type("chat.message").await["text"],
        "I need help"
    );
    op_chat.send_json(json!({"type": "chat.send", "cmid": "r1", "conversation": "e2e-1/u1", "text": "Olivia here"})).await;
    let reply = loop {
        let m = user.next_of_type("chat.message").await;
        if m["from"]["kind"] == "operator" {
            break m;
        }
    };
    assert_eq!(reply["text"], "Olivia here");
    assert_eq!(reply["from"]["name"], "Olivia");

    // Block from the monitor: the gateway ends the operator's part at once.
    monitor
        .send_json(json!({"type": "session.block", "session": "e2e-1"}))
        .await;
    let closed = op_chat.next_of_type("chat.closed").await;
    assert_eq!(closed["reason"], "blocked");
    assert_eq!(
        row_where(&mut monitor, |r| r["blocked"] == true).await["session"],
        "e2e-1"
    );
    monitor
        .send_json(json!({"type": "session.unblock", "session": "e2e-1"}))
        .await;
    row_where(&mut monitor, |r| r["blocked"] == false).await;

    // Users are not operators: the monitor refuses them.
    let refused = WsClient::connect(
        &cluster.ws_url("/monitor/ws"),
        Some(&ids.user("u1", "e2e-1", None)),
    )
    .await;
    assert_eq!(refused.err().map(|s| s.as_u16()), Some(403));
}

#[actix_web::test]
async fn closing_the_last_monitor_signs_the_operator_off() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    let http = reqwest::Client::new();
    http.put(cluster.url("/chat/api/sessions/e2e-2/status"))
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}))
        .send()
        .await
        .expect("host api");
    let operator = ids.operator("o2", Some("Otto"));
    let monitor_url = cluster.ws_url("/monitor/ws");
    let mut first = WsClient::connect(&monitor_url, Some(&operator))
        .await
        .expect("tab 1");
    first
        .send_json(json!({"type": "operator.status", "available": true, "roles": ["advocate"]}))
        .await;
    first.next_of_type("operator.state").await;
    let mut second = WsClient::connect(&monitor_url, Some(&operator))
        .await
        .expect("tab 2");
    second.next_of_type("operator.state").await;

    let mut user = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        Some(&ids.user("u2", "e2e-2", None)),
    )
    .await
    .expect("user");
    user.send_json(json!({"type": "chat.activate"})).await;
    let with = loop {
        let s = user.next_of_type("chat.state").await;
        if !s["operator"].is_null() {
            break s;
        }
    };
    assert_eq!(
        (with["help"].as_u64(), with["operator"]["id"].as_str()),
        (Some(1), Some("o2")),
        "two tabs count once"
    );

    drop(first);
    drop(second);
    let alone = loop {
        let s = user.next_of_type("chat.state").await;
        if s["operator"].is_null() {
            break s;
        }
    };
    assert_eq!(
        (alone["help"].as_u64(), alone["active"].as_bool()),
        (Some(0), Some(true))
    );
}

#[actix_web::test]
async fn the_host_reads_who_joined_blocked_and_observed() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    let http = reqwest::Client::new();
    http.put(cluster.url("/chat/api/sessions/e2e-3/status"))
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}))
        .send()
        .await
        .expect("host api");
    let operator = ids.operator("o3", Some("Ola"));
    let join = http
        .post(cluster.url("/monitor/api/sessions/e2e-3/join"))
        .bearer_auth(&operator)
        .send()
        .await
        .expect("join");
    assert_eq!(join.status(), 200);
    let mut monitor = WsClient::connect(&cluster.ws_url("/monitor/ws"), Some(&operator))
        .await
        .expect("monitor");
    monitor
        .send_json(json!({"type": "session.block", "session": "e2e-3"}))
        .await;
    let mut mirror = WsClient::connect(&cluster.ws_url("/mirror/ws"), Some(&operator))
        .await
        .expect("mirror");
    mirror
        .send_json(json!({"type": "mirror.observe", "session": "e2e-3", "on": true}))
        .await;
    mirror.next_of_type("mirror.control").await;

    let audit = |token: String| {
        http.get(cluster.url("/chat/api/sessions/e2e-3/audit"))
            .bearer_auth(token)
            .send()
    };
    let mut actions = Vec::new();
    for _ in 0..50 {
        let trail: Value = audit(HOST_API_KEY.to_owned())
            .await
            .expect("audit")
            .json()
            .await
            .expect("json");
        actions = trail
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| e["action"].as_str().unwrap_or("").to_owned())
            .collect();
        if actions.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Block (monitor socket) and observe (mirror socket) travel on separate sockets.
    actions.sort();
    assert_eq!(actions, ["block", "join", "observe"]);
    let user = ids.user("u3", "e2e-3", None);
    assert_eq!(
        audit(user).await.expect("audit").status(),
        403,
        "users do not read the audit trail"
    );
}
