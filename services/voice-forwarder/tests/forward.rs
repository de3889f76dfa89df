//! The operator's "Forward calls" toggle: who may use it, what it needs, the code it makes
//! (4 digits, replacing the operator's earlier one, offered to the session with the
//! service's number only), and every way the code is cancelled.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use livehelp_protocol::PhoneNumber;
use support::{CALLER_NUMBER, Forwarder, TWILIO_NUMBER, call_sid, sid, uid};

const OPERATOR_PHONE: &str = "+442071838750";

async fn ready(fw: &Forwarder, operator: &str, session: &str) {
    fw.set_phone(operator, Some(OPERATOR_PHONE)).await;
    fw.session_available(session).await;
}

#[actix_web::test]
async fn an_operator_gets_a_four_digit_code_offered_with_the_service_number() {
    let fw = Forwarder::start().await;
    ready(&fw, "op-1", "s1").await;
    let token = fw.ids.operator("op-1", Some("Olivia"));
    let (status, body) = fw.forward_as(Some(&token), "s1").await;
    assert_eq!(status, 200, "{body}");
    let code = body["code"].as_str().expect("code");
    assert!(
        code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    assert_eq!(body["expires_in"], 300, "voice.code_minutes defaults to 5");
    assert!(!body.to_string().contains(OPERATOR_PHONE));

    let offer = fw
        .bus
        .voice_offer(&sid("s1"))
        .await
        .expect("redis")
        .expect("an offer");
    assert_eq!(offer.code, code);
    assert_eq!(offer.number.as_str(), TWILIO_NUMBER);
    assert!(
        !serde_json::to_string(&offer)
            .expect("json")
            .contains(OPERATOR_PHONE)
    );
}

#[actix_web::test]
async fn only_operators_with_a_number_and_a_live_session_forward() {
    let fw = Forwarder::start_with(|s| s.voice.code_minutes = 2).await;
    let (status, body) = fw.forward_as(None, "s1").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &"unauthenticated".into())
    );
    let user = fw.ids.user("u1", "s1", None);
    assert_eq!(fw.forward_as(Some(&user), "s1").await.0, 403);
    let staff = fw.ids.staff("dev-1");
    assert_eq!(fw.forward_as(Some(&staff), "s1").await.0, 403);

    let op = fw.ids.operator("op-1", None);
    let (status, body) = fw.forward_as(Some(&op), "s1").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("phone")),
        "{body}"
    );

    fw.set_phone("op-1", Some(OPERATOR_PHONE)).await;
    let (status, body) = fw.forward_as(Some(&op), "s1").await;
    assert_eq!(status, 403, "a session without live help: {body}");
    let (status, _) = fw.forward_as(Some(&op), "bad%20id").await;
    assert_eq!(status, 400);

    fw.session_available("s1").await;
    let (status, body) = fw.forward_as(Some(&op), "s1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(
        fw.offered_code("s1").await.as_deref(),
        body["code"].as_str()
    );
}

#[actix_web::test]
async fn toggling_again_replaces_the_code_and_off_cancels_it() {
    let fw = Forwarder::start().await;
    ready(&fw, "op-1", "s1").await;
    let first = fw.forward("op-1", "s1").await;
    let second = fw.forward("op-1", "s1").await;
    assert_ne!(first, second);
    assert_eq!(fw.offered_code("s1").await, Some(second.clone()));
    assert_eq!(
        fw.bus.consume_voice_code(&first).await.expect("redis"),
        None,
        "the earlier code stopped working"
    );

    assert_eq!(fw.stop_forwarding("op-1", "s1").await, 204);
    assert_eq!(fw.offered_code("s1").await, None);
    let answer = fw.enter(&call_sid(1), CALLER_NUMBER, &second).await;
    assert!(
        answer.twiml().contains("That code is not valid."),
        "{}",
        answer.body
    );
    assert_eq!(fw.stop_forwarding("op-1", "s1").await, 204, "idempotent");
}

#[actix_web::test]
async fn another_operators_toggle_leaves_a_code_alone() {
    let fw = Forwarder::start().await;
    ready(&fw, "op-1", "s1").await;
    fw.set_phone("op-2", Some("+12025550123")).await;
    let mine = fw.forward("op-1", "s1").await;
    assert_eq!(fw.stop_forwarding("op-2", "s1").await, 204);
    assert_eq!(fw.offered_code("s1").await, Some(mine.clone()));
    let claim = fw
        .bus
        .consume_voice_code(&mine)
        .await
        .expect("redis")
        .expect("still live");
    assert_eq!((claim.operator, claim.session), (uid("op-1"), sid("s1")));
}

#[actix_web::test]
async fn clearing_the_phone_or_signing_off_cancels_the_operators_codes() {
    let fw = Forwarder::start().await;
    ready(&fw, "op-1", "s1").await;
    fw.session_available("s2").await;
    let a = fw.forward("op-1", "s1").await;
    let b = fw.forward("op-1", "s2").await;
    fw.set_phone("op-1", Some("+12025550123")).await;
    assert_eq!(
        fw.offered_code("s1").await,
        Some(a.clone()),
        "changing the number keeps codes"
    );
    fw.set_phone("op-1", None).await;
    assert_eq!(fw.offered_code("s1").await, None);
    assert_eq!(fw.offered_code("s2").await, None);
    for code in [&a, &b] {
        assert_eq!(fw.bus.consume_voice_code(code).await.expect("redis"), None);
    }

    fw.set_phone("op-1", Some(OPERATOR_PHONE)).await;
    let op = uid("op-1");
    fw.bus
        .operator_connected(&op, Some("Olivia"), "monitor-1", 60_000)
        .await
        .expect("presence");
    let c = fw.forward("op-1", "s1").await;
    assert!(
        fw.bus
            .operator_disconnected(&op, "monitor-1")
            .await
            .expect("redis")
    );
    assert!(fw.bus.sign_off(&op).await.expect("sign off"));
    assert_eq!(fw.offered_code("s1").await, None);
    assert_eq!(fw.bus.consume_voice_code(&c).await.expect("redis"), None);
}

#[actix_web::test]
async fn codes_are_unique_among_live_codes() {
    let fw = Forwarder::start().await;
    let number = PhoneNumber::parse(TWILIO_NUMBER).expect("e164");
    let mut seen = HashSet::new();
    for n in 0..300 {
        let issued = fw
            .bus
            .issue_voice_code(
                &uid(&format!("op-{n}")),
                &sid("s1"),
                &number,
                Duration::from_secs(60),
            )
            .await
            .expect("redis")
            .expect("a free code");
        assert!(
            seen.insert(issued.code.clone()),
            "{} issued twice",
            issued.code
        );
    }
}

#[actix_web::test]
async fn the_offer_goes_when_the_code_lapses() {
    let fw = Forwarder::start().await;
    let number = PhoneNumber::parse(TWILIO_NUMBER).expect("e164");
    let channel = fw.bus.keys().chat_channel(&sid("s9"));
    let mut changes = fw.bus.hub().subscribe(channel).await;
    fw.bus
        .issue_voice_code(&uid("op-1"), &sid("s9"), &number, Duration::from_secs(1))
        .await
        .expect("redis")
        .expect("a free code");
    // Announced when made, then again by the service's sweep when it lapses.
    let mut announcements = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    while announcements < 2 {
        let next = tokio::time::timeout_at(deadline, changes.recv())
            .await
            .expect("announcements within 4 s");
        let payload = next.expect("subscribed").payload;
        if String::from_utf8_lossy(&payload).contains(r#""event":"changed""#) {
            announcements += 1;
        }
    }
    assert_eq!(fw.offered_code("s9").await, None);
}
