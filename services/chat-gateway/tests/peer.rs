//! Peer modes: the session's users talk as a group; in peerhelp operators join in and every
//! user sees the whole history; in help mode users never see each other's chats.

mod support;

use serde_json::json;
use support::{Gateway, message, send, state_where};

#[actix_web::test]
async fn peerhelp_is_one_group_for_two_users_and_an_operator() {
    let gw = Gateway::start().await;
    gw.set_status(
        "p1",
        json!({"availability": "available", "mode": "peerhelp", "partner_roles": "advocate"}),
    )
    .await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;

    let mut bea = gw.user("p1", "u-bea", "Bea").await;
    bea.send_json(json!({"type": "chat.open"})).await;
    bea.send_json(json!({"type": "chat.activate"})).await;
    let on = state_where(&mut bea, |s| s["active"] == true).await;
    assert_eq!(on["conversation"], "p1");
    send(&mut bea, "b1", "first, before Cal came", None).await;

    let mut cal = gw.user("p1", "u-cal", "Cal").await;
    assert_eq!(state_where(&mut bea, |s| s["peer"] == 1).await["help"], 1);
    cal.send_json(json!({"type": "chat.open"})).await;
    assert_eq!(
        message(&mut cal, "first, before Cal came").await["from"]["name"],
        "Bea",
        "everyone sees the history"
    );
    cal.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut cal, |s| s["active"] == true).await;

    let mut op = gw.operator("o-1", "Olivia").await;
    op.send_json(json!({"type": "chat.open", "conversation": "p1"}))
        .await;
    message(&mut op, "first, before Cal came").await;

    send(&mut cal, "c1", "hi all", None).await;
    for ws in [&mut bea, &mut cal, &mut op] {
        message(ws, "hi all").await;
    }
    // (send() skips frames until its ack, so everyone reads "hi all" before the reply.)
    let last = send(&mut op, "o1", "operator here", Some("p1")).await;
    for ws in [&mut bea, &mut cal, &mut op] {
        message(ws, "operator here").await;
    }

    // Typing and read receipts reach the others, not the sender.
    cal.send_json(json!({"type": "chat.typing", "typing": true}))
        .await;
    let typing = bea.next_of_type("chat.typing").await;
    assert_eq!(
        (typing["from"]["name"].as_str(), typing["typing"].as_bool()),
        (Some("Cal"), Some(true))
    );
    bea.send_json(json!({"type": "chat.read", "up_to": last["id"]}))
        .await;
    let read = op.next_of_type("chat.read").await;
    assert_eq!(
        (read["by"]["name"].as_str(), &read["up_to"]),
        (Some("Bea"), &last["id"])
    );
}

#[actix_web::test]
async fn peer_mode_has_no_operators_and_help_mode_keeps_users_apart() {
    let gw = Gateway::start().await;
    gw.set_status("p2", json!({"availability": "available", "mode": "peer"}))
        .await;
    gw.operator_ready("o-1", "Olivia", true, &["advocate"])
        .await;
    let mut op = gw.operator("o-1", "Olivia").await;
    op.send_json(json!({"type": "chat.open", "conversation": "p2"}))
        .await;
    assert_eq!(op.next_of_type("error").await["code"], "forbidden");

    gw.set_status(
        "h2",
        json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}),
    )
    .await;
    let mut dee = gw.user("h2", "u-dee", "Dee").await;
    dee.send_json(json!({"type": "chat.open"})).await;
    dee.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut dee, |s| s["active"] == true).await;
    send(&mut dee, "d1", "private to me", None).await;

    let mut eve = gw.user("h2", "u-eve", "Eve").await;
    let state = state_where(&mut eve, |_| true).await;
    assert_eq!(
        (state["conversation"].as_str(), state["peer"].as_u64()),
        (Some("h2/u-eve"), Some(0))
    );
    eve.send_json(json!({"type": "chat.open", "conversation": "h2/u-dee"}))
        .await;
    assert_eq!(eve.next_of_type("error").await["code"], "forbidden");
    eve.send_json(json!({"type": "chat.open"})).await;
    eve.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut eve, |s| s["active"] == true).await;
    send(&mut eve, "e1", "mine", None).await;
    let seen = eve.next_of_type("chat.message").await;
    assert_eq!(seen["text"], "mine", "Eve never receives Dee's message");
}
