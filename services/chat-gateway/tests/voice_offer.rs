//! A telephone offer in the user's chat state (SPEC §8): it appears within a second of an
//! operator turning forwarding on (voice-forwarder writes it through the bus), names the
//! service's number and the code but never the operator's number, and goes when the code
//! is used, cancelled, or the operator clears their number or signs off.

mod support;

use std::time::Duration;

use livehelp_protocol::{PhoneNumber, SessionId, UserId};
use serde_json::{Value, json};
use support::{Gateway, state_where};

const TWILIO_NUMBER: &str = "+15005550006";
const OPERATOR_PHONE: &str = "+442071838750";

fn sid(s: &str) -> SessionId {
    SessionId::parse(s).expect("session")
}

fn uid(u: &str) -> UserId {
    UserId::parse(u).expect("user")
}

async fn issue(gw: &Gateway, operator: &str, session: &str) -> String {
    gw.bus
        .issue_voice_code(
            &uid(operator),
            &sid(session),
            &PhoneNumber::parse(TWILIO_NUMBER).expect("e164"),
            Duration::from_secs(300),
        )
        .await
        .expect("redis")
        .expect("a free code")
        .code
}

/// The next chat state within a second that satisfies `want`.
async fn soon(ws: &mut livehelp_testkit::WsClient, want: impl Fn(&Value) -> bool) -> Value {
    tokio::time::timeout(Duration::from_secs(1), state_where(ws, want))
        .await
        .expect("a chat state within a second")
}

#[actix_web::test]
async fn the_offer_appears_and_goes_with_the_code() {
    let gw = Gateway::start().await;
    gw.set_status("v1", json!({"availability": "available", "mode": "help"}))
        .await;
    let op = uid("op-1");
    gw.bus
        .set_operator_phone(
            &op,
            Some(&PhoneNumber::parse(OPERATOR_PHONE).expect("e164")),
        )
        .await
        .expect("phone");
    let mut user = gw.user("v1", "u1", "Una").await;
    let first = state_where(&mut user, |_| true).await;
    assert_eq!(first["phone"], json!(null));

    // On: the offer shows the service's number and the code.
    let code = issue(&gw, "op-1", "v1").await;
    let on = soon(&mut user, |s| !s["phone"].is_null()).await;
    assert_eq!(on["phone"]["number"], TWILIO_NUMBER);
    assert_eq!(on["phone"]["code"], code.as_str());
    let expires = on["phone"]["expires_at"].as_str().expect("expires_at");
    assert!(
        expires.parse::<jiff::Timestamp>().is_ok() && expires.ends_with('Z'),
        "{expires}"
    );
    assert!(!on.to_string().contains(OPERATOR_PHONE));

    // Used: gone.
    gw.bus
        .consume_voice_code(&code)
        .await
        .expect("redis")
        .expect("live");
    soon(&mut user, |s| s["phone"].is_null()).await;

    // Cancelled by the toggle: gone.
    let code = issue(&gw, "op-1", "v1").await;
    soon(&mut user, |s| s["phone"]["code"] == code.as_str()).await;
    assert!(
        gw.bus
            .cancel_voice_code(&op, &sid("v1"))
            .await
            .expect("redis")
    );
    soon(&mut user, |s| s["phone"].is_null()).await;

    // The operator clears their number: gone.
    let code = issue(&gw, "op-1", "v1").await;
    soon(&mut user, |s| s["phone"]["code"] == code.as_str()).await;
    gw.bus.set_operator_phone(&op, None).await.expect("phone");
    soon(&mut user, |s| s["phone"].is_null()).await;

    // The operator signs off: gone.
    gw.operator_ready("op-1", "Olivia", true, &["advocate"])
        .await;
    let code = issue(&gw, "op-1", "v1").await;
    soon(&mut user, |s| s["phone"]["code"] == code.as_str()).await;
    gw.operator_signs_off("op-1").await;
    soon(&mut user, |s| s["phone"].is_null()).await;
}

#[actix_web::test]
async fn an_offer_is_for_its_session_only() {
    let gw = Gateway::start().await;
    let mut here = gw.user("v2", "u1", "Una").await;
    let mut there = gw.user("v3", "u2", "Uri").await;
    state_where(&mut here, |_| true).await;
    state_where(&mut there, |_| true).await;
    let code = issue(&gw, "op-1", "v2").await;
    soon(&mut here, |s| s["phone"]["code"] == code.as_str()).await;
    let other = tokio::time::timeout(
        Duration::from_millis(500),
        state_where(&mut there, |s| !s["phone"].is_null()),
    )
    .await;
    assert!(other.is_err(), "another session's user saw the offer");
}
