//! The host API's bodies and ids: parsing never panics; accepted ids round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livehelp_protocol::{ConversationId, MessageId, PhoneNumber, SessionId, StatusPatch};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<StatusPatch>(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(id) = SessionId::parse(text) {
        assert_eq!(id.as_str(), text);
    }
    if let Ok(c) = text.parse::<ConversationId>() {
        assert_eq!(c.to_string(), text);
    }
    if let Ok(m) = text.parse::<MessageId>() {
        assert_eq!(m.to_string().parse::<MessageId>().ok(), Some(m));
    }
    if let Ok(p) = PhoneNumber::parse(text) {
        assert!(p.as_str().len() <= 16);
    }
});
