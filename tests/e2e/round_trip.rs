//! One message end to end through nginx: the host enables live help, the user chats, the
//! operator's monitor lists the session (learnt through Redis only) and the reply comes
//! back.

use livehelp_e2e::Cluster;
use livehelp_testkit::{HOST_API_KEY, Identities, WsClient};
use serde_json::json;

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
    assert_eq!(
        monitor.next_of_type("sessions").await["sessions"],
        json!([])
    );

    let mut user = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        Some(&ids.user("u1", "e2e-1", Some("Ada"))),
    )
    .await
    .expect("user");
    user.next_of_type("hello").await;
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;

    // The monitor hears of the session through Redis: first as it connects, then as chat
    // turns on.
    let row = loop {
        let frame = monitor.next_of_type("session").await;
        if frame["session"]["status"] == "on" {
            break frame["session"].clone();
        }
    };
    assert_eq!(row["session"], "e2e-1");
    assert_eq!(row["title"], "Benefits");
    assert_eq!(row["user_name"], "Ada");

    let mut op_chat = WsClient::connect(&cluster.ws_url("/chat/ws"), Some(&operator))
        .await
        .expect("operator chat");
    op_chat.next_of_type("hello").await;
    op_chat
        .send_json(json!({"type": "chat.open", "session": "e2e-1"}))
        .await;

    user.send_json(json!({"type": "chat.send", "cmid": "c1", "text": "I need help"}))
        .await;
    assert_eq!(
        op_chat.next_of_type("chat.message").await["text"],
        "I need help"
    );
    op_chat
        .send_json(
            json!({"type": "chat.send", "cmid": "r1", "session": "e2e-1", "text": "Olivia here"}),
        )
        .await;
    let reply = loop {
        let m = user.next_of_type("chat.message").await;
        if m["from"]["kind"] == "operator" {
            break m;
        }
    };
    assert_eq!(reply["text"], "Olivia here");
    assert_eq!(reply["from"]["name"], "Olivia");

    // Users are not operators: the monitor refuses them.
    let refused = WsClient::connect(
        &cluster.ws_url("/monitor/ws"),
        Some(&ids.user("u1", "e2e-1", None)),
    )
    .await;
    assert_eq!(refused.err().map(|s| s.as_u16()), Some(403));
}
