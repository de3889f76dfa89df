//! Mirror frames: the envelope check never panics, and relayed events stay valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livehelp_protocol::{MirrorFrame, SessionId, decode_mirror_frame, events_for_observers, events_session};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(MirrorFrame::Events(events)) = decode_mirror_frame(text) {
        let session = SessionId::parse("s").expect("valid");
        let relayed = events_for_observers(&session, events);
        assert!(serde_json::from_str::<serde_json::Value>(&relayed).is_ok());
        assert_eq!(events_session(&relayed), Some("s"));
    }
});
