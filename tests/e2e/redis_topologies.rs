//! The services on the other Redis topologies a deployment may have: a three-primary Redis
//! Cluster (sharded channels, hash-tagged keys) and Sentinel with a failover in the middle of
//! a conversation.

use std::process::Command;
use std::time::Duration;

use livehelp_e2e::Cluster;
use livehelp_settings::RedisMode;
use livehelp_testkit::{HOST_API_KEY, Identities, RedisCluster, RedisSentinel, WsClient};
use secrecy::SecretString;
use serde_json::{Value, json};

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn next_message_from(client: &mut WsClient, kind: &str) -> Value {
    loop {
        let m = client.next_of_type("chat.message").await;
        if m["from"]["kind"] == kind {
            return m;
        }
    }
}

#[actix_web::test]
async fn a_help_chat_runs_end_to_end_on_a_three_primary_redis_cluster() {
    let redis = RedisCluster::start().expect("redis cluster");
    let nodes: Vec<SecretString> = redis.urls().into_iter().map(SecretString::from).collect();
    // The harness's own single Redis stays idle: every service is told to use the cluster.
    let cluster = Cluster::start_with(|s| {
        s.redis.mode = RedisMode::Cluster;
        s.redis.nodes = nodes.clone();
    })
    .await
    .expect("livehelp on the cluster");
    let ids = Identities::default();

    // Session "cl-2" hashes to the first primary's slots, the operator directory ("{dir}")
    // to the second's: attaching the operator and the conversation cross shards.
    let status = reqwest::Client::new()
        .put(cluster.url("/chat/api/sessions/cl-2/status"))
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}))
        .send()
        .await
        .expect("host api");
    assert_eq!(status.status(), 200);

    let operator = ids.operator("o1", Some("Olivia"));
    let mut monitor = WsClient::connect(&cluster.ws_url("/monitor/ws"), Some(&operator))
        .await
        .expect("monitor");
    monitor.next_of_type("operator.state").await;
    monitor
        .send_json(json!({"type": "operator.status", "available": true, "roles": ["advocate"]}))
        .await;
    while monitor.next_of_type("operator.state").await["available"] != true {}

    let mut user = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        Some(&ids.user("u1", "cl-2", Some("Ada"))),
    )
    .await
    .expect("user");
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    let state = loop {
        let s = user.next_of_type("chat.state").await;
        if s["operator"].is_object() {
            break s;
        }
    };
    assert_eq!(
        state["operator"]["name"], "Olivia",
        "attached across shards"
    );

    let mut op_chat = WsClient::connect(&cluster.ws_url("/chat/ws"), Some(&operator))
        .await
        .expect("operator chat");
    op_chat
        .send_json(json!({"type": "chat.open", "conversation": "cl-2/u1"}))
        .await;
    for i in 0..5 {
        let text = format!("question {i}");
        user.send_json(json!({"type": "chat.send", "cmid": format!("c{i}"), "text": text}))
            .await;
        assert_eq!(next_message_from(&mut op_chat, "user").await["text"], text);
        op_chat
            .send_json(json!({"type": "chat.send", "cmid": format!("r{i}"), "conversation": "cl-2/u1", "text": format!("answer {i}")}))
            .await;
        assert_eq!(
            next_message_from(&mut user, "operator").await["text"],
            format!("answer {i}")
        );
    }

    // The monitor learnt the session through the cluster too.
    let row = loop {
        let frame = monitor.next_json().await;
        let rows = match frame["type"].as_str() {
            Some("session") => vec![frame["session"].clone()],
            Some("sessions") => frame["sessions"].as_array().cloned().unwrap_or_default(),
            _ => continue,
        };
        if let Some(row) = rows
            .into_iter()
            .find(|r| r["session"] == "cl-2" && r["status"] == "on")
        {
            break row;
        }
    };
    assert_eq!(row["chats"][0]["operator"]["name"], "Olivia");

    // Pub/sub is sharded: the session's channel is subscribed on exactly one primary, and
    // nobody uses the cluster-wide (broadcast) channels.
    let mut holding = Vec::new();
    for node in redis.nodes() {
        let shard = cli(node.port(), &["pubsub", "shardchannels", "*"]);
        if shard.lines().any(|c| c.ends_with(":chan:chat:{cl-2}")) {
            holding.push(node.port());
        }
        assert_eq!(
            cli(node.port(), &["pubsub", "channels", "*"]).trim(),
            "",
            "no plain channels on {}",
            node.port()
        );
    }
    assert_eq!(holding.len(), 1, "the chat channel lives on one shard");
    let with_keys = redis
        .nodes()
        .iter()
        .filter(|n| cli(n.port(), &["dbsize"]).trim() != "0")
        .count();
    assert!(
        with_keys >= 2,
        "keys spread over the shards, saw {with_keys}"
    );
}

/// Sends `text` once: `Ok(id)` when acknowledged; `Err` when refused with an error frame or
/// the socket dropped (then `writer` is connected again).
async fn send_once(
    cluster: &Cluster,
    writer: &mut WsClient,
    cmid: &str,
    text: &str,
) -> Result<Value, ()> {
    writer
        .send_json(json!({"type": "chat.send", "cmid": cmid, "text": text}))
        .await;
    loop {
        match writer.next_frame_or_close().await {
            Ok(f) if f["type"] == "chat.ack" && f["cmid"] == cmid => return Ok(f["id"].clone()),
            Ok(f) if f["type"] == "error" => return Err(()),
            Ok(_) => {}
            Err(_) => {
                *writer = cluster.chatting_user("f1").await;
                return Err(());
            }
        }
    }
}

/// Sends `text` with `cmid` until it is acknowledged, as the widget does: the same `cmid`
/// again after a refusal. Returns the acknowledged id.
async fn send_until_acknowledged(
    cluster: &Cluster,
    writer: &mut WsClient,
    cmid: &str,
    text: &str,
) -> Value {
    for _ in 0..100 {
        if let Ok(id) = send_once(cluster, writer, cmid, text).await {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{cmid} was never acknowledged");
}

#[actix_web::test]
async fn acknowledged_messages_survive_a_sentinel_failover() {
    let mut redis = RedisSentinel::start().expect("sentinel setup");
    let sentinels: Vec<SecretString> = redis
        .sentinel_urls()
        .into_iter()
        .map(SecretString::from)
        .collect();
    let cluster = Cluster::start_with(|s| {
        s.redis.mode = RedisMode::Sentinel;
        s.redis.nodes = sentinels.clone();
        s.redis.sentinel_master = RedisSentinel::MASTER.into();
        s.redis.ack_replicas = 1;
    })
    .await
    .expect("livehelp through sentinel");

    let mut writer = cluster.chatting_user("f1").await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let sent = send_once(&cluster, &mut writer, &format!("c{i}"), &format!("m{i}")).await;
        acked.push(sent.expect("a primary with its replica acknowledges at once"));
    }

    // The primary dies and Sentinel promotes the replica, which has no replica of its own:
    // sends are refused rather than acknowledged at risk of the next failover.
    let old_primary = redis.primary().port();
    redis.primary().stop();
    while redis.current_primary_port() == Some(old_primary) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(redis.current_primary_port(), Some(redis.replica().port()));
    // The first refusals may come from the promotion itself (READONLY until it completes);
    // then the promoted primary stores the message but no replica confirms it.
    let mut unreplicated = 0;
    for _ in 0..50 {
        let refused = send_once(&cluster, &mut writer, "c20", "m20").await;
        assert!(
            refused.is_err(),
            "acknowledged with no replica: {refused:?}"
        );
        let metrics = cluster.scrape("chat-gateway").await;
        unreplicated = livehelp_e2e::counter(&metrics, "livehelp_chat_unreplicated_total", &[]);
        if unreplicated > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        unreplicated > 0,
        "refusals for want of a replica are counted"
    );

    // The old primary comes back; Sentinel makes it a replica and sends go through again.
    redis.primary().resume().expect("old primary restarts");
    for i in 20..40 {
        acked.push(
            send_until_acknowledged(&cluster, &mut writer, &format!("c{i}"), &format!("m{i}"))
                .await,
        );
    }

    // Every acknowledged message is there once, in order, on the promoted primary.
    let mut reader = cluster.chatting_user("f1").await;
    let mut seen = Vec::new();
    while seen.len() < acked.len() {
        let m = reader.next_of_type("chat.message").await;
        seen.push((m["id"].clone(), m["text"].clone()));
    }
    let ids: Vec<Value> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, acked, "every acknowledged message, once, in order");
    let texts: Vec<Value> = seen.into_iter().map(|(_, t)| t).collect();
    let sent: Vec<Value> = (0..40).map(|i| json!(format!("m{i}"))).collect();
    assert_eq!(texts, sent);
}
