//! The demo host over real HTTP: pages, dev login, token endpoint, and the host-API call it
//! makes to chat-gateway (a recording stand-in on a free port here; chat-gateway's own tests
//! cover the real endpoint).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use demo_host::{Application, DemoSettings};
use livehelp_identity::{JoinClaims, Principal, TokenVerifier};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

const JWT_SECRET: &str = "test-jwt-secret-test-jwt-secret-0123";
const HOST_API_KEY: &str = "test-host-api-key-0123";

// ---------------------------------------------------------------- fake chat-gateway

#[derive(Debug, Clone)]
struct Recorded {
    session: String,
    authorization: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct Gateway {
    url: String,
    calls: Arc<Mutex<Vec<Recorded>>>,
}

impl Gateway {
    /// A stand-in for chat-gateway's host API that records each status call and answers
    /// `status`.
    fn start(status: u16) -> Self {
        let calls: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake gateway");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let recorded = calls.clone();
        let server = actix_web::HttpServer::new(move || {
            let recorded = recorded.clone();
            actix_web::App::new().route(
                "/chat/api/sessions/{session}/status",
                web::put().to(
                    move |req: HttpRequest, path: web::Path<String>, body: web::Bytes| {
                        let recorded = recorded.clone();
                        async move {
                            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                            recorded.lock().expect("calls lock").push(Recorded {
                                session: path.into_inner(),
                                authorization: req
                                    .headers()
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_owned),
                                body: body.clone(),
                            });
                            let code =
                                actix_web::http::StatusCode::from_u16(status).expect("status");
                            HttpResponse::build(code).json(body)
                        }
                    },
                ),
            )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        actix_web::rt::spawn(server);
        Self { url, calls }
    }

    fn calls(&self) -> Vec<Recorded> {
        self.calls.lock().expect("calls lock").clone()
    }
}

/// A URL where nothing listens.
fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    url
}

// ---------------------------------------------------------------- the demo host

struct Demo {
    base: String,
    http: reqwest::Client,
}

fn start_demo(chat_api_url: &str) -> Demo {
    let settings = DemoSettings {
        host: "127.0.0.1".into(),
        port: 0,
        jwt_secret: SecretString::from(JWT_SECRET.to_owned()),
        host_api_key: SecretString::from(HOST_API_KEY.to_owned()),
        chat_api_url: chat_api_url.to_owned(),
    };
    let app = Application::build(settings).expect("build the demo host");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Demo { base, http }
}

/// A browser's cookie jar, reduced to the one cookie the demo host sets.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
}

impl Browser {
    fn keep(&mut self, response: &reqwest::Response) {
        for v in response.headers().get_all("set-cookie") {
            let v = v.to_str().expect("ascii cookie");
            let pair = v.split(';').next().expect("name=value");
            if let Some(value) = pair.strip_prefix("demo_session=") {
                self.cookie = (!value.is_empty()).then(|| pair.to_owned());
            }
        }
    }

    fn with(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        }
    }
}

impl Demo {
    async fn get(&self, b: &mut Browser, path: &str) -> (StatusCode, String) {
        let r = b
            .with(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET");
        b.keep(&r);
        (r.status(), r.text().await.expect("body"))
    }

    async fn post(&self, b: &mut Browser, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = b
            .with(self.http.post(format!("{}{path}", self.base)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        b.keep(&r);
        r
    }

    async fn post_text(
        &self,
        b: &mut Browser,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let r = self.post(b, path, form).await;
        (r.status(), r.text().await.expect("body"))
    }

    async fn token(&self, b: &Browser) -> reqwest::Response {
        b.with(self.http.get(format!("{}/livehelp/token", self.base)))
            .send()
            .await
            .expect("GET token")
    }

    async fn principal(&self, b: &Browser) -> Principal {
        let r = self.token(b).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = r.json().await.expect("json");
        let token = body["token"].as_str().expect("a token");
        verifier().verify(token).expect("the token verifies")
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn verifier() -> TokenVerifier {
    TokenVerifier::new(&SecretString::from(JWT_SECRET.to_owned()), 0)
}

const WIDGET: &str =
    r#"<script src="/static/livehelp/widget.js" data-token-url="/livehelp/token" defer></script>"#;
const CSS: &str = r#"<link rel="stylesheet" href="/static/livehelp/livehelp.css">"#;

// ---------------------------------------------------------------- tests

#[actix_web::test]
async fn the_landing_page_links_to_the_interview_and_the_sign_in() {
    let demo = start_demo(&dead_url());
    let mut b = Browser::default();
    let (status, health) = demo.get(&mut b, "/healthz").await;
    assert_eq!((status, health.as_str()), (StatusCode::OK, "ok"));

    let (status, page) = demo.get(&mut b, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Demo interview</h1>"));
    assert!(page.contains(r#"<a href="/interview">Start the interview</a>"#));
    assert!(page.contains(r#"<a href="/login">Operator sign-in</a>"#));
    assert!(!page.contains("widget.js"));

    let (status, _) = demo.get(&mut b, "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_login_form_has_labelled_fields() {
    let demo = start_demo(&dead_url());
    let (status, page) = demo.get(&mut Browser::default(), "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<label for="name">Name</label>"#) && page.contains(r#"id="name""#));
    assert!(page.contains(r#"<label for="role">Role</label>"#) && page.contains(r#"id="role""#));
    for role in ["user", "advocate", "admin", "developer"] {
        assert!(
            page.contains(&format!(r#"<option value="{role}">{role}</option>"#)),
            "{role}"
        );
    }
    assert!(page.contains(r#"<button type="submit">Sign in</button>"#));
}

#[actix_web::test]
async fn an_advocate_signs_in_and_gets_an_operator_token() {
    let demo = start_demo(&dead_url());
    let mut b = Browser::default();
    let r = demo
        .post(
            &mut b,
            "/login",
            &[("name", "Olive Operator"), ("role", "advocate")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/monitor/");
    let set_cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(set_cookie.starts_with("demo_session="));
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie} lacks {attr}");
    }

    let Principal::Operator(op) = demo.principal(&b).await else {
        panic!("an advocate is an operator")
    };
    assert_eq!(op.name.as_deref(), Some("Olive Operator"));
    assert_eq!(op.privileges, vec!["advocate".to_owned()]);
    assert!(op.id.as_str().starts_with("u-"));
}

#[actix_web::test]
async fn each_role_lands_where_it_belongs_with_the_right_token() {
    let demo = start_demo(&dead_url());

    let mut admin = Browser::default();
    let r = demo
        .post(&mut admin, "/login", &[("name", "Ann"), ("role", "admin")])
        .await;
    assert_eq!(r.headers()["location"], "/monitor/");
    assert!(
        matches!(demo.principal(&admin).await, Principal::Operator(o) if o.privileges == ["admin"])
    );

    let mut dev = Browser::default();
    let r = demo
        .post(
            &mut dev,
            "/login",
            &[("name", "Dev"), ("role", "developer")],
        )
        .await;
    assert_eq!(r.headers()["location"], "/");
    assert!(
        matches!(demo.principal(&dev).await, Principal::Staff(s) if s.name.as_deref() == Some("Dev"))
    );

    let mut user = Browser::default();
    let r = demo
        .post(&mut user, "/login", &[("name", "Uma"), ("role", "user")])
        .await;
    assert_eq!(r.headers()["location"], "/interview");
    let Principal::User(u) = demo.principal(&user).await else {
        panic!("a user")
    };
    assert_eq!(u.name.as_deref(), Some("Uma"));
    assert!(u.session.as_str().starts_with("s-"));

    let (_, landing) = demo.get(&mut dev, "/").await;
    assert!(landing.contains("Signed in as Dev (developer)."));
}

#[actix_web::test]
async fn bad_sign_ins_are_refused_with_a_message() {
    let demo = start_demo(&dead_url());
    let mut b = Browser::default();
    let (status, page) = demo
        .post_text(&mut b, "/login", &[("name", "  "), ("role", "advocate")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Please enter your name."));
    let (status, page) = demo
        .post_text(&mut b, "/login", &[("name", "Eve"), ("role", "root")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Choose a role"));
    assert!(b.cookie.is_none());
}

#[actix_web::test]
async fn without_a_session_the_token_endpoint_answers_401() {
    let demo = start_demo(&dead_url());
    let r = demo.token(&Browser::default()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        json!({"error": {"code": "unauthenticated", "message": "sign in first"}})
    );

    // A forged cookie is no session either.
    let forged = Browser {
        cookie: Some("demo_session=eyJhbGciOiJIUzI1NiJ9.e30.AAAA".into()),
    };
    assert_eq!(demo.token(&forged).await.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_user_goes_through_the_interview_and_gets_a_token_for_the_session() {
    let gateway = Gateway::start(200);
    let demo = start_demo(&gateway.url);
    let mut b = Browser::default();

    let (status, page) = demo.get(&mut b, "/interview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>What is your name?</h1>"));
    assert!(page.contains(r#"<label for="name">Your name</label>"#));
    assert!(page.contains(
        r#"<label for="multi">Several people will fill in this interview together</label>"#
    ));
    assert!(page.contains(r#"<button type="submit">Continue</button>"#));
    assert!(page.contains(WIDGET) && page.contains(CSS));

    // An anonymous identity with a fresh session.
    let Principal::User(anon) = demo.principal(&b).await else {
        panic!("a user")
    };
    let sid = anon.session.as_str().to_owned();
    assert!(
        sid.len() == 18 && sid.starts_with("s-") && sid[2..].chars().all(|c| c.is_ascii_hexdigit())
    );
    assert_eq!(anon.name, None);

    let (status, page) = demo
        .post_text(
            &mut b,
            "/interview",
            &[("step", "1"), ("name", "Ada Lovelace")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>What do you need help with?</h1>"));
    for topic in ["Benefits", "Housing", "Family law"] {
        assert!(
            page.contains(&format!(r#"<option value="{topic}">{topic}</option>"#)),
            "{topic}"
        );
    }
    assert!(page.contains(WIDGET) && page.contains(CSS));

    // The name given becomes the display name; the session stays.
    let Principal::User(named) = demo.principal(&b).await else {
        panic!("a user")
    };
    assert_eq!(named.session.as_str(), sid);
    assert_eq!(named.id, anon.id);
    assert_eq!(named.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(named.first_name.as_deref(), Some("Ada"));
    assert_eq!(named.last_name.as_deref(), Some("Lovelace"));

    let (status, page) = demo
        .post_text(
            &mut b,
            "/interview",
            &[("step", "2"), ("topic", "Family law")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Anything else we should know?</h1>"));
    assert!(page.contains(r#"<button type="submit">Finish</button>"#));
    assert!(page.contains(WIDGET));

    let (status, page) = demo
        .post_text(
            &mut b,
            "/interview",
            &[("step", "3"), ("notes", "Two children.")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Thank you</h1>"));
    assert!(
        page.contains("Family law")
            && page.contains("Two children.")
            && page.contains("Ada Lovelace")
    );
    assert!(page.contains(WIDGET));

    let Principal::User(done) = demo.principal(&b).await else {
        panic!("a user")
    };
    assert_eq!(done.session.as_str(), sid);
}

#[actix_web::test]
async fn steps_are_validated_and_cannot_be_skipped() {
    let demo = start_demo(&dead_url());
    let mut b = Browser::default();
    let (status, page) = demo
        .post_text(&mut b, "/interview", &[("step", "1"), ("name", "")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Please enter your name.") && page.contains(r#"aria-invalid="true""#));

    let (status, page) = demo.get(&mut b, "/interview?step=3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>What is your name?</h1>"));

    demo.post_text(&mut b, "/interview", &[("step", "1"), ("name", "Bo")])
        .await;
    let (status, page) = demo
        .post_text(&mut b, "/interview", &[("step", "2"), ("topic", "Piracy")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Please choose what you need help with."));
}

#[actix_web::test]
async fn the_session_is_made_available_on_chat_gateway_and_the_mode_follows_the_answers() {
    let gateway = Gateway::start(200);
    let demo = start_demo(&gateway.url);
    let mut b = Browser::default();

    demo.get(&mut b, "/interview").await;
    let Principal::User(user) = demo.principal(&b).await else {
        panic!("a user")
    };
    let sid = user.session.as_str();
    let calls = gateway.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].session, sid);
    assert_eq!(
        calls[0].authorization.as_deref(),
        Some(format!("Bearer {HOST_API_KEY}").as_str())
    );
    assert_eq!(
        calls[0].body,
        json!({"availability": "available", "mode": "help", "partner_roles": ["advocate"], "title": "Demo interview"})
    );

    // Nothing changed: no second call.
    demo.get(&mut b, "/interview").await;
    demo.post(&mut b, "/interview", &[("step", "1"), ("name", "Ada")])
        .await;
    assert_eq!(gateway.calls().len(), 1);

    // Several people: peer help.
    demo.post(
        &mut b,
        "/interview",
        &[("step", "1"), ("name", "Ada"), ("multi", "yes")],
    )
    .await;
    let calls = gateway.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1].session, sid);
    assert_eq!(calls[1].body["mode"], "peerhelp");
    assert_eq!(calls[1].body["availability"], "available");

    // And back.
    demo.post(&mut b, "/interview", &[("step", "1"), ("name", "Ada")])
        .await;
    let calls = gateway.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2].body["mode"], "help");
}

#[actix_web::test]
async fn a_failing_host_api_call_still_renders_the_page_and_is_retried() {
    let gateway = Gateway::start(503);
    let demo = start_demo(&gateway.url);
    let mut b = Browser::default();
    let (status, page) = demo.get(&mut b, "/interview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>What is your name?</h1>"));
    demo.get(&mut b, "/interview").await;
    assert_eq!(
        gateway.calls().len(),
        2,
        "an unaccepted status is sent again"
    );

    let unreachable = start_demo(&dead_url());
    let mut b = Browser::default();
    let (status, page) = unreachable.get(&mut b, "/interview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(WIDGET));
    assert_eq!(unreachable.token(&b).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn names_are_escaped_wherever_they_are_shown() {
    let demo = start_demo(&dead_url());
    let evil = r#"<script>alert("x")</script>"#;
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";

    let mut b = Browser::default();
    let (status, page) = demo
        .post_text(&mut b, "/interview", &[("step", "1"), ("name", evil)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(evil) && page.contains(&format!("Thank you, {escaped}.")));

    let (_, page) = demo.get(&mut b, "/interview?step=1").await;
    assert!(!page.contains(evil) && page.contains(&format!(r#"value="{escaped}""#)));

    demo.post(&mut b, "/interview", &[("step", "2"), ("topic", "Housing")])
        .await;
    let (_, page) = demo
        .post_text(&mut b, "/interview", &[("step", "3"), ("notes", evil)])
        .await;
    assert!(!page.contains(evil) && page.contains(escaped));

    let mut op = Browser::default();
    let breakout = r#""><img src=x onerror=alert(1)>"#;
    let (status, page) = demo
        .post_text(&mut op, "/login", &[("name", breakout), ("role", "nobody")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !page.contains(breakout) && page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
    );

    demo.post(&mut op, "/login", &[("name", evil), ("role", "developer")])
        .await;
    let (_, landing) = demo.get(&mut op, "/").await;
    assert!(
        !landing.contains(evil)
            && landing.contains(&format!("Signed in as {escaped} (developer)."))
    );
}

// ---------------------------------------------------------------- joining by invite link

const INVITE_HEADING: &str = r#"<h2 id="invite-heading">Invite someone</h2>"#;
const INVITE_LABEL: &str = r#"<label for="invite-link">Invite link</label>"#;
const INVITE_TEXT: &str = "Send this link to the people filling in this interview with you.";

/// The read-only field holding the invite link to `sid`.
fn invite_input(sid: &str) -> String {
    format!(
        r#"<input type="text" id="invite-link" value="/interview/join/{sid}" readonly aria-describedby="invite-help">"#
    )
}

fn assert_invites_to(page: &str, sid: &str) {
    assert!(page.contains(INVITE_HEADING), "{page}");
    assert!(page.contains(INVITE_LABEL), "{page}");
    assert!(page.contains(INVITE_TEXT), "{page}");
    assert!(page.contains(&invite_input(sid)), "{page}");
}

fn assert_no_invite(page: &str) {
    assert!(
        !page.contains("Invite someone") && !page.contains("/interview/join/"),
        "{page}"
    );
}

impl Demo {
    /// Follows an invite link: the response, without following its redirect.
    async fn join(&self, b: &mut Browser, path: &str) -> reqwest::Response {
        let r = b
            .with(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET join");
        b.keep(&r);
        r
    }

    async fn user(&self, b: &Browser) -> livehelp_identity::User {
        match self.principal(b).await {
            Principal::User(u) => u,
            other => panic!("expected a user, got {other:?}"),
        }
    }
}

#[actix_web::test]
async fn a_single_user_interview_offers_no_invite_link() {
    let demo = start_demo(&dead_url());
    let mut b = Browser::default();
    let (_, page) = demo.get(&mut b, "/interview").await;
    assert_no_invite(&page);
    let (_, page) = demo
        .post_text(&mut b, "/interview", &[("step", "1"), ("name", "Ada")])
        .await;
    assert!(page.contains("<h1>What do you need help with?</h1>"));
    assert_no_invite(&page);
    let (_, page) = demo
        .post_text(&mut b, "/interview", &[("step", "2"), ("topic", "Housing")])
        .await;
    assert_no_invite(&page);
    let (_, page) = demo
        .post_text(&mut b, "/interview", &[("step", "3"), ("notes", "")])
        .await;
    assert!(page.contains("<h1>Thank you</h1>"));
    assert_no_invite(&page);
}

#[actix_web::test]
async fn a_second_person_joins_a_multi_user_interview_by_its_invite_link() {
    let gateway = Gateway::start(200);
    let demo = start_demo(&gateway.url);

    // The first person says several people fill in the interview together.
    let mut ada = Browser::default();
    demo.get(&mut ada, "/interview").await;
    let (status, page) = demo
        .post_text(
            &mut ada,
            "/interview",
            &[("step", "1"), ("name", "Ada Lovelace"), ("multi", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = demo.user(&ada).await;
    let sid = first.session.as_str().to_owned();
    assert_invites_to(&page, &sid);
    let (_, page) = demo.get(&mut ada, "/interview?step=1").await;
    assert!(page.contains("<h1>What is your name?</h1>"));
    assert_invites_to(&page, &sid);
    let (_, page) = demo
        .post_text(
            &mut ada,
            "/interview",
            &[("step", "2"), ("topic", "Housing")],
        )
        .await;
    assert!(page.contains("<h1>Anything else we should know?</h1>"));
    assert_invites_to(&page, &sid);
    let (_, page) = demo
        .post_text(&mut ada, "/interview", &[("step", "3"), ("notes", "")])
        .await;
    assert!(page.contains("<h1>Thank you</h1>"));
    assert_invites_to(&page, &sid);

    // The first person opening their own link keeps their identity.
    let link = format!("/interview/join/{sid}");
    let r = demo.join(&mut ada, &link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/interview");
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(demo.user(&ada).await.id, first.id);

    // A second person follows it: a new user of the same session, with no name yet.
    let calls_before = gateway.calls().len();
    let mut grace = Browser::default();
    let r = demo.join(&mut grace, &link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/interview");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(grace.cookie.is_some());
    let joined = demo.user(&grace).await;
    assert_eq!(joined.session.as_str(), sid);
    assert_ne!(joined.id, first.id);
    assert_eq!(joined.name, None);

    // Step 1 shows the session's answers, which everyone in it shares; the interview stays
    // multi-user, and chat-gateway already has it as such, so there is nothing to announce.
    let (status, page) = demo.get(&mut grace, "/interview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>What is your name?</h1>"));
    assert!(page.contains(r#"value="Ada Lovelace""#), "{page}");
    assert!(page.contains(r#"name="multi" value="yes" checked>"#));
    assert_invites_to(&page, &sid);
    let calls = gateway.calls();
    assert_eq!(calls.len(), calls_before, "{calls:?}");
    let last = calls.last().expect("a call");
    assert_eq!(last.session, sid);
    assert_eq!(last.body["mode"], "peerhelp");
    assert_eq!(last.body["availability"], "available");

    let (_, page) = demo
        .post_text(
            &mut grace,
            "/interview",
            &[("step", "1"), ("name", "Grace Hopper"), ("multi", "yes")],
        )
        .await;
    assert!(page.contains("Thank you, Grace Hopper."));
    assert_invites_to(&page, &sid);
    let named = demo.user(&grace).await;
    assert_eq!(named.session.as_str(), sid);
    assert_eq!(named.id, joined.id);
    assert_eq!(named.name.as_deref(), Some("Grace Hopper"));
    assert_eq!(named.first_name.as_deref(), Some("Grace"));
    assert_eq!(named.last_name.as_deref(), Some("Hopper"));
    assert_eq!(
        gateway.calls().len(),
        calls_before,
        "nothing new to announce"
    );

    // The first person keeps their identity, and sees the shared answer on their next page.
    let still = demo.user(&ada).await;
    assert_eq!((still.id, still.session), (first.id, first.session));
    assert_eq!(still.name.as_deref(), Some("Ada Lovelace"));
    let (_, page) = demo.get(&mut ada, "/interview?step=2").await;
    assert!(page.contains("Thank you, Grace Hopper."), "{page}");
    assert!(page.contains(r#"<option value="Housing" selected>Housing</option>"#));
}

#[actix_web::test]
async fn a_user_of_another_session_or_staff_following_a_link_becomes_a_user_of_its_session() {
    let demo = start_demo(&dead_url());
    let sid = "s-00112233445566ff";

    let mut other = Browser::default();
    demo.get(&mut other, "/interview").await;
    let before = demo.user(&other).await;
    let r = demo
        .join(&mut other, &format!("/interview/join/{sid}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = demo.user(&other).await;
    assert_eq!(after.session.as_str(), sid);
    assert_ne!(after.id, before.id);

    let mut staff = Browser::default();
    demo.post(
        &mut staff,
        "/login",
        &[("name", "Olive Operator"), ("role", "advocate")],
    )
    .await;
    let r = demo
        .join(&mut staff, &format!("/interview/join/{sid}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/interview");
    let user = demo.user(&staff).await;
    assert_eq!(user.session.as_str(), sid);
    assert_eq!(user.name, None);
    let (_, page) = demo.get(&mut staff, "/interview").await;
    assert!(!page.contains("You are signed in as staff"));
    assert_invites_to(&page, sid);
}

#[actix_web::test]
async fn a_malformed_session_id_in_an_invite_link_is_not_found() {
    let demo = start_demo(&dead_url());
    for path in [
        "/interview/join/",
        "/interview/join/x",
        "/interview/join/s-",
        "/interview/join/s-0123456789abcde",
        "/interview/join/s-0123456789abcdef0",
        "/interview/join/s-0123456789ABCDEF",
        "/interview/join/s-0123456789abcdeg",
        "/interview/join/u-0123456789abcdef",
        "/interview/join/s-0123456789abcdef/more",
        "/interview/join/s-0123456789abcd%22%3E",
        "/interview/join/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ] {
        let mut b = Browser::default();
        let (status, page) = demo.get(&mut b, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("<h1>Page not found</h1>"), "{path}");
        assert!(
            !page.contains("<script>alert") && !page.contains("0123456789"),
            "{path}"
        );
        assert!(b.cookie.is_none(), "{path} set a cookie");
    }

    // A signed-in user following a bad link keeps their session.
    let mut b = Browser::default();
    demo.get(&mut b, "/interview").await;
    let before = demo.user(&b).await;
    let (status, _) = demo.get(&mut b, "/interview/join/s-nothex").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let after = demo.user(&b).await;
    assert_eq!((after.id, after.session), (before.id, before.session));
}

#[actix_web::test]
async fn names_are_escaped_on_the_pages_of_a_joined_interview() {
    let demo = start_demo(&dead_url());
    let evil = r#"<script>alert("x")</script>"#;
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";

    let mut first = Browser::default();
    let (_, page) = demo
        .post_text(
            &mut first,
            "/interview",
            &[("step", "1"), ("name", evil), ("multi", "yes")],
        )
        .await;
    let sid = demo.user(&first).await.session.as_str().to_owned();
    assert!(!page.contains(evil) && page.contains(&format!("Thank you, {escaped}.")));
    assert_invites_to(&page, &sid);

    let mut second = Browser::default();
    demo.join(&mut second, &format!("/interview/join/{sid}"))
        .await;
    let (_, page) = demo
        .post_text(
            &mut second,
            "/interview",
            &[("step", "1"), ("name", evil), ("multi", "yes")],
        )
        .await;
    assert!(!page.contains(evil) && page.contains(&format!("Thank you, {escaped}.")));
    assert_invites_to(&page, &sid);
    let (_, page) = demo.get(&mut second, "/interview?step=1").await;
    assert!(!page.contains(evil) && page.contains(&format!(r#"value="{escaped}""#)));
    assert_eq!(demo.user(&second).await.name.as_deref(), Some(evil));
}

// ---------------------------------------------------------------- operator join links

const JOIN_INVALID: &str = "<h1>This join link is invalid</h1>";
const JOIN_EXPIRED: &str = "<h1>This join link has expired</h1>";
const JOIN_USED: &str = "<h1>This join link was already used</h1>";

/// A join link as session-monitor makes it: `JoinClaims` signed with the shared secret.
fn join_link(claims: &JoinClaims) -> String {
    join_link_signed(claims, JWT_SECRET)
}

fn join_link_signed(claims: &JoinClaims, secret: &str) -> String {
    let token = claims.sign(&SecretString::from(secret.to_owned()));
    format!("/livehelp/join?token={token}")
}

fn join_claims(operator: &str, name: Option<&str>, sid: &str, jti: &str) -> JoinClaims {
    JoinClaims::new(operator, name, sid, jti.to_owned(), Duration::from_secs(60))
}

/// A user who answered steps 1 and 2; their browser and their interview session id.
async fn user_with_answers(demo: &Demo, name: &str, topic: &str) -> (Browser, String) {
    let mut b = Browser::default();
    demo.post(&mut b, "/interview", &[("step", "1"), ("name", name)])
        .await;
    demo.post(&mut b, "/interview", &[("step", "2"), ("topic", topic)])
        .await;
    let sid = demo.user(&b).await.session.as_str().to_owned();
    (b, sid)
}

#[actix_web::test]
async fn an_operator_join_link_opens_the_users_session_as_the_operator() {
    let gateway = Gateway::start(200);
    let demo = start_demo(&gateway.url);
    let (mut user, sid) = user_with_answers(&demo, "Ada Lovelace", "Housing").await;
    let calls_before = gateway.calls().len();

    let mut op = Browser::default();
    let link = join_link(&join_claims(
        "op-olivia",
        Some("Olivia Operator"),
        &sid,
        "jti-1",
    ));
    let r = demo.join(&mut op, &link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/interview");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let set_cookie = r.headers()["set-cookie"].to_str().expect("ascii");
    for attr in ["demo_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie} lacks {attr}");
    }

    // The widget and the monitor get the operator's own staff token.
    let Principal::Operator(who) = demo.principal(&op).await else {
        panic!("the joined browser is the operator")
    };
    assert_eq!(who.id.as_str(), "op-olivia");
    assert_eq!(who.name.as_deref(), Some("Olivia Operator"));
    assert_eq!(who.privileges, vec!["advocate".to_owned()]);

    // The interview shows the user's answers, as the operator.
    let (status, page) = demo.get(&mut op, "/interview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>What is your name?</h1>"));
    assert!(page.contains(r#"value="Ada Lovelace""#), "{page}");
    assert!(page.contains("You joined this interview as Olivia Operator (advocate)."));
    assert!(!page.contains("open it in a private window"));
    let (_, page) = demo.get(&mut op, "/interview?step=2").await;
    assert!(page.contains("Thank you, Ada Lovelace."));
    assert!(page.contains(r#"<option value="Housing" selected>Housing</option>"#));
    let (_, landing) = demo.get(&mut op, "/").await;
    assert!(landing.contains("Signed in as Olivia Operator (advocate)."));

    // The operator changes answers; the user sees them on their next page.
    let (status, page) = demo
        .post_text(
            &mut op,
            "/interview",
            &[("step", "1"), ("name", "Ada King")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Thank you, Ada King."));
    demo.post(
        &mut op,
        "/interview",
        &[("step", "2"), ("topic", "Family law")],
    )
    .await;
    let (_, page) = demo.get(&mut user, "/interview?step=2").await;
    assert!(page.contains("Thank you, Ada King."), "{page}");
    assert!(page.contains(r#"<option value="Family law" selected>Family law</option>"#));
    let (_, page) = demo.get(&mut user, "/interview?step=1").await;
    assert!(page.contains(r#"value="Ada King""#));

    // And the other way round: the user's answer reaches the operator's next page.
    let (_, page) = demo
        .post_text(
            &mut user,
            "/interview",
            &[("step", "3"), ("notes", "Two children.")],
        )
        .await;
    assert!(page.contains("<dd>Two children.</dd>"), "{page}");
    let (_, page) = demo.get(&mut op, "/interview?step=3").await;
    assert!(page.contains(">Two children.</textarea>"), "{page}");

    // Identities stay apart: the user is still the user, with the name they gave.
    let still = demo.user(&user).await;
    assert_eq!(still.session.as_str(), sid);
    assert_eq!(still.name.as_deref(), Some("Ada Lovelace"));
    assert!(
        matches!(demo.principal(&op).await, Principal::Operator(o) if o.id.as_str() == "op-olivia")
    );

    // Nothing the operator did changed the session's mode: no new host-API call.
    assert_eq!(gateway.calls().len(), calls_before, "{:?}", gateway.calls());
}

#[actix_web::test]
async fn an_admin_signed_in_here_keeps_the_admin_role_when_joining() {
    let demo = start_demo(&dead_url());
    let (_, sid) = user_with_answers(&demo, "Ada", "Benefits").await;
    let mut admin = Browser::default();
    demo.post(&mut admin, "/login", &[("name", "Ann"), ("role", "admin")])
        .await;
    let Principal::Operator(before) = demo.principal(&admin).await else {
        panic!("an admin is an operator")
    };
    let link = join_link(&join_claims(before.id.as_str(), Some("Ann"), &sid, "jti-a"));
    let r = demo.join(&mut admin, &link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let Principal::Operator(after) = demo.principal(&admin).await else {
        panic!("still an operator")
    };
    assert_eq!(
        (after.id, after.privileges),
        (before.id, vec!["admin".to_owned()])
    );
    let (_, page) = demo.get(&mut admin, "/interview").await;
    assert!(
        page.contains(r#"value="Ada""#) && page.contains("(admin)."),
        "{page}"
    );
}

/// Follows `link` with a browser that has a user's cookie and with one that has none:
/// both get 403 and `heading`, and neither cookie changes.
async fn assert_join_refused(demo: &Demo, link: &str, heading: &str) {
    let mut signed_in = Browser::default();
    demo.get(&mut signed_in, "/interview").await;
    let before = demo.user(&signed_in).await;
    let cookie = signed_in.cookie.clone();
    for b in [&mut signed_in, &mut Browser::default()] {
        let r = demo.join(b, link).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{link}");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "{link} set a cookie"
        );
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html")
        );
        let page = r.text().await.expect("body");
        assert!(page.contains(heading), "{link}: {page}");
        assert!(page.contains("choose Join again"), "{page}");
        if let Some(token) = link.split("token=").nth(1).filter(|t| !t.is_empty()) {
            assert!(!page.contains(token), "the page repeats the token");
        }
    }
    assert_eq!(signed_in.cookie, cookie);
    let after = demo.user(&signed_in).await;
    assert_eq!((after.id, after.session), (before.id, before.session));
}

#[actix_web::test]
async fn forged_expired_misaddressed_and_reused_join_links_are_refused() {
    let demo = start_demo(&dead_url());
    let (_, sid) = user_with_answers(&demo, "Ada", "Housing").await;

    // Signed with another secret.
    let forged = join_link_signed(
        &join_claims("op-1", None, &sid, "jti-forged"),
        "another-secret-another-secret-0123",
    );
    assert_join_refused(&demo, &forged, JOIN_INVALID).await;

    // Expired.
    let mut old = join_claims("op-1", None, &sid, "jti-old");
    (old.iat, old.exp) = (old.iat - 120, old.iat - 60);
    assert_join_refused(&demo, &join_link(&old), JOIN_EXPIRED).await;

    // Another audience: a login-style audience, and a livehelp login token.
    let mut other = join_claims("op-1", None, &sid, "jti-aud");
    other.aud = "livehelp".into();
    assert_join_refused(&demo, &join_link(&other), JOIN_INVALID).await;
    let signer = livehelp_identity::TokenSigner::new(
        &SecretString::from(JWT_SECRET.to_owned()),
        Duration::from_secs(60),
    );
    let login = signer.sign(&signer.staff_claims("op-1", None, &["advocate"]));
    assert_join_refused(
        &demo,
        &format!("/livehelp/join?token={login}"),
        JOIN_INVALID,
    )
    .await;

    // No token, garbage, a session this host never makes, a link living far too long.
    for link in [
        "/livehelp/join",
        "/livehelp/join?token=",
        "/livehelp/join?token=a.b.c",
    ] {
        assert_join_refused(&demo, link, JOIN_INVALID).await;
    }
    let odd = join_claims("op-1", None, "s-<script>", "jti-odd");
    assert_join_refused(&demo, &join_link(&odd), JOIN_INVALID).await;
    let mut long = join_claims("op-1", None, &sid, "jti-long");
    long.exp = long.iat + 24 * 60 * 60;
    assert_join_refused(&demo, &join_link(&long), JOIN_INVALID).await;

    // Used once, then refused, whoever follows it again.
    let link = join_link(&join_claims("op-1", Some("Olivia"), &sid, "jti-once"));
    let mut first = Browser::default();
    let r = demo.join(&mut first, &link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_join_refused(&demo, &link, JOIN_USED).await;
    let r = demo.join(&mut first, &link).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("set-cookie").is_none());
    // The browser that used it is still the operator in that session.
    let (_, page) = demo.get(&mut first, "/interview").await;
    assert!(
        page.contains(r#"value="Ada""#) && page.contains("You joined this interview as Olivia")
    );

    // A new link (another jti) for the same operator and session works.
    let again = join_link(&join_claims("op-1", Some("Olivia"), &sid, "jti-twice"));
    assert_eq!(
        demo.join(&mut Browser::default(), &again).await.status(),
        StatusCode::SEE_OTHER
    );
}
