//! What operators rely on: metrics Prometheus accepts, readiness that follows Redis, and a
//! SIGTERM that drains WebSockets with 1001.

use std::time::Duration;

use livehelp_e2e::Cluster;
use livehelp_testkit::{Identities, WsClient};
use serde_json::json;

async fn readyz(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Polls every service's `/readyz` until all answer `want` (Redis reconnects take a
/// moment; this waits for a state, it does not time anything).
async fn all_ready_become(cluster: &Cluster, want: u16) {
    let http = reqwest::Client::new();
    for _ in 0..300 {
        let mut all = true;
        for s in &cluster.services {
            all &= readyz(&http, &s.url("/readyz")).await == want;
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut seen = Vec::new();
    for s in &cluster.services {
        seen.push((s.name, readyz(&http, &s.url("/readyz")).await));
    }
    panic!("wanted every /readyz to answer {want}, saw {seen:?}");
}

#[actix_web::test]
async fn every_services_metrics_pass_promtool() {
    let cluster = Cluster::start().await.expect("cluster");
    // Some traffic first, so that counters, gauges and histograms exist.
    let mut user = cluster.chatting_user("m1").await;
    user.send_text("not json").await;
    user.next_of_type("error").await;
    user.send_json(json!({"type": "chat.send", "cmid": "c1", "text": "counted"}))
        .await;
    user.next_of_type("chat.ack").await;
    let _ = WsClient::connect(&cluster.ws_url("/chat/ws"), None).await;

    let http = reqwest::Client::new();
    for s in &cluster.services {
        let text = http
            .get(s.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        assert!(
            text.contains("livehelp_ws_connections"),
            "{}: no livehelp metrics in {text}",
            s.name
        );
        if s.name == "chat-gateway" {
            assert!(
                text.contains("livehelp_chat_store_duration_seconds_bucket"),
                "{text}"
            );
        }
        let mut child = tokio::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("promtool (deploy/local/install-deps installs it)");
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).await.expect("write");
        drop(stdin);
        let out = child.wait_with_output().await.expect("promtool ran");
        let complaints = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && complaints.trim().is_empty(),
            "{}: promtool says {complaints}\n{text}",
            s.name
        );
    }
}

#[actix_web::test]
async fn readiness_follows_redis_and_chat_recovers_without_restarts() {
    let mut cluster = Cluster::start().await.expect("cluster");
    all_ready_become(&cluster, 200).await;

    cluster.redis.stop();
    all_ready_become(&cluster, 503).await;
    cluster.redis.resume().expect("redis restarts");
    all_ready_become(&cluster, 200).await;

    let mut user = cluster.chatting_user("r1").await;
    user.send_json(json!({"type": "chat.send", "cmid": "c1", "text": "back again"}))
        .await;
    user.next_of_type("chat.ack").await;
    assert_eq!(
        user.next_of_type("chat.message").await["text"],
        "back again"
    );
}

#[actix_web::test]
async fn a_connection_open_across_a_redis_restart_gets_messages_sent_after_it() {
    let mut cluster = Cluster::start().await.expect("cluster");
    let mut reader = cluster.chatting_user("r2").await;

    cluster.redis.stop();
    all_ready_become(&cluster, 503).await;
    cluster.redis.resume().expect("redis restarts");
    all_ready_become(&cluster, 200).await;

    // Redis lost everything (no persistence in tests): the host sets the status again and a
    // second user writes; the reader's connection, open all along, receives it.
    let mut writer = cluster.chatting_user("r2").await;
    writer
        .send_json(json!({"type": "chat.send", "cmid": "c1", "text": "after the restart"}))
        .await;
    writer.next_of_type("chat.ack").await;
    assert_eq!(
        reader.next_of_type("chat.message").await["text"],
        "after the restart"
    );
}

#[actix_web::test]
async fn draining_closes_websockets_with_1001_and_stops_the_service() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    let gateway = cluster.service("chat-gateway");
    let direct = format!("ws://127.0.0.1:{}/chat/ws", gateway.port);
    let mut user = WsClient::connect(&direct, Some(&ids.user("u", "d1", None)))
        .await
        .expect("ws");
    user.next_of_type("hello").await;

    let stopper = gateway.stopper.clone();
    let stopping = actix_web::rt::spawn(async move { stopper.stop().await });
    let close = user.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    assert_eq!(close.reason.as_str(), "server shutting down");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stops within the grace")
        .expect("joined");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", gateway.port)).is_err(),
        "the listener is closed"
    );
}

#[actix_web::test]
async fn acknowledged_messages_survive_a_killed_redis_with_persistence_on() {
    let mut cluster = Cluster::start_persistent().await.expect("cluster");
    let mut writer = cluster.chatting_user("p1").await;
    let mut acked = Vec::new();
    for i in 0..20 {
        writer
            .send_json(
                json!({"type": "chat.send", "cmid": format!("c{i}"), "text": format!("m{i}")}),
            )
            .await;
        acked.push(writer.next_of_type("chat.ack").await["id"].clone());
    }
    cluster.redis.stop();
    all_ready_become(&cluster, 503).await;
    cluster.redis.resume().expect("redis restarts");
    all_ready_become(&cluster, 200).await;

    let mut reader = cluster.chatting_user("p1").await;
    let mut seen = Vec::new();
    while seen.len() < acked.len() {
        seen.push(reader.next_of_type("chat.message").await["id"].clone());
    }
    assert_eq!(seen, acked, "every acknowledged message, in order");
}
