//! What a forwarded call leaves in the logs: audit lines naming operator and session, and
//! never a phone number or an access code. (Its own test binary: it installs the
//! process's log subscriber.)

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::{CALLER_NUMBER, Forwarder, TWILIO_NUMBER, call_params, call_sid};

const OPERATOR_PHONE: &str = "+442071838750";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn a_whole_call_logs_no_number_and_no_code() {
    let buffer = Buffer::default();
    let sink = buffer.clone();
    livehelp_telemetry::init_logs(true, "debug", move || sink.clone());

    let fw = Forwarder::start().await;
    fw.set_phone("op-1", Some(OPERATOR_PHONE)).await;
    fw.session_available("s1").await;
    let code = fw.forward("op-1", "s1").await;
    let wrong = if code == "0000" { "0001" } else { "0000" };
    let call = call_sid(1);
    fw.call(&call, CALLER_NUMBER).await;
    fw.enter(&call, CALLER_NUMBER, wrong).await;
    let answer = fw.enter(&call, CALLER_NUMBER, &code).await;
    assert!(answer.twiml().contains("<Dial"));
    let mut dialed = call_params(&call, CALLER_NUMBER, None);
    dialed.push(("DialCallStatus", "no-answer"));
    fw.twilio("/voice/dialed", &dialed).await;
    let forged = fw
        .twilio_with(
            "/voice/code",
            &call_params(&call, CALLER_NUMBER, Some(&code)),
            support::Signing::Missing,
            &[],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(fw.stop_forwarding("op-1", "s1").await, 204);

    let logs =
        String::from_utf8_lossy(&buffer.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(logs.contains(r#""audit":"forward_calls""#), "{logs}");
    assert!(
        logs.contains(r#""audit":"forward_calls_stopped""#),
        "{logs}"
    );
    assert!(logs.contains(r#""audit":"voice_call""#), "{logs}");
    for secret in [
        OPERATOR_PHONE,
        CALLER_NUMBER,
        TWILIO_NUMBER,
        "442071838750",
        "4158675309",
    ] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
    for form in [
        format!("\"{code}\""),
        format!("={code}"),
        format!("\"{wrong}\""),
        format!("={wrong}"),
    ] {
        assert!(!logs.contains(&form), "a code logged ({form}):\n{logs}");
    }
}
