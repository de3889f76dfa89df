//! A voice-forwarder with voice on, on a private Redis; Twilio played by a client that signs
//! its requests exactly as Twilio does (written here from Twilio's description, not taken
//! from the service); operators' numbers and sessions set through the bus as
//! session-monitor and the host would.
#![allow(dead_code)]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use livehelp_bus::Bus;
use livehelp_protocol::{Availability, PhoneNumber, SessionId, StatusPatch, UserId};
use livehelp_settings::Settings;
use livehelp_testkit::{Identities, RedisServer, test_settings};
use livehelp_web::Stopper;
use secrecy::SecretString;
use serde_json::Value;
use voice_forwarder::Application;

pub const AUTH_TOKEN: &str = "test-twilio-auth-token";
/// The service's Twilio number: the caller id of forwarded calls.
pub const TWILIO_NUMBER: &str = "+15005550006";
/// A caller's number.
pub const CALLER_NUMBER: &str = "+14158675309";
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";

/// Twilio's algorithm: base64(HMAC-SHA1(token, url + name1 + value1 + ... sorted by name)).
pub fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_owned();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(value);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("any key");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn form(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// How a test request is signed.
#[derive(Debug, Clone)]
pub enum Signing {
    /// Over the URL the request really goes to (no proxy).
    Direct,
    /// Over this URL (what Twilio saw in front of a proxy).
    Url(String),
    /// With this header value.
    Header(String),
    /// No header at all.
    Missing,
}

/// A TwiML answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn twiml(&self) -> &str {
        assert_eq!(self.status, 200, "{}", self.body);
        assert!(
            self.content_type.starts_with("text/xml"),
            "{}",
            self.content_type
        );
        let doc = roxmltree::Document::parse(&self.body)
            .unwrap_or_else(|e| panic!("TwiML is not well-formed XML ({e}): {}", self.body));
        assert_eq!(
            doc.root_element().tag_name().name(),
            "Response",
            "{}",
            self.body
        );
        &self.body
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("json body")
    }

    pub fn gathers(&self) -> bool {
        self.twiml()
            .contains(r#"<Gather input="dtmf" numDigits="4" action="/voice/code" method="POST""#)
    }

    pub fn hangs_up(&self) -> bool {
        self.twiml().contains("<Hangup/>")
    }
}

pub struct Forwarder {
    pub port: u16,
    pub stopper: Stopper,
    pub bus: Bus,
    pub ids: Identities,
    pub settings: Settings,
    pub redis: RedisServer,
    http: reqwest::Client,
}

/// Settings with voice on.
pub fn voice_settings(redis_url: &str) -> Settings {
    let mut s = test_settings(redis_url, None);
    s.voice.enabled = true;
    s.voice.account_sid = ACCOUNT_SID.to_owned();
    s.voice.auth_token = SecretString::from(AUTH_TOKEN);
    s.voice.number = TWILIO_NUMBER.to_owned();
    s
}

impl Forwarder {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut Settings)) -> Self {
        let redis = RedisServer::start().expect("redis");
        let mut settings = voice_settings(&redis.url());
        tune(&mut settings);
        let app = Application::build(settings.clone()).await.expect("build");
        let (port, stopper) = (app.port(), app.stopper());
        actix_web::rt::spawn(app.run_until_stopped());
        let bus = livehelp_testkit::test_bus(&settings);
        Self {
            port,
            stopper,
            bus,
            ids: Identities::default(),
            settings,
            redis,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Twilio posts `params` to `path`, signed as `signing` says, with extra headers.
    pub async fn twilio_with(
        &self,
        path: &str,
        params: &[(&str, &str)],
        signing: Signing,
        headers: &[(&str, &str)],
    ) -> Answer {
        let signature = match signing {
            Signing::Direct => Some(twilio_signature(AUTH_TOKEN, &self.url(path), params)),
            Signing::Url(url) => Some(twilio_signature(AUTH_TOKEN, &url, params)),
            Signing::Header(h) => Some(h),
            Signing::Missing => None,
        };
        let mut request = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(params));
        if let Some(s) = signature {
            request = request.header("X-Twilio-Signature", s);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Answer {
            status,
            content_type,
            body: response.text().await.expect("body"),
        }
    }

    pub async fn twilio(&self, path: &str, params: &[(&str, &str)]) -> Answer {
        self.twilio_with(path, params, Signing::Direct, &[]).await
    }

    /// A new call from `from`.
    pub async fn call(&self, call: &str, from: &str) -> Answer {
        self.twilio("/voice/incoming", &call_params(call, from, None))
            .await
    }

    /// The caller enters `digits` on call `call`.
    pub async fn enter(&self, call: &str, from: &str, digits: &str) -> Answer {
        self.twilio("/voice/code", &call_params(call, from, Some(digits)))
            .await
    }

    /// The operator's forwarding number, as session-monitor stores it.
    pub async fn set_phone(&self, operator: &str, phone: Option<&str>) {
        let phone = phone.map(|p| PhoneNumber::parse(p).expect("e164"));
        self.bus
            .set_operator_phone(&uid(operator), phone.as_ref())
            .await
            .expect("phone");
    }

    /// The host makes live help available in a session.
    pub async fn session_available(&self, session: &str) {
        self.bus
            .update_status(
                &sid(session),
                StatusPatch {
                    availability: Some(Availability::Available),
                    ..StatusPatch::default()
                },
            )
            .await
            .expect("status");
    }

    /// The operator's toggle, on.
    pub async fn forward_as(&self, token: Option<&str>, session: &str) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/voice/api/sessions/{session}/forward")));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The operator turns forwarding on for a session and gets the code.
    pub async fn forward(&self, operator: &str, session: &str) -> String {
        let token = self.ids.operator(operator, Some(operator));
        let (status, body) = self.forward_as(Some(&token), session).await;
        assert_eq!(status, 200, "{body}");
        body["code"].as_str().expect("code").to_owned()
    }

    /// The operator's toggle, off.
    pub async fn stop_forwarding(&self, operator: &str, session: &str) -> u16 {
        let token = self.ids.operator(operator, Some(operator));
        self.http
            .delete(self.url(&format!("/voice/api/sessions/{session}/forward")))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    /// The session's live offer's code, if any.
    pub async fn offered_code(&self, session: &str) -> Option<String> {
        self.bus
            .voice_offer(&sid(session))
            .await
            .expect("offer")
            .map(|o| o.code)
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }
}

pub fn call_params<'a>(
    call: &'a str,
    from: &'a str,
    digits: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("From", from),
        ("Caller", from),
        ("To", TWILIO_NUMBER),
        ("Called", TWILIO_NUMBER),
    ];
    if let Some(d) = digits {
        p.push(("Digits", d));
    }
    p
}

pub fn uid(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

pub fn sid(id: &str) -> SessionId {
    SessionId::parse(id).expect("session id")
}

/// A fresh Twilio-looking call id.
pub fn call_sid(n: u32) -> String {
    format!("CA{n:032x}")
}
