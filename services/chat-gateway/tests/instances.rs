//! Two gateway instances behave as one, and a killed instance loses nothing: its clients
//! resume on the other with every message exactly once, in order.

mod support;

use livehelp_testkit::{Identities, RedisServer, ServiceProcess, WsClient, fresh_prefix};
use serde_json::{Value, json};
use support::{Gateway, message, send, state_where};

#[actix_web::test]
async fn a_user_on_one_instance_and_an_operator_on_the_other_talk() {
    let gw = Gateway::start().await;
    gw.set_status(
        "i1",
        json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}),
    )
    .await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;
    let (port, _stopper) = gw.another_instance().await;

    let mut user = gw.user("i1", "u1", "Una").await;
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut user, |s| s["operator"]["id"] == "o-1").await;
    let mut op = gw
        .operator_at(&format!("ws://127.0.0.1:{port}/chat/ws"), "o-1", "Olivia")
        .await;
    op.send_json(json!({"type": "chat.open", "conversation": "i1/u1"}))
        .await;

    send(&mut user, "c1", "over there?", None).await;
    message(&mut op, "over there?").await;
    send(&mut op, "r1", "yes, here", Some("i1/u1")).await;
    message(&mut user, "yes, here").await;
}

/// Reads chat messages until `count` distinct texts arrived; fails on a duplicate id.
async fn collect(ws: &mut WsClient, seen: &mut Vec<Value>, count: usize) {
    while seen.len() < count {
        let m = ws.next_of_type("chat.message").await;
        assert!(
            !seen.iter().any(|s| s["id"] == m["id"]),
            "duplicate delivery of {m}"
        );
        seen.push(m);
    }
}

#[actix_web::test]
async fn killing_a_gateway_mid_conversation_loses_and_duplicates_nothing() {
    let redis = RedisServer::start().expect("redis");
    let prefix = fresh_prefix();
    let binary = env!("CARGO_BIN_EXE_chat-gateway");
    let mut a = ServiceProcess::start(binary, &redis.url(), &prefix).expect("gateway a");
    let b = ServiceProcess::start(binary, &redis.url(), &prefix).expect("gateway b");
    let ids = Identities::default();
    let url = |p: &ServiceProcess| format!("ws://127.0.0.1:{}/chat/ws", p.port());

    let http = reqwest::Client::new();
    let status = http
        .put(format!(
            "http://127.0.0.1:{}/chat/api/sessions/k1/status",
            b.port()
        ))
        .bearer_auth(livehelp_testkit::HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "peer"}))
        .send()
        .await
        .expect("host api");
    assert_eq!(status.status(), 200);

    // The sender stays on b; the reader starts on a, which dies.
    let mut sender = WsClient::connect(&url(&b), Some(&ids.user("u-s", "k1", Some("S"))))
        .await
        .expect("sender");
    sender.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut sender, |s| s["active"] == true).await;
    let mut reader = WsClient::connect(&url(&a), Some(&ids.user("u-r", "k1", Some("R"))))
        .await
        .expect("reader");
    reader.send_json(json!({"type": "chat.open"})).await;

    let mut acks = Vec::new();
    for i in 0..20 {
        acks.push(send(&mut sender, &format!("c{i}"), &format!("m{i}"), None).await["id"].clone());
    }
    let mut seen = Vec::new();
    collect(&mut reader, &mut seen, 10).await;
    a.kill();
    for i in 20..40 {
        acks.push(send(&mut sender, &format!("c{i}"), &format!("m{i}"), None).await["id"].clone());
    }

    // The reader reconnects, lands on b, and resumes after the last id it saw.
    let last = seen.last().map(|m| m["id"].clone()).expect("some seen");
    let mut reader = WsClient::connect(&url(&b), Some(&ids.user("u-r", "k1", Some("R"))))
        .await
        .expect("reader again");
    reader
        .send_json(json!({"type": "chat.open", "after": last}))
        .await;
    collect(&mut reader, &mut seen, 40).await;
    let ids_seen: Vec<&Value> = seen.iter().map(|m| &m["id"]).collect();
    let ids_acked: Vec<&Value> = acks.iter().collect();
    assert_eq!(
        ids_seen, ids_acked,
        "every acknowledged message, once, in order"
    );

    // The killed instance comes back and serves again.
    a.restart().expect("restart");
    let mut late = WsClient::connect(&url(&a), Some(&ids.user("u-l", "k1", None)))
        .await
        .expect("late");
    late.send_json(json!({"type": "chat.open"})).await;
    let mut history = Vec::new();
    collect(&mut late, &mut history, 40).await;
}

#[actix_web::test]
async fn a_rolling_update_closes_clients_with_1001_and_they_resume_elsewhere() {
    let redis = RedisServer::start().expect("redis");
    let prefix = fresh_prefix();
    let binary = env!("CARGO_BIN_EXE_chat-gateway");
    let mut old = ServiceProcess::start(binary, &redis.url(), &prefix).expect("old instance");
    let new = ServiceProcess::start(binary, &redis.url(), &prefix).expect("new instance");
    let ids = Identities::default();
    let url = |p: &ServiceProcess| format!("ws://127.0.0.1:{}/chat/ws", p.port());
    reqwest::Client::new()
        .put(format!(
            "http://127.0.0.1:{}/chat/api/sessions/r1/status",
            new.port()
        ))
        .bearer_auth(livehelp_testkit::HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "peer"}))
        .send()
        .await
        .expect("host api");

    let mut sender = WsClient::connect(&url(&new), Some(&ids.user("u-s", "r1", None)))
        .await
        .expect("sender");
    sender.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut sender, |s| s["active"] == true).await;
    let mut reader = WsClient::connect(&url(&old), Some(&ids.user("u-r", "r1", None)))
        .await
        .expect("reader");
    reader.send_json(json!({"type": "chat.open"})).await;
    let mut acks = vec![send(&mut sender, "c0", "before", None).await["id"].clone()];
    let mut seen = Vec::new();
    collect(&mut reader, &mut seen, 1).await;

    let status = old.terminate().expect("exits");
    assert!(
        status.success(),
        "a drained instance exits cleanly: {status:?}"
    );
    let close = reader.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    acks.push(send(&mut sender, "c1", "during", None).await["id"].clone());

    let last = seen.last().map(|m| m["id"].clone()).expect("seen");
    let mut reader = WsClient::connect(&url(&new), Some(&ids.user("u-r", "r1", None)))
        .await
        .expect("reader again");
    reader
        .send_json(json!({"type": "chat.open", "after": last}))
        .await;
    acks.push(send(&mut sender, "c2", "after", None).await["id"].clone());
    collect(&mut reader, &mut seen, 3).await;
    let ids_seen: Vec<&Value> = seen.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids_seen, acks.iter().collect::<Vec<_>>());
}
