//! Twilio webhook inputs: URL variants and signature checks never panic, a forged signature
//! never validates, and TwiML escaping always yields well-formed text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voice_forwarder::{signature, twiml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (url, rest) = text.split_once('\n').unwrap_or((text, ""));
    let params: Vec<(String, String)> = rest
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let _ = signature::url_variants(url);
    let genuine = signature::compute(b"token", url, &params);
    assert!(signature::is_valid(b"token", url, &params, &genuine));
    assert!(!signature::is_valid(b"other", url, &params, &genuine));
    let escaped = twiml::escape(rest);
    assert!(!escaped.contains('<') && !escaped.contains('>'));
});
