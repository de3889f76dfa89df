//! Chat and monitor frames from browsers: decoding never panics, and what decodes
//! re-encodes to something that decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livehelp_protocol::decode_client_frame;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(frame) = decode_client_frame(text) {
        let again = serde_json::to_string(&frame).expect("a decoded frame encodes");
        assert_eq!(decode_client_frame(&again).ok(), Some(frame));
    }
});
