//! Help mode: who qualifies, who gets attached, the cap and the queue, an operator signing
//! off, block and unblock.

mod support;

use serde_json::json;
use support::{Gateway, message, send, state_where};

async fn help_session(gw: &Gateway, session: &str, roles: serde_json::Value) {
    gw.set_status(
        session,
        json!({"availability": "available", "mode": "help", "partner_roles": roles}),
    )
    .await;
}

async fn activate(gw: &Gateway, session: &str, user: &str) -> livehelp_testkit::WsClient {
    let mut ws = gw.user(session, user, user).await;
    ws.send_json(json!({"type": "chat.open"})).await;
    ws.send_json(json!({"type": "chat.activate"})).await;
    ws
}

#[actix_web::test]
async fn activation_needs_an_available_operator_of_any_requested_role() {
    let gw = Gateway::start().await;
    help_session(&gw, "h1", json!(["estates", "family law"])).await;
    gw.operator_ready("o-away", "Away", false, &["estates"])
        .await;
    gw.operator_ready("o-other", "Other", true, &["Estates"])
        .await;

    let mut user = gw.user("h1", "u1", "Una").await;
    assert_eq!(
        state_where(&mut user, |_| true).await["help"],
        0,
        "roles are case-sensitive; unavailable operators do not count"
    );
    user.send_json(json!({"type": "chat.activate"})).await;
    assert_eq!(
        user.next_of_type("error").await["message"],
        "no operator is available right now"
    );

    gw.operator_ready("o-fam", "Fay", true, &["family law"])
        .await;
    state_where(&mut user, |s| s["help"] == 1).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    let on = state_where(&mut user, |s| s["active"] == true).await;
    assert_eq!(
        on["operator"]["id"], "o-fam",
        "one matching role is enough (OR)"
    );
}

#[actix_web::test]
async fn the_least_busy_operator_is_attached_and_the_cap_queues_the_rest() {
    let gw = Gateway::start_with(|s| s.chat.max_chats_per_operator = 1).await;
    for s in ["q1", "q2", "q3"] {
        help_session(&gw, s, json!("advocate")).await;
    }
    gw.operator_ready("o-a", "A", true, &["advocate"]).await;
    gw.operator_ready("o-b", "B", true, &["advocate"]).await;

    let mut first = activate(&gw, "q1", "u1").await;
    let a = state_where(&mut first, |s| s["active"] == true).await["operator"]["id"].clone();
    let mut second = activate(&gw, "q2", "u2").await;
    let b = state_where(&mut second, |s| s["active"] == true).await["operator"]["id"].clone();
    assert_ne!(
        a, b,
        "the second chat goes to the operator with no chat yet"
    );

    let mut third = activate(&gw, "q3", "u3").await;
    let waiting = state_where(&mut third, |s| s["active"] == true).await;
    assert_eq!(waiting["operator"], json!(null));
    assert_eq!(waiting["queue_position"], 1);

    // The first user turns chat off: their operator has room again and takes the third.
    first.send_json(json!({"type": "chat.deactivate"})).await;
    let attached = state_where(&mut third, |s| !s["operator"].is_null()).await;
    assert_eq!(attached["operator"]["id"], a);
    assert_eq!(attached["queue_position"], json!(null));
}

#[actix_web::test]
async fn an_operator_signing_off_is_told_to_the_user_who_keeps_the_log() {
    let gw = Gateway::start().await;
    help_session(&gw, "so", json!("advocate")).await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;
    let mut user = activate(&gw, "so", "u1").await;
    state_where(&mut user, |s| s["operator"]["id"] == "o-1").await;
    send(&mut user, "c1", "hello?", None).await;
    message(&mut user, "hello?").await;

    gw.operator_signs_off("o-1").await;
    let alone = state_where(&mut user, |s| s["operator"].is_null()).await;
    assert_eq!(
        (alone["help"].as_u64(), alone["active"].as_bool()),
        (Some(0), Some(true))
    );
    assert_eq!(
        alone["queue_position"], 1,
        "the chat waits for the next operator"
    );

    // The log stays: a fresh connection reads it.
    let mut again = gw.user("so", "u1", "u1").await;
    again.send_json(json!({"type": "chat.open"})).await;
    assert_eq!(again.next_of_type("chat.message").await["text"], "hello?");

    // The next operator to come along takes the chat.
    gw.operator_ready("o-2", "Otto", true, &["advocate"]).await;
    state_where(&mut user, |s| s["operator"]["id"] == "o-2").await;
}

#[actix_web::test]
async fn an_unavailable_operator_keeps_current_chats_but_gets_no_new_ones() {
    let gw = Gateway::start().await;
    help_session(&gw, "na1", json!("advocate")).await;
    help_session(&gw, "na2", json!("advocate")).await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;
    let mut user = activate(&gw, "na1", "u1").await;
    state_where(&mut user, |s| s["operator"]["id"] == "o-1").await;
    let mut op = gw.operator("o-1", "Olivia").await;
    op.send_json(json!({"type": "chat.open", "conversation": "na1/u1"}))
        .await;

    gw.operator_ready("o-1", "Olivia", false, &["advocate"])
        .await;
    let mut other = gw.user("na2", "u2", "u2").await;
    state_where(&mut other, |s| s["help"] == 0).await;
    other.send_json(json!({"type": "chat.activate"})).await;
    assert_eq!(other.next_of_type("error").await["code"], "forbidden");

    send(&mut user, "c1", "still there?", None).await;
    assert_eq!(message(&mut op, "still there?").await["from"]["id"], "u1");
    send(&mut op, "r1", "yes", Some("na1/u1")).await;
    message(&mut user, "yes").await;
}

#[actix_web::test]
async fn block_ends_every_operators_part_until_unblock() {
    let gw = Gateway::start().await;
    help_session(&gw, "b1", json!("advocate")).await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;
    let mut user = activate(&gw, "b1", "u1").await;
    state_where(&mut user, |s| s["operator"]["id"] == "o-1").await;
    send(&mut user, "c1", "hi", None).await;
    let mut op = gw.operator("o-1", "Olivia").await;
    op.send_json(json!({"type": "chat.open", "conversation": "b1/u1"}))
        .await;
    message(&mut op, "hi").await;
    let mut other_op = gw.operator("o-2", "Otto").await;
    other_op
        .send_json(json!({"type": "chat.open", "conversation": "b1/u1"}))
        .await;
    message(&mut other_op, "hi").await;

    gw.bus
        .set_blocked(
            &livehelp_protocol::SessionId::parse("b1").expect("id"),
            true,
        )
        .await
        .expect("block");
    for ws in [&mut op, &mut other_op] {
        let closed = ws.next_of_type("chat.closed").await;
        assert_eq!(
            (closed["conversation"].as_str(), closed["reason"].as_str()),
            (Some("b1/u1"), Some("blocked"))
        );
    }
    let blocked = state_where(&mut user, |s| s["blocked"] == true).await;
    assert_eq!(
        (blocked["active"].as_bool(), blocked["help"].as_u64()),
        (Some(false), Some(0))
    );
    user.send_json(json!({"type": "chat.activate"})).await;
    assert_eq!(user.next_of_type("error").await["code"], "forbidden");
    op.send_json(json!({"type": "chat.open", "conversation": "b1/u1"}))
        .await;
    assert_eq!(
        op.next_of_type("error").await["message"],
        "the session is blocked"
    );

    // A restarted gateway still knows: the block lives in Redis.
    let (port, _stopper) = gw.another_instance().await;
    let mut later = gw
        .user_at(&format!("ws://127.0.0.1:{port}/chat/ws"), "b1", "u1", "u1")
        .await;
    assert_eq!(state_where(&mut later, |_| true).await["blocked"], true);

    gw.bus
        .set_blocked(
            &livehelp_protocol::SessionId::parse("b1").expect("id"),
            false,
        )
        .await
        .expect("unblock");
    state_where(&mut user, |s| s["blocked"] == false && s["help"] == 1).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut user, |s| s["operator"]["id"] == "o-1").await;
    op.send_json(json!({"type": "chat.open", "conversation": "b1/u1"}))
        .await;
    send(&mut user, "c2", "back", None).await;
    message(&mut op, "back").await;
}
