//! Floods through nginx: more WebSockets than an instance admits, one identity opening
//! socket after socket across sessions, and frames or bodies over the size limit. Each is
//! refused with a clear status or close code, counted in `/metrics`, and harms nothing
//! else: the service stays ready and admitted clients go on chatting. (Message floods on
//! one socket: chat-gateway's `a_message_flood_is_refused_then_cut_off_without_disturbing_others`.)

use std::time::Duration;

use livehelp_e2e::Cluster;
use livehelp_testkit::{HOST_API_KEY, Identities, WsClient};
use serde_json::{Value, json};

/// A handshake's HTTP answer as a plain request, to read the refusal's body.
async fn refused_handshake(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header(
            "Sec-WebSocket-Protocol",
            format!("livehelp.v1, bearer.{token}"),
        )
        .send()
        .await
        .expect("handshake request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn ready(cluster: &Cluster, service: &str) -> u16 {
    reqwest::get(cluster.service(service).url("/readyz"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Retries a handshake until the server has noticed a closed socket and freed its place.
async fn connects_again(url: &str, token: &str) -> WsClient {
    for _ in 0..100 {
        if let Ok(ws) = WsClient::connect(url, Some(token)).await {
            return ws;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a closed socket's place was never freed");
}

async fn activate(ws: &mut WsClient) {
    ws.send_json(json!({"type": "chat.open"})).await;
    ws.send_json(json!({"type": "chat.activate"})).await;
    while ws.next_of_type("chat.state").await["active"] != true {}
}

#[actix_web::test]
async fn a_connection_flood_beyond_the_process_cap_gets_503_and_the_admitted_go_on() {
    const CAP: usize = 20;
    const FLOOD: usize = 200;
    let cluster = Cluster::start_with(|s| {
        s.limits.max_connections = CAP;
        s.limits.max_connections_per_identity = CAP;
    })
    .await
    .expect("cluster");
    cluster.peer_session("fl-1").await;
    let ids = Identities::default();
    let url = cluster.ws_url("/chat/ws");
    let mut admitted = Vec::new();
    for i in 0..CAP {
        let token = ids.user(&format!("u{i}"), "fl-1", None);
        admitted.push(
            WsClient::connect(&url, Some(&token))
                .await
                .expect("under the cap"),
        );
    }

    let flood = (0..FLOOD).map(|i| {
        let token = ids.user(&format!("flood{i}"), "fl-1", None);
        let url = url.clone();
        async move { WsClient::connect(&url, Some(&token)).await.err() }
    });
    let refusals = futures_util::future::join_all(flood).await;
    assert!(
        refusals.iter().all(|r| r.map(|s| s.as_u16()) == Some(503)),
        "every handshake over the cap is refused with 503: {refusals:?}"
    );
    let (status, body) = refused_handshake(
        &cluster.url("/chat/ws"),
        &ids.user("one-more", "fl-1", None),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "unavailable", "{body}");

    let metrics = cluster.scrape("chat-gateway").await;
    assert_eq!(
        livehelp_e2e::counter(
            &metrics,
            "livehelp_ws_connections_refused_total",
            &[("service", "chat-gateway"), ("reason", "process_cap")]
        ),
        FLOOD as u64 + 1,
        "{metrics}"
    );
    assert_eq!(ready(&cluster, "chat-gateway").await, 200);

    // The admitted still chat; a closed socket frees its place.
    let (mut a, mut b) = (admitted.remove(0), admitted.remove(0));
    activate(&mut a).await;
    activate(&mut b).await;
    a.send_json(json!({"type": "chat.send", "cmid": "c1", "text": "still here"}))
        .await;
    assert_eq!(b.next_of_type("chat.message").await["text"], "still here");
    drop(admitted.pop());
    let mut late = connects_again(&url, &ids.user("late", "fl-1", None)).await;
    assert_eq!(late.next_of_type("hello").await["you"]["id"], "late");
}

#[actix_web::test]
async fn one_identity_holds_at_most_its_cap_of_sockets_across_sessions_and_services() {
    const PER_IDENTITY: usize = 3;
    let cluster = Cluster::start_with(|s| s.limits.max_connections_per_identity = PER_IDENTITY)
        .await
        .expect("cluster");
    cluster.peer_session("fl-2").await;
    cluster.peer_session("fl-3").await;
    let ids = Identities::default();
    let chat = cluster.ws_url("/chat/ws");
    let token = ids.user("tabby", "fl-2", None);
    let mut tabs = Vec::new();
    for _ in 0..PER_IDENTITY {
        tabs.push(WsClient::connect(&chat, Some(&token)).await.expect("a tab"));
    }
    let over = WsClient::connect(&chat, Some(&token)).await.err();
    assert_eq!(over.map(|s| s.as_u16()), Some(429));
    let other_session = ids.user("tabby", "fl-3", None);
    let (status, body) = refused_handshake(&cluster.url("/chat/ws"), &other_session).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited")),
        "more sessions do not buy more sockets: {body}"
    );
    let mut other = WsClient::connect(&chat, Some(&ids.user("calm", "fl-2", None)))
        .await
        .expect("other users are not affected");
    activate(&mut other).await;

    // Operators too, on every service's sockets (one shared handshake).
    let operator = ids.operator("o-tabs", None);
    let monitor = cluster.ws_url("/monitor/ws");
    let mut monitors = Vec::new();
    for _ in 0..PER_IDENTITY {
        monitors.push(
            WsClient::connect(&monitor, Some(&operator))
                .await
                .expect("a tab"),
        );
    }
    let over = WsClient::connect(&monitor, Some(&operator)).await.err();
    assert_eq!(over.map(|s| s.as_u16()), Some(429));

    for (service, refused) in [("chat-gateway", 2), ("session-monitor", 1)] {
        let metrics = cluster.scrape(service).await;
        assert_eq!(
            livehelp_e2e::counter(
                &metrics,
                "livehelp_ws_connections_refused_total",
                &[("service", service), ("reason", "identity_cap")]
            ),
            refused,
            "{metrics}"
        );
        assert_eq!(ready(&cluster, service).await, 200);
    }

    drop(tabs.pop());
    let mut again = connects_again(&chat, &other_session).await;
    assert_eq!(again.next_of_type("hello").await["session"], "fl-3");
    other
        .send_json(json!({"type": "chat.send", "cmid": "c1", "text": "unbothered"}))
        .await;
    assert_eq!(
        other.next_of_type("chat.message").await["text"],
        "unbothered"
    );
}

#[actix_web::test]
async fn oversized_frames_and_bodies_are_refused_counted_and_harm_nothing() {
    let cluster = Cluster::start().await.expect("cluster");
    cluster.peer_session("fl-4").await;
    let ids = Identities::default();
    let big = "x".repeat(70_000);

    let mut user = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        Some(&ids.user("big", "fl-4", None)),
    )
    .await
    .expect("user");
    user.send_text(&big).await;
    assert_eq!(user.closed().await.map(|c| u16::from(c.code)), Some(1009));
    let mut monitor = WsClient::connect(
        &cluster.ws_url("/monitor/ws"),
        Some(&ids.operator("o-big", None)),
    )
    .await
    .expect("monitor");
    monitor.send_text(&big).await;
    assert_eq!(
        monitor.closed().await.map(|c| u16::from(c.code)),
        Some(1009)
    );

    let body = reqwest::Client::new()
        .put(cluster.url("/chat/api/sessions/fl-4/status"))
        .bearer_auth(HOST_API_KEY)
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"availability":"available","title":"{big}"}}"#))
        .send()
        .await
        .expect("host api");
    assert_eq!(body.status(), 413);
    let body: Value = body.json().await.unwrap_or(Value::Null);
    assert_eq!(body["error"]["code"], "too_large", "{body}");

    let metrics = cluster.scrape("chat-gateway").await;
    assert!(
        livehelp_e2e::counter(
            &metrics,
            "livehelp_ws_frames_rejected_total",
            &[("reason", "too_large")]
        ) >= 2,
        "{metrics}"
    );
    for service in ["chat-gateway", "session-monitor"] {
        assert_eq!(ready(&cluster, service).await, 200);
    }
    let mut after = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        Some(&ids.user("big", "fl-4", None)),
    )
    .await
    .expect("the same user comes back");
    activate(&mut after).await;
}
