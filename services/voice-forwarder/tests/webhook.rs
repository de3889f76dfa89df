//! Twilio's webhooks against a real Redis, every request signed as Twilio signs it: codes
//! that work once, wrong, expired, reused and empty entries, the retry limit, the operator
//! not answering, forged and missing signatures, URLs behind a proxy, rate limits.

mod support;

use std::time::Duration;

use support::{
    AUTH_TOKEN, Forwarder, Signing, TWILIO_NUMBER, call_params, call_sid, sid, twilio_signature,
    uid,
};

const OPERATOR_PHONE: &str = "+442071838750";
const CALLER: &str = "+14158675309";

/// An operator with a phone number has turned forwarding on for session `s1`.
async fn with_code(fw: &Forwarder) -> String {
    fw.set_phone("op-1", Some(OPERATOR_PHONE)).await;
    fw.session_available("s1").await;
    fw.forward("op-1", "s1").await
}

#[test]
fn the_test_client_signs_the_official_vector() {
    // TOOLING.md: Twilio's documented example.
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ];
    assert_eq!(
        twilio_signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &params
        ),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert!(voice_forwarder::signature::is_valid(
        b"12345",
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
}

#[actix_web::test]
async fn a_call_is_asked_for_its_code() {
    let fw = Forwarder::start().await;
    let answer = fw.call(&call_sid(1), CALLER).await;
    assert!(answer.gathers(), "{}", answer.body);
    let xml = answer.twiml();
    assert!(xml.contains("four digit access code"), "{xml}");
    assert!(
        xml.contains(r#"<Say>We did not receive a code.</Say><Redirect method="POST">/voice/incoming</Redirect>"#),
        "no entry: told so, then asked again: {xml}"
    );
}

#[actix_web::test]
async fn a_valid_code_bridges_the_call_once() {
    let fw = Forwarder::start().await;
    let code = with_code(&fw).await;
    assert_eq!(fw.offered_code("s1").await.as_deref(), Some(code.as_str()));

    let call = call_sid(2);
    fw.call(&call, CALLER).await;
    let answer = fw.enter(&call, CALLER, &code).await;
    let xml = answer.twiml();
    assert!(
        xml.contains(&format!(
            r#"<Dial callerId="{TWILIO_NUMBER}" action="/voice/dialed" method="POST" timeout="20"><Number>{OPERATOR_PHONE}</Number></Dial>"#
        )),
        "{xml}"
    );
    assert!(!answer.hangs_up());

    // Used up at once: gone from Redis and the user's offer.
    assert_eq!(fw.offered_code("s1").await, None);
    assert_eq!(fw.bus.consume_voice_code(&code).await.expect("redis"), None);
    let again = fw.enter(&call_sid(3), "+12025550199", &code).await;
    assert!(
        again.twiml().contains("That code is not valid."),
        "{}",
        again.body
    );
    assert!(!again.twiml().contains("<Dial"));
}

#[actix_web::test]
async fn wrong_codes_are_refused_and_asked_again() {
    let fw = Forwarder::start().await;
    let code = with_code(&fw).await;
    let wrong = if code == "0000" { "0001" } else { "0000" };
    let call = call_sid(4);
    fw.call(&call, CALLER).await;
    for bad in [wrong, "12", "12345", "abcd", "*#*#"] {
        let answer = fw.enter(&call_sid(100), "+12025550100", bad).await;
        let xml = answer.twiml();
        assert!(xml.contains("That code is not valid."), "{bad}: {xml}");
        assert!(!xml.contains("<Dial"), "{bad}: {xml}");
    }
    let answer = fw.enter(&call, CALLER, wrong).await;
    assert!(answer.twiml().starts_with(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>That code is not valid.</Say><Gather"#
    ));
    assert!(answer.gathers());
    assert_eq!(
        fw.offered_code("s1").await.as_deref(),
        Some(code.as_str()),
        "a wrong guess leaves the real code alone"
    );
}

#[actix_web::test]
async fn an_empty_entry_is_told_so() {
    let fw = Forwarder::start().await;
    let call = call_sid(5);
    fw.call(&call, CALLER).await;
    let answer = fw.enter(&call, CALLER, "").await;
    assert!(
        answer.twiml().contains("You did not enter a code."),
        "{}",
        answer.body
    );
    assert!(answer.gathers());
    let answer = fw
        .twilio("/voice/code", &call_params(&call, CALLER, None))
        .await;
    assert!(answer.twiml().contains("You did not enter a code."));
}

#[actix_web::test]
async fn an_expired_code_is_refused() {
    let fw = Forwarder::start().await;
    fw.set_phone("op-1", Some(OPERATOR_PHONE)).await;
    let issued = fw
        .bus
        .issue_voice_code(
            &uid("op-1"),
            &sid("s1"),
            &livehelp_protocol::PhoneNumber::parse(TWILIO_NUMBER).expect("e164"),
            Duration::from_secs(1),
        )
        .await
        .expect("redis")
        .expect("a free code");
    assert_eq!(fw.offered_code("s1").await, Some(issued.code.clone()));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        fw.offered_code("s1").await,
        None,
        "the offer lapses with the code"
    );
    let call = call_sid(6);
    let answer = fw.enter(&call, CALLER, &issued.code).await;
    assert!(
        answer.twiml().contains("That code is not valid."),
        "{}",
        answer.body
    );
    assert!(!answer.twiml().contains("<Dial"));
}

#[actix_web::test]
async fn a_call_gets_a_limited_number_of_tries() {
    let fw = Forwarder::start_with(|s| s.voice.max_attempts = 3).await;
    let code = with_code(&fw).await;
    let wrong = if code == "9999" { "9998" } else { "9999" };
    let call = call_sid(7);
    assert!(fw.call(&call, CALLER).await.gathers());
    assert!(fw.enter(&call, CALLER, wrong).await.gathers());
    assert!(fw.enter(&call, CALLER, "").await.gathers());
    let last = fw.enter(&call, CALLER, wrong).await;
    assert!(last.hangs_up(), "{}", last.body);
    assert!(!last.gathers());
    assert!(last.twiml().contains("Goodbye."));
    assert!(!last.twiml().contains("<Dial"));
    assert_eq!(
        fw.offered_code("s1").await.as_deref(),
        Some(code.as_str()),
        "the code itself stays good for another call"
    );
}

#[actix_web::test]
async fn entering_nothing_ends_after_the_limit() {
    let fw = Forwarder::start_with(|s| s.voice.max_attempts = 2).await;
    let call = call_sid(8);
    assert!(fw.call(&call, CALLER).await.gathers());
    // Twilio follows the <Redirect> when the caller entered nothing.
    assert!(fw.call(&call, CALLER).await.gathers());
    let last = fw.call(&call, CALLER).await;
    assert!(last.hangs_up(), "{}", last.body);
    assert!(!last.gathers());
    assert!(
        fw.call(&call_sid(9), CALLER).await.gathers(),
        "other calls are not affected"
    );
}

#[actix_web::test]
async fn the_caller_hears_a_fallback_when_the_operator_does_not_answer() {
    let fw = Forwarder::start().await;
    for status in ["no-answer", "busy", "failed", "canceled"] {
        let mut params = call_params("CA0000000000000000000000000000000a", CALLER, None);
        params.push(("DialCallStatus", status));
        let answer = fw.twilio("/voice/dialed", &params).await;
        let xml = answer.twiml();
        assert!(
            xml.contains(
                "<Say>The operator could not take your call. Please try again later.</Say><Hangup/>"
            ),
            "{status}: {xml}"
        );
    }
    let mut params = call_params("CA0000000000000000000000000000000a", CALLER, None);
    params.push(("DialCallStatus", "completed"));
    let answer = fw.twilio("/voice/dialed", &params).await;
    assert_eq!(
        answer.twiml(),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#
    );
}

#[actix_web::test]
async fn forged_or_missing_signatures_get_403_and_change_nothing() {
    let fw = Forwarder::start_with(|s| {
        s.voice.attempts_per_caller_per_hour = 2;
        s.voice.max_attempts = 1;
    })
    .await;
    let code = with_code(&fw).await;
    let call = call_sid(10);
    let params = call_params(&call, CALLER, Some(&code));
    let forged = [
        Signing::Missing,
        Signing::Header(String::new()),
        Signing::Header("RSOYDt4T1cUTdK1PDd93/VVr8B8=".into()),
        Signing::Header(twilio_signature(
            "wrong-token",
            &fw.url("/voice/code"),
            &params,
        )),
        Signing::Url("https://attacker.example/voice/code".into()),
    ];
    for path in ["/voice/incoming", "/voice/code", "/voice/dialed"] {
        let other = if path == "/voice/code" {
            "/voice/dialed"
        } else {
            "/voice/code"
        };
        // Signed for another endpoint.
        let elsewhere = Signing::Url(fw.url(other));
        for signing in forged.iter().chain([&elsewhere]) {
            let answer = fw.twilio_with(path, &params, signing.clone(), &[]).await;
            assert_eq!(answer.status, 403, "{path} {signing:?}: {}", answer.body);
            assert_eq!(answer.json()["error"]["code"], "forbidden");
        }
    }
    // A signed request whose parameters were changed afterwards.
    let signature = twilio_signature(
        AUTH_TOKEN,
        &fw.url("/voice/code"),
        &call_params(&call, CALLER, Some("0000")),
    );
    let answer = fw
        .twilio_with("/voice/code", &params, Signing::Header(signature), &[])
        .await;
    assert_eq!(answer.status, 403);

    // Nothing changed: the code is live, and neither the call's tries nor the caller's
    // guesses were counted.
    assert_eq!(fw.offered_code("s1").await.as_deref(), Some(code.as_str()));
    let answer = fw.enter(&call, CALLER, &code).await;
    assert!(answer.twiml().contains("<Dial"), "{}", answer.body);
    assert!(
        fw.metrics()
            .await
            .contains("livehelp_voice_signature_failures_total")
    );
}

#[actix_web::test]
async fn signatures_over_the_public_url_behind_a_proxy() {
    let fw = Forwarder::start().await;
    let params = call_params("CA000000000000000000000000000000b1", CALLER, None);
    let proxy = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "help.example.org"),
    ];
    for url in [
        "https://help.example.org/voice/incoming",
        "https://help.example.org:443/voice/incoming",
    ] {
        let answer = fw
            .twilio_with("/voice/incoming", &params, Signing::Url(url.into()), &proxy)
            .await;
        assert_eq!(answer.status, 200, "{url}: {}", answer.body);
    }
    // nginx passes the Host as the client sent it, port included.
    let with_port = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "help.example.org:443"),
    ];
    let answer = fw
        .twilio_with(
            "/voice/incoming",
            &params,
            Signing::Url("https://help.example.org/voice/incoming".into()),
            &with_port,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // A non-default port is part of the URL.
    let odd_port = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "help.example.org:8443"),
    ];
    for (url, status) in [
        ("https://help.example.org:8443/voice/incoming", 200),
        ("https://help.example.org/voice/incoming", 403),
    ] {
        let answer = fw
            .twilio_with(
                "/voice/incoming",
                &params,
                Signing::Url(url.into()),
                &odd_port,
            )
            .await;
        assert_eq!(answer.status, status, "{url}: {}", answer.body);
    }
    // Behind the proxy the internal URL, the other scheme or another host do not sign.
    for url in [
        fw.url("/voice/incoming"),
        "http://help.example.org/voice/incoming".into(),
        "https://other.example.org/voice/incoming".into(),
    ] {
        let answer = fw
            .twilio_with(
                "/voice/incoming",
                &params,
                Signing::Url(url.clone()),
                &proxy,
            )
            .await;
        assert_eq!(answer.status, 403, "{url}");
    }
    // The query string is part of the URL.
    let answer = fw
        .twilio_with(
            "/voice/incoming",
            &params,
            Signing::Url("https://help.example.org/voice/incoming?x=1".into()),
            &proxy,
        )
        .await;
    assert_eq!(answer.status, 403);
}

#[actix_web::test]
async fn a_configured_public_base_url_wins_over_headers() {
    let fw = Forwarder::start_with(|s| {
        s.voice.public_base_url = "https://calls.example.org".into();
    })
    .await;
    let params = call_params("CA000000000000000000000000000000c1", CALLER, None);
    let spoofed = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "attacker.example"),
    ];
    for (url, status) in [
        ("https://calls.example.org/voice/incoming", 200),
        ("https://calls.example.org:443/voice/incoming", 200),
        ("https://attacker.example/voice/incoming", 403),
    ] {
        let answer = fw
            .twilio_with(
                "/voice/incoming",
                &params,
                Signing::Url(url.into()),
                &spoofed,
            )
            .await;
        assert_eq!(answer.status, status, "{url}: {}", answer.body);
    }
    let answer = fw
        .twilio_with("/voice/incoming", &params, Signing::Direct, &[])
        .await;
    assert_eq!(answer.status, 403, "the internal URL does not sign");
}

#[actix_web::test]
async fn guessing_is_limited_per_caller() {
    let fw = Forwarder::start_with(|s| {
        s.voice.attempts_per_caller_per_hour = 3;
        s.voice.max_attempts = 10;
    })
    .await;
    let code = with_code(&fw).await;
    let wrong = if code == "1111" { "2222" } else { "1111" };
    let guesser = "+12025550111";
    // New calls do not reset the caller's count.
    for n in 0..3 {
        let answer = fw.enter(&call_sid(200 + n), guesser, wrong).await;
        assert!(
            answer.twiml().contains("That code is not valid."),
            "{}",
            answer.body
        );
    }
    let limited = fw.enter(&call_sid(210), guesser, &code).await;
    let xml = limited.twiml();
    assert!(
        xml.contains("<Say>Too many attempts. Goodbye.</Say><Hangup/>"),
        "{xml}"
    );
    assert!(!xml.contains("<Dial"));
    assert_eq!(
        fw.offered_code("s1").await.as_deref(),
        Some(code.as_str()),
        "a refused guess does not use the code"
    );
    // Another caller is not limited.
    let answer = fw.enter(&call_sid(211), CALLER, &code).await;
    assert!(answer.twiml().contains("<Dial"), "{}", answer.body);
    let metrics = fw.metrics().await;
    assert!(
        metrics.contains(r#"livehelp_voice_code_attempts_total{outcome="rate_limited"}"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"livehelp_voice_code_attempts_total{outcome="wrong"}"#));
    assert!(metrics.contains(r#"livehelp_voice_code_attempts_total{outcome="valid"}"#));
}

#[actix_web::test]
async fn guessing_is_limited_globally() {
    let fw = Forwarder::start_with(|s| {
        s.voice.attempts_per_minute = 4;
        s.voice.max_attempts = 10;
    })
    .await;
    let code = with_code(&fw).await;
    let wrong = if code == "1111" { "2222" } else { "1111" };
    for n in 0..4u32 {
        let caller = format!("+1202555{:04}", 300 + n);
        let answer = fw.enter(&call_sid(300 + n), &caller, wrong).await;
        assert!(
            answer.twiml().contains("That code is not valid."),
            "{}",
            answer.body
        );
    }
    let answer = fw.enter(&call_sid(310), CALLER, &code).await;
    assert!(
        answer.twiml().contains("Too many attempts. Goodbye."),
        "{}",
        answer.body
    );
    assert_eq!(fw.offered_code("s1").await.as_deref(), Some(code.as_str()));
}

#[actix_web::test]
async fn a_request_without_a_call_id_is_refused() {
    let fw = Forwarder::start().await;
    let answer = fw
        .twilio("/voice/incoming", &[("From", CALLER), ("CallSid", "x{y}")])
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("CallSid")
    );
}

#[actix_web::test]
async fn every_route_is_404_while_voice_is_off() {
    let fw = Forwarder::start_with(|s| s.voice.enabled = false).await;
    for path in ["/voice/incoming", "/voice/code", "/voice/dialed"] {
        let answer = signed_post(&fw, path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(
            answer.json()["error"]["message"],
            "voice is turned off (voice.enabled)"
        );
    }
    let token = fw.ids.operator("op-1", None);
    let (status, body) = fw.forward_as(Some(&token), "s1").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(fw.stop_forwarding("op-1", "s1").await, 404);
}

async fn signed_post(fw: &Forwarder, path: &str) -> support::Answer {
    fw.twilio(
        path,
        &call_params("CA000000000000000000000000000000d1", CALLER, Some("1234")),
    )
    .await
}
