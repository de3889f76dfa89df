//! The host API beyond status: chat partners available and the chat log.

mod support;

use livehelp_testkit::HOST_API_KEY;
use serde_json::{Value, json};
use support::{Gateway, message, send, state_where};

async fn get(gw: &Gateway, path: &str, token: Option<&str>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(gw.http(path))
        .bearer_auth(token.unwrap_or(HOST_API_KEY))
        .send()
        .await
        .expect("http");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

#[actix_web::test]
async fn partners_count_qualifying_operators_and_other_connected_users() {
    let gw = Gateway::start().await;
    gw.set_status(
        "pa",
        json!({"availability": "available", "mode": "peerhelp", "partner_roles": ["a", "b"]}),
    )
    .await;
    gw.operator_ready("o-1", "One", true, &["a"]).await;
    gw.operator_ready("o-2", "Two", true, &["a", "b"]).await;
    gw.operator_ready("o-3", "Three", false, &["b"]).await;
    gw.operator_ready("o-4", "Four", true, &["c"]).await;
    let mut u1 = gw.user("pa", "u1", "U1").await;
    state_where(&mut u1, |_| true).await;
    let mut u2 = gw.user("pa", "u2", "U2").await;
    state_where(&mut u2, |s| s["peer"] == 1).await;

    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners", None).await,
        (200, json!({"help": 2, "peer": 2}))
    );
    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners?roles=c", None)
            .await
            .1,
        json!({"help": 1, "peer": 2})
    );
    let u1_token = gw.ids.user("u1", "pa", Some("U1"));
    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners", Some(&u1_token))
            .await
            .1,
        json!({"help": 2, "peer": 1}),
        "a user counts the others"
    );

    gw.set_status("pa", json!({"mode": "help"})).await;
    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners", None).await.1,
        json!({"help": 2, "peer": 0})
    );
    gw.bus
        .set_blocked(
            &livehelp_protocol::SessionId::parse("pa").expect("id"),
            true,
        )
        .await
        .expect("block");
    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners", None).await.1,
        json!({"help": 0, "peer": 0})
    );

    let stranger = gw.ids.user("u9", "elsewhere", None);
    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners", Some(&stranger))
            .await
            .0,
        403
    );
    assert_eq!(
        get(&gw, "/chat/api/sessions/pa/partners?roles=", None)
            .await
            .0,
        400
    );
}

#[actix_web::test]
async fn the_chat_log_is_in_order_with_senders_and_time_zones() {
    let gw = Gateway::start().await;
    gw.set_status(
        "lg",
        json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}),
    )
    .await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;
    let mut claims = gw
        .ids
        .signer()
        .user_claims("u-ada", "lg", Some("Ada Lovelace"));
    claims.email = Some("ada@example.org".into());
    claims.first_name = Some("Ada".into());
    claims.last_name = Some("Lovelace".into());
    let token = gw.ids.signer().sign(&claims);
    let mut ada = livehelp_testkit::WsClient::connect(&gw.ws_url(), Some(&token))
        .await
        .expect("ws");
    ada.send_json(json!({"type": "chat.open"})).await;
    ada.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut ada, |s| s["active"] == true).await;
    send(&mut ada, "a1", "first", None).await;
    let mut op = gw.operator("o-1", "Olivia").await;
    op.send_json(json!({"type": "chat.open", "conversation": "lg/u-ada"}))
        .await;
    send(&mut op, "o1", "second", Some("lg/u-ada")).await;
    // The log keeps the user's profile; what the operator is sent never holds it.
    send(&mut ada, "a2", "third", None).await;
    let live = message(&mut op, "third").await;
    assert_eq!(live["from"]["id"], "u-ada");
    assert!(
        live.get("profile").is_none() && !live.to_string().contains("ada@example.org"),
        "{live}"
    );
    let mut anon = gw.user("lg", "u-anon", "x").await;
    drop(anon.next_of_type("chat.state").await);

    let (status, log) = get(&gw, "/chat/api/sessions/lg/log", None).await;
    assert_eq!(status, 200);
    let log = log.as_array().expect("a list").clone();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["message"], "first");
    assert_eq!(
        (
            &log[0]["email"],
            &log[0]["first_name"],
            &log[0]["last_name"]
        ),
        (&json!("ada@example.org"), &json!("Ada"), &json!("Lovelace"))
    );
    assert!(
        log[0]["datetime"]
            .as_str()
            .is_some_and(|d| d.ends_with("+00:00")),
        "{}",
        log[0]
    );
    assert_eq!(
        (
            log[1]["message"].as_str(),
            log[1]["first_name"].as_str(),
            log[1]["email"].as_str()
        ),
        (Some("second"), Some("Olivia"), Some(""))
    );
    assert_eq!(
        (log[2]["message"].as_str(), log[2]["email"].as_str()),
        (Some("third"), Some("ada@example.org"))
    );

    let (_, zoned) = get(
        &gw,
        "/chat/api/sessions/lg/log?timezone=America/New_York",
        None,
    )
    .await;
    let d = zoned[0]["datetime"].as_str().expect("datetime");
    assert!(d.ends_with("-05:00") || d.ends_with("-04:00"), "{d}");
    let (status, body) = get(&gw, "/chat/api/sessions/lg/log?timezone=Mars/Olympus", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("timezone"))
    );

    // A user reads their own session's log only.
    assert_eq!(
        get(&gw, "/chat/api/sessions/lg/log", Some(&token))
            .await
            .1
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let stranger = gw.ids.user("u9", "elsewhere", None);
    assert_eq!(
        get(&gw, "/chat/api/sessions/lg/log", Some(&stranger))
            .await
            .0,
        403
    );
    let other_user = gw.ids.user("u-anon", "lg", None);
    assert_eq!(
        get(&gw, "/chat/api/sessions/lg/log", Some(&other_user))
            .await
            .1,
        json!([]),
        "another user of the session does not read Ada's private help chat"
    );
}
