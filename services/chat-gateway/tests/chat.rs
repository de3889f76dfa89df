//! chat-gateway against a real Redis over real WebSockets: help chats, delivery and
//! resume, and what users may not do.

mod support;

use serde_json::{Value, json};
use support::{Gateway, message, send, state_where};

async fn help_session(gw: &Gateway, session: &str) {
    gw.set_status(session, json!({"availability": "available", "mode": "help", "partner_roles": ["advocate"], "title": "Benefits"})).await;
}

#[actix_web::test]
async fn a_message_goes_from_user_to_operator_and_back() {
    let gw = Gateway::start().await;
    help_session(&gw, "s1").await;
    gw.operator_ready("o-olivia", "Olivia", true, &["advocate"])
        .await;

    let mut user = gw.user("s1", "u-ada", "Ada").await;
    let state = state_where(&mut user, |s| s["help"] == 1).await;
    assert_eq!(state["active"], false);
    assert_eq!(
        state["conversation"], "s1/u-ada",
        "help chats are private to the user"
    );
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    let on = state_where(&mut user, |s| s["active"] == true).await;
    assert_eq!(on["operator"]["name"], "Olivia");

    let mut op = gw.operator("o-olivia", "Olivia").await;
    op.send_json(json!({"type": "chat.open", "conversation": "s1/u-ada"}))
        .await;

    let ack = send(&mut user, "c1", "<img src=x onerror=alert(1)>", None).await;
    let seen = op.next_of_type("chat.message").await;
    assert_eq!(seen["text"], "<img src=x onerror=alert(1)>");
    assert_eq!(seen["id"], ack["id"]);
    assert_eq!(
        seen["from"],
        json!({"kind": "user", "id": "u-ada", "name": "Ada"})
    );

    send(&mut op, "r1", "hi Ada", Some("s1/u-ada")).await;
    assert_eq!(
        message(&mut user, "hi Ada").await["from"]["kind"],
        "operator"
    );
}

#[actix_web::test]
async fn a_retried_send_is_stored_once_and_a_reconnect_resumes_after_the_last_id() {
    let gw = Gateway::start().await;
    gw.set_status("s2", json!({"availability": "available", "mode": "peer"}))
        .await;
    let mut user = gw.user("s2", "u-bo", "Bo").await;
    user.send_json(json!({"type": "chat.open"})).await;
    user.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut user, |s| s["active"] == true).await;
    let first = send(&mut user, "c1", "one", None).await;
    let again = send(&mut user, "c1", "one", None).await;
    assert_eq!(first["id"], again["id"], "same cmid, same stored message");
    let second = send(&mut user, "c2", "two", None).await;

    // A fresh connection that saw only the first message gets exactly the second.
    let mut back = gw.user("s2", "u-bo", "Bo").await;
    back.send_json(json!({"type": "chat.open", "after": first["id"]}))
        .await;
    let m = back.next_of_type("chat.message").await;
    assert_eq!((m["text"].as_str(), &m["id"]), (Some("two"), &second["id"]));
    send(&mut back, "c3", "three", None).await;
    assert_eq!(back.next_of_type("chat.message").await["text"], "three");
}

#[actix_web::test]
async fn sockets_without_a_valid_identity_are_refused_before_the_upgrade() {
    let gw = Gateway::start().await;
    let status =
        |r: Result<livehelp_testkit::WsClient, _>| r.err().map(|s: reqwest::StatusCode| s.as_u16());
    let connect = |t: Option<String>| {
        let url = gw.ws_url();
        async move {
            livehelp_testkit::WsClient::connect(&url, t.as_deref())
                .await
                .map_err(|s| reqwest::StatusCode::from_u16(s.as_u16()).expect("status"))
        }
    };
    assert_eq!(status(connect(None).await), Some(401));
    assert_eq!(
        status(connect(Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad".into())).await),
        Some(401)
    );
    let mut expired = gw.ids.signer().user_claims("u", "s", None);
    expired.exp = expired.iat - 600;
    assert_eq!(
        status(connect(Some(gw.ids.signer().sign(&expired))).await),
        Some(401)
    );
    assert_eq!(
        status(connect(Some(gw.ids.staff("clerk"))).await),
        Some(403)
    );
}

#[actix_web::test]
async fn users_cannot_reach_other_sessions_or_chat_before_activating() {
    let gw = Gateway::start().await;
    gw.set_status("mine", json!({"availability": "available", "mode": "peer"}))
        .await;
    let mut user = gw.user("mine", "u-cy", "Cy").await;
    user.send_json(json!({"type": "chat.open", "conversation": "theirs"}))
        .await;
    assert_eq!(user.next_of_type("error").await["code"], "forbidden");
    user.send_json(json!({"type": "chat.open", "conversation": "mine/u-other"}))
        .await;
    assert_eq!(user.next_of_type("error").await["code"], "forbidden");
    let sneaky = json!({"type": "chat.send", "cmid": "x1", "text": "hi", "conversation": "theirs"});
    user.send_json(sneaky).await;
    let e = user.next_of_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("forbidden"), Some("x1"))
    );
    user.send_json(json!({"type": "chat.send", "cmid": "x2", "text": "too early"}))
        .await;
    assert_eq!(
        user.next_of_type("error").await["message"],
        "activate chat first"
    );
}

#[actix_web::test]
async fn bad_frames_get_errors_and_oversized_frames_close_the_socket() {
    let gw = Gateway::start().await;
    gw.set_status("s3", json!({"availability": "available", "mode": "peer"}))
        .await;
    let mut user = gw.user("s3", "u-di", "Di").await;
    user.send_text("{not json").await;
    assert_eq!(user.next_of_type("error").await["code"], "bad_frame");
    user.send_json(json!({"type": "chat.explode"})).await;
    assert_eq!(user.next_of_type("error").await["code"], "bad_frame");
    user.send_json(json!({"type": "chat.send", "cmid": "c1", "text": ""}))
        .await;
    let e = user.next_of_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["ref"].as_str()),
        (Some("bad_frame"), Some("c1"))
    );
    user.send_json(json!({"type": "chat.send", "cmid": "c2", "text": "x".repeat(4001)}))
        .await;
    assert_eq!(
        user.next_of_type("error").await["code"],
        "bad_frame",
        "message length limit"
    );

    user.send_text(&"x".repeat(70_000)).await;
    let close = user.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009);
}

#[actix_web::test]
async fn a_message_flood_is_refused_then_cut_off_without_disturbing_others() {
    let gw = Gateway::start_with(|s| {
        s.chat.frames_per_second = 1;
        s.chat.frames_burst = 5;
    })
    .await;
    gw.set_status("f1", json!({"availability": "available", "mode": "peer"}))
        .await;
    let mut calm = gw.user("f1", "u-calm", "Calm").await;
    calm.send_json(json!({"type": "chat.open"})).await;
    calm.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut calm, |s| s["active"] == true).await;
    let mut flood = gw.user("f1", "u-flood", "Flood").await;
    flood.send_json(json!({"type": "chat.activate"})).await;
    for i in 0..150 {
        flood
            .send_json(json!({"type": "chat.typing", "typing": i % 2 == 0}))
            .await;
    }
    let mut limited = 0;
    let close = loop {
        match flood.next_frame_or_close().await {
            Ok(f) if f["code"] == "rate_limited" => limited += 1,
            Ok(_) => {}
            Err(close) => break close,
        }
    };
    assert!(limited >= 100, "each refused frame is answered ({limited})");
    assert_eq!(close.map(|c| u16::from(c.code)), Some(1008));
    send(&mut calm, "c1", "still here", None).await;
    assert_eq!(
        message(&mut calm, "still here").await["from"]["id"],
        "u-calm"
    );
}

#[actix_web::test]
async fn the_host_sets_a_status_with_its_api_key_and_bad_values_name_the_field() {
    let gw = Gateway::start().await;
    let http = reqwest::Client::new();
    let url = gw.http("/chat/api/sessions/s4/status");

    let anonymous = http
        .put(&url)
        .json(&json!({"availability": "available"}))
        .send()
        .await
        .expect("http");
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");

    let status = gw
        .set_status("s4", json!({"availability": "available", "partner_roles": ["advocate", "advocate", "Family"], "title": "Benefits"}))
        .await;
    assert_eq!(status["availability"], "available");
    assert_eq!(status["mode"], "help", "omitted fields keep their default");
    assert_eq!(status["partner_roles"], json!(["advocate", "Family"]));

    let patched = gw.set_status("s4", json!({"mode": "peer"})).await;
    assert_eq!(
        (patched["mode"].as_str(), patched["availability"].as_str()),
        (Some("peer"), Some("available"))
    );

    let bad = http
        .put(&url)
        .bearer_auth(livehelp_testkit::HOST_API_KEY)
        .json(&json!({"availability": "sometimes"}))
        .send()
        .await
        .expect("http");
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("availability")),
        "{body}"
    );
}

#[actix_web::test]
async fn a_reader_that_stops_reading_is_cut_off_and_nobody_else_waits() {
    let gw = Gateway::start_with(|s| s.limits.client_queue = 16).await;
    gw.set_status("sl", json!({"availability": "available", "mode": "peer"}))
        .await;
    let mut writer = gw.user("sl", "u-w", "W").await;
    writer.send_json(json!({"type": "chat.open"})).await;
    writer.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut writer, |s| s["active"] == true).await;
    let mut stuck = gw.user("sl", "u-stuck", "Stuck").await;
    stuck.send_json(json!({"type": "chat.open"})).await;

    // ~24 MB of messages: far more than the kernel's socket buffers (a few MB each way on
    // loopback) and the queue of 16 hold. Falling behind the queue alone only makes the
    // reader re-read from storage; a socket the server cannot write to for
    // seconds is what gets closed.
    let text = "x".repeat(4000);
    for i in 0..6000 {
        let ack = send(&mut writer, &format!("c{i}"), &text, None).await;
        assert!(
            ack["id"].is_string(),
            "the writer is never held up by the stuck reader"
        );
    }
    // The stuck reader finds, once it reads again, that it was cut off as a slow consumer.
    let close = loop {
        match stuck.next_frame_or_close().await {
            Ok(_) => {}
            Err(close) => break close,
        }
    };
    if let Some(close) = close {
        assert_eq!(
            (u16::from(close.code), close.reason.as_str()),
            (1008, "slow consumer")
        );
    }
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("livehelp_ws_slow_consumers_total{service=\"chat-gateway\"} 1"),
        "{metrics}"
    );
}

/// A peer session with a writer whose chat is on and a reader who follows it.
async fn writer_and_reader(
    gw: &Gateway,
    session: &str,
) -> (livehelp_testkit::WsClient, livehelp_testkit::WsClient) {
    gw.set_status(
        session,
        json!({"availability": "available", "mode": "peer"}),
    )
    .await;
    let mut writer = gw.user(session, "u-w", "W").await;
    writer.send_json(json!({"type": "chat.open"})).await;
    writer.send_json(json!({"type": "chat.activate"})).await;
    state_where(&mut writer, |s| s["active"] == true).await;
    let mut reader = gw.user(session, "u-r", "R").await;
    reader.send_json(json!({"type": "chat.open"})).await;
    state_where(&mut reader, |s| s["peer"] == 1).await;
    (writer, reader)
}

#[actix_web::test]
async fn a_reader_that_falls_behind_a_burst_catches_up_from_storage_in_order() {
    let gw = Gateway::start_with(|s| s.limits.client_queue = 1).await;
    let (mut writer, mut reader) = writer_and_reader(&gw, "burst").await;

    // Sent without waiting for acknowledgements: the payloads reach the reader's queue of
    // one in bursts.
    const COUNT: usize = 300;
    for i in 0..COUNT {
        writer
            .send_json(
                json!({"type": "chat.send", "cmid": format!("b{i}"), "text": format!("m{i}")}),
            )
            .await;
    }
    let mut texts = Vec::new();
    while texts.len() < COUNT {
        let frame = reader
            .next_frame_or_close()
            .await
            .expect("the reader stays open");
        if frame["type"] == "chat.message" {
            texts.push(frame["text"].as_str().expect("text").to_owned());
        }
    }
    let expected: Vec<String> = (0..COUNT).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected, "every message once, in order");
    let metrics = gw.metrics().await;
    let resyncs = metrics
        .lines()
        .find_map(|l| l.strip_prefix("livehelp_chat_resyncs_total "))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(resyncs > 0, "the queue of one overflowed: {metrics}");
}

#[actix_web::test]
async fn sends_made_without_waiting_are_stored_in_order_acknowledged_in_order_and_batched() {
    let gw = Gateway::start().await;
    let (mut writer, mut reader) = writer_and_reader(&gw, "pipe").await;

    // Each send follows the last at once: the server queues them for storage while earlier
    // ones are still being stored.
    const COUNT: usize = 300;
    for i in 0..COUNT {
        writer
            .send_json(
                json!({"type": "chat.send", "cmid": format!("p{i}"), "text": format!("m{i}")}),
            )
            .await;
    }
    // The writer's own frames: each ack comes before its own copy of the message.
    let mut acks = Vec::new();
    let mut copies = 0;
    while acks.len() < COUNT || copies < COUNT {
        let frame = writer.next_json().await;
        let cmid = frame["cmid"].as_str().unwrap_or_default().to_owned();
        if frame["type"] == "chat.ack" {
            acks.push((cmid, frame["id"].clone()));
        } else if frame["type"] == "chat.message" {
            copies += 1;
            assert!(
                acks.iter().any(|(acked, _)| *acked == cmid),
                "the ack of {cmid} comes before the writer's own copy"
            );
        }
    }
    let cmids: Vec<&str> = acks.iter().map(|(c, _)| c.as_str()).collect();
    let expected: Vec<String> = (0..COUNT).map(|i| format!("p{i}")).collect();
    assert_eq!(cmids, expected, "acknowledged in the order sent");

    let mut received = Vec::new();
    while received.len() < COUNT {
        let m = reader.next_of_type("chat.message").await;
        received.push((
            m["cmid"].as_str().expect("cmid").to_owned(),
            m["id"].clone(),
        ));
    }
    assert_eq!(
        received, acks,
        "stored in the order sent, with the acknowledged ids"
    );

    let metrics = gw.metrics().await;
    let calls = metrics
        .lines()
        .find_map(|l| l.strip_prefix("livehelp_chat_store_calls_total "))
        .and_then(|v| v.parse::<usize>().ok())
        .expect("the store calls are counted");
    assert!(
        calls < COUNT,
        "sends that arrived together were stored together: {calls} calls for {COUNT} messages"
    );
}
