//! The demo host: what a real host application does to embed livehelp, kept small.
//!
//! - a three-step interview whose pages embed the livehelp widget;
//! - a dev login (no password) for users and staff;
//! - `GET /livehelp/token`, which signs a short-lived livehelp token for the browser;
//! - the host-API call that makes an interview session available for live help;
//! - `GET /interview/join/{session}`, the invite link that lets another person join a
//!   multi-user interview session under their own identity;
//! - `GET /livehelp/join?token=…`, the join link session-monitor gives an operator (SPEC §6
//!   "Join"): verified, single use, it opens the user's interview as the operator, a
//!   co-participant of the session.
//!
//! Who the browser is lives in a signed cookie (`demo_session`). The interview's answers live
//! on the server, per interview session, because everyone in a session (its user, invited
//! people, a joined operator) reads and writes the same answers; a page shows them as they
//! are when it loads. They, and the join links already used, are kept in memory
//! ([`store`]): the demo host is one process, where a real host would use its database and a
//! store its instances share.

mod host_api;
pub mod html;
pub mod session;
mod settings;
pub mod store;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use anyhow::Context;
use livehelp_identity::{AuthError, JoinClaims, TokenSigner};
use secrecy::SecretString;
use serde::Deserialize;

pub use host_api::{PARTNER_ROLE, TITLE};
pub use session::{COOKIE_NAME, Mode, Role, Visitor};
pub use settings::DemoSettings;

use host_api::HostApi;
use html::JoinRefusal;
use session::CookieKeys;
use store::{Answers, ClaimError, Interviews, UsedJoinLinks};

/// How long a livehelp token signed by `/livehelp/token` stays valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(10 * 60);

/// Longest name accepted, in characters.
const MAX_NAME_CHARS: usize = 100;
/// Longest answer to step 3, in characters.
const MAX_NOTES_CHARS: usize = 2000;
/// Largest form body accepted.
const FORM_LIMIT_BYTES: usize = 16 * 1024;

/// The running demo host.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// What each worker's handlers share. The stores are one for the whole process.
struct State {
    cookies: CookieKeys,
    signer: TokenSigner,
    api: HostApi,
    /// Verifies join links (the secret session-monitor signs them with).
    jwt_secret: SecretString,
    interviews: Arc<Interviews>,
    join_links: Arc<UsedJoinLinks>,
}

impl Application {
    /// Checks the settings, binds the listener (port 0 picks a free port) and prepares the
    /// server; [`Application::run_until_stopped`] serves.
    pub fn build(settings: DemoSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        // Fail now, not in a worker, if no client can be made.
        host_api::http_client().context("creating the HTTP client for chat-gateway")?;

        let listener =
            TcpListener::bind((settings.host.as_str(), settings.port)).with_context(|| {
                format!(
                    "binding the demo host to {}:{}",
                    settings.host, settings.port
                )
            })?;
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();

        let interviews = Arc::new(Interviews::default());
        let join_links = Arc::new(UsedJoinLinks::default());
        let server = actix_web::HttpServer::new(move || {
            // One HTTP client per worker: each worker runs its own runtime.
            let client = host_api::http_client().unwrap_or_else(|e| {
                tracing::error!(error = %e, "could not configure the HTTP client; using defaults");
                reqwest::Client::new()
            });
            let state = State {
                cookies: CookieKeys::new(&settings.jwt_secret),
                signer: TokenSigner::new(&settings.jwt_secret, TOKEN_TTL),
                api: HostApi::new(
                    client,
                    &settings.chat_api_url,
                    settings.host_api_key.clone(),
                ),
                jwt_secret: settings.jwt_secret.clone(),
                interviews: interviews.clone(),
                join_links: join_links.clone(),
            };
            actix_web::App::new()
                .app_data(web::Data::new(state))
                .app_data(
                    web::FormConfig::default()
                        .limit(FORM_LIMIT_BYTES)
                        .error_handler(|err, _req| {
                            let response = html_response(StatusCode::BAD_REQUEST)
                                .body(html::bad_request("That form could not be read."));
                            actix_web::error::InternalError::from_response(err, response).into()
                        }),
                )
                .app_data(web::QueryConfig::default().error_handler(|err, _req| {
                    let response = html_response(StatusCode::BAD_REQUEST)
                        .body(html::bad_request("That address could not be read."));
                    actix_web::error::InternalError::from_response(err, response).into()
                }))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::REFERRER_POLICY, "same-origin")),
                )
                .route("/healthz", web::get().to(healthz))
                .route("/", web::get().to(landing))
                .service(web::resource("/login").get(login_page).post(login))
                .route("/logout", web::post().to(logout))
                .service(
                    web::resource("/interview")
                        .get(interview_page)
                        .post(interview_answer),
                )
                .route("/interview/join/{session}", web::get().to(join))
                .route("/livehelp/token", web::get().to(token))
                .route("/livehelp/join", web::get().to(operator_join))
                .default_service(web::to(not_found))
        })
        .workers(2)
        .listen(listener)
        .context("starting the demo host's HTTP server")?
        .run();

        Ok(Self { port, server })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (SIGINT or SIGTERM stop it gracefully).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn html_response(status: StatusCode) -> HttpResponseBuilder {
    let mut r = HttpResponse::build(status);
    r.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    r
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

async fn not_found() -> HttpResponse {
    html_response(StatusCode::NOT_FOUND).body(html::not_found())
}

async fn landing(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let visitor = state.cookies.visitor(&req);
    html_response(StatusCode::OK).body(html::landing(visitor.as_ref()))
}

async fn login_page() -> HttpResponse {
    html_response(StatusCode::OK).body(html::login("", None, None, None))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

async fn login(state: web::Data<State>, form: web::Form<LoginForm>) -> HttpResponse {
    let form = form.into_inner();
    let role = Role::parse(form.role.trim());
    let name = match clean_name(&form.name) {
        Ok(n) => Some(n),
        Err(e) => {
            let page = html::login(&form.name, role, Some(e), None);
            return html_response(StatusCode::UNPROCESSABLE_ENTITY).body(page);
        }
    };
    let Some(role) = role else {
        let page = html::login(
            &form.name,
            None,
            None,
            Some("Choose a role: user, advocate, admin or developer."),
        );
        return html_response(StatusCode::UNPROCESSABLE_ENTITY).body(page);
    };
    let visitor = Visitor::signed_in(name, role);
    tracing::info!(uid = %visitor.uid, role = role.as_str(), sid = %visitor.sid, "dev sign-in");
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, role.home()))
        .insert_header((header::SET_COOKIE, state.cookies.set_cookie(&visitor)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

async fn logout(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    if let Some(v) = state.cookies.visitor(&req) {
        tracing::info!(uid = %v.uid, "sign-out");
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header((header::SET_COOKIE, session::clear_cookie()))
        .finish()
}

/// A name as typed: control characters dropped, trimmed, required, at most 100 characters.
fn clean_name(raw: &str) -> Result<String, &'static str> {
    let name: String = raw.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    if name.is_empty() {
        return Err("Please enter your name.");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("Please keep your name to 100 characters or fewer.");
    }
    Ok(name.to_owned())
}

/// Free text: control characters other than line breaks dropped, CRLF made LF, trimmed.
fn clean_notes(raw: &str) -> Result<String, &'static str> {
    let notes: String = raw
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let notes = notes.trim();
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err("Please keep this to 2000 characters or fewer.");
    }
    Ok(notes.to_owned())
}

/// Tells chat-gateway about the session when it has not yet accepted the mode its answers
/// call for (whoever in the session changed them). A failure is logged and retried on the
/// next page; the page renders anyway (the widget then shows chat as unavailable).
async fn announce(state: &State, sid: &str) {
    let interview = state.interviews.get(sid);
    let mode = interview.answers.wanted_mode();
    if interview.announced == Some(mode) {
        return;
    }
    match state.api.make_available(sid, mode).await {
        Ok(()) => {
            tracing::info!(%sid, mode = mode.as_str(), "live help enabled for the session");
            state.interviews.update(sid, |i| i.announced = Some(mode));
        }
        Err(error) => {
            tracing::warn!(%sid, mode = mode.as_str(), %error, "could not set the session's live-help status");
        }
    }
}

/// Renders an interview page with the session's answers as stored now, after making sure
/// chat-gateway knows the session, and stores the visitor in the cookie.
async fn interview_response(
    state: &State,
    visitor: Visitor,
    status: StatusCode,
    render: impl FnOnce(&Visitor, &Answers) -> String,
) -> HttpResponse {
    announce(state, &visitor.sid).await;
    let answers = state.interviews.get(&visitor.sid).answers;
    html_response(status)
        .insert_header((header::SET_COOKIE, state.cookies.set_cookie(&visitor)))
        .body(render(&visitor, &answers))
}

#[derive(Debug, Deserialize)]
struct StepQuery {
    step: Option<String>,
}

/// The step to show: the one asked for, if the steps before it have been answered.
fn reachable_step(answers: &Answers, asked: Option<&str>) -> u8 {
    let asked = asked.and_then(|s| s.trim().parse::<u8>().ok()).unwrap_or(1);
    match asked {
        3 if answers.name.is_some() && answers.topic.is_some() => 3,
        2 | 3 if answers.name.is_some() => 2,
        _ => 1,
    }
}

/// The page of `step` without errors, prefilled with the stored answers. Until someone
/// answers step 1, it offers the visitor's own name, except to an operator who joined (the
/// name asked for is the user's).
fn render_step(v: &Visitor, a: &Answers, step: u8) -> String {
    match step {
        3 => html::step_notes(v, a, a.notes.as_deref().unwrap_or(""), None),
        2 => html::step_topic(v, a, None),
        _ => {
            let own = if v.co_participant {
                None
            } else {
                v.name.as_deref()
            };
            let name = a.name.as_deref().or(own).unwrap_or("");
            html::step_name(v, a, name, a.multi, None)
        }
    }
}

async fn interview_page(
    req: HttpRequest,
    state: web::Data<State>,
    query: web::Query<StepQuery>,
) -> HttpResponse {
    let visitor = state
        .cookies
        .visitor(&req)
        .unwrap_or_else(Visitor::anonymous);
    let answers = state.interviews.get(&visitor.sid).answers;
    let step = reachable_step(&answers, query.step.as_deref());
    interview_response(&state, visitor, StatusCode::OK, |v, a| {
        render_step(v, a, step)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct InterviewForm {
    step: Option<String>,
    name: Option<String>,
    multi: Option<String>,
    topic: Option<String>,
    notes: Option<String>,
}

/// An answer to a step, stored for the whole session.
async fn interview_answer(
    req: HttpRequest,
    state: web::Data<State>,
    form: web::Form<InterviewForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let mut visitor = state
        .cookies
        .visitor(&req)
        .unwrap_or_else(Visitor::anonymous);
    let answers = state.interviews.get(&visitor.sid).answers;
    let posted = form.step.as_deref().map(str::trim).unwrap_or("1");
    let step = reachable_step(&answers, Some(posted));
    if posted != step.to_string() {
        // An answer to a step the session cannot be on yet (or an unknown step): show the
        // first step that still needs an answer.
        return interview_response(&state, visitor, StatusCode::OK, |v, a| {
            render_step(v, a, step)
        })
        .await;
    }
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    match step {
        1 => {
            let raw = form.name.unwrap_or_default();
            let multi = form.multi.is_some();
            match clean_name(&raw) {
                Ok(name) => {
                    // The name given becomes a user's display name; staff keep theirs.
                    if visitor.role == Role::User {
                        visitor.name = Some(name.clone());
                    }
                    state.interviews.update(&visitor.sid, |i| {
                        i.answers.name = Some(name);
                        i.answers.multi = multi;
                    });
                    interview_response(&state, visitor, StatusCode::OK, |v, a| {
                        html::step_topic(v, a, None)
                    })
                    .await
                }
                Err(e) => {
                    interview_response(&state, visitor, invalid, |v, a| {
                        html::step_name(v, a, &raw, multi, Some(e))
                    })
                    .await
                }
            }
        }
        2 => {
            let topic = form.topic.unwrap_or_default();
            match html::TOPICS.into_iter().find(|t| *t == topic.trim()) {
                Some(t) => {
                    state
                        .interviews
                        .update(&visitor.sid, |i| i.answers.topic = Some(t.to_owned()));
                    interview_response(&state, visitor, StatusCode::OK, |v, a| {
                        html::step_notes(v, a, a.notes.as_deref().unwrap_or(""), None)
                    })
                    .await
                }
                None => {
                    let e = "Please choose what you need help with.";
                    interview_response(&state, visitor, invalid, |v, a| {
                        html::step_topic(v, a, Some(e))
                    })
                    .await
                }
            }
        }
        _ => {
            let raw = form.notes.unwrap_or_default();
            match clean_notes(&raw) {
                Ok(notes) => {
                    state
                        .interviews
                        .update(&visitor.sid, |i| i.answers.notes = Some(notes));
                    interview_response(&state, visitor, StatusCode::OK, html::summary).await
                }
                Err(e) => {
                    interview_response(&state, visitor, invalid, |v, a| {
                        html::step_notes(v, a, &raw, Some(e))
                    })
                    .await
                }
            }
        }
    }
}

/// An invite link: makes the browser a new user of the multi-user interview session named
/// in the path and sends it to step 1, where that person sees the session's answers and
/// may change them. A browser that already is a user of that session keeps its identity;
/// anyone else (another session's user, staff, no cookie) gets a fresh user id in that
/// session, which from then on is a multi-user one. Malformed session ids are a 404.
async fn join(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let sid = req.match_info().query("session");
    if !session::is_session_id(sid) {
        return not_found().await;
    }
    let mut response = HttpResponse::SeeOther();
    response
        .insert_header((header::LOCATION, "/interview"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    match state.cookies.visitor(&req) {
        Some(v) if v.role == Role::User && v.sid == sid => {}
        previous => {
            let visitor = Visitor::joining(sid.to_owned());
            state.interviews.update(sid, |i| i.answers.multi = true);
            tracing::info!(
                uid = %visitor.uid,
                sid = %visitor.sid,
                previous_uid = previous.as_ref().map(|p| p.uid.as_str()),
                "joined a multi-user interview session"
            );
            response.insert_header((header::SET_COOKIE, state.cookies.set_cookie(&visitor)));
        }
    }
    response.finish()
}

#[derive(Debug, Deserialize)]
struct JoinQuery {
    token: Option<String>,
}

/// Longest operator id accepted from a join link, in bytes.
const MAX_OPERATOR_ID_BYTES: usize = 200;

/// A join link from session-monitor (SPEC §6 "Join", docs/api.md): checks the token's
/// signature, audience and expiry, then that its `jti` was not used before, and makes the
/// browser the operator (their own id and name, an operator role) taking part in the user's
/// interview session; then sends it to the interview. A refused link shows why with 403 and
/// leaves the cookie alone.
async fn operator_join(
    req: HttpRequest,
    state: web::Data<State>,
    query: web::Query<JoinQuery>,
) -> HttpResponse {
    let token = query.token.as_deref().unwrap_or_default();
    let claims = match JoinClaims::verify(token, &state.jwt_secret) {
        Ok(claims) => claims,
        Err(AuthError::Expired) => return refuse_join(JoinRefusal::Expired, "expired"),
        Err(e) => return refuse_join(JoinRefusal::Invalid, &e.to_string()),
    };
    if !session::is_session_id(&claims.sid) {
        return refuse_join(JoinRefusal::Invalid, "not a session of this host");
    }
    if claims.sub.is_empty()
        || claims.sub.len() > MAX_OPERATOR_ID_BYTES
        || claims.sub.chars().any(char::is_control)
        || claims.jti.is_empty()
    {
        return refuse_join(JoinRefusal::Invalid, "malformed operator or link id");
    }
    match state
        .join_links
        .claim(&claims.jti, claims.exp, session::now())
    {
        Ok(()) => {}
        Err(ClaimError::Used) => {
            tracing::warn!(operator = %claims.sub, sid = %claims.sid, jti = %claims.jti, "join link refused: already used");
            return refuse_join(JoinRefusal::Used, "already used");
        }
        Err(ClaimError::TooLong) => {
            return refuse_join(JoinRefusal::Invalid, "lives longer than any join link");
        }
    }
    // The links go to operators, whatever their privileges; an admin who is already signed
    // in here as that operator stays an admin (the monitor tab keeps its token).
    let role = match state.cookies.visitor(&req) {
        Some(v) if v.uid == claims.sub && matches!(v.role, Role::Advocate | Role::Admin) => v.role,
        _ => Role::Advocate,
    };
    let name = claims.name.as_deref().and_then(|n| clean_name(n).ok());
    let visitor = Visitor::operator_joining(claims.sub, name, role, claims.sid);
    tracing::info!(
        operator = %visitor.uid,
        role = role.as_str(),
        sid = %visitor.sid,
        jti = %claims.jti,
        "an operator joined the interview session"
    );
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/interview"))
        .insert_header((header::SET_COOKIE, state.cookies.set_cookie(&visitor)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A refused join link: 403 and a page saying why; the cookie stays as it was.
fn refuse_join(why: JoinRefusal, reason: &str) -> HttpResponse {
    tracing::info!(reason, "join link refused");
    html_response(StatusCode::FORBIDDEN).body(html::join_refused(why))
}

/// Splits a display name into first and last name for livehelp's chat log.
fn split_name(name: &str) -> (Option<String>, Option<String>) {
    let mut words = name.split_whitespace();
    let first = words.next().map(str::to_owned);
    let rest = words.collect::<Vec<_>>().join(" ");
    (first, Some(rest).filter(|r| !r.is_empty()))
}

async fn token(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some(visitor) = state.cookies.visitor(&req) else {
        return HttpResponse::Unauthorized()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({
                "error": {"code": "unauthenticated", "message": "sign in first"}
            }));
    };
    let claims = if visitor.role.is_staff() {
        state.signer.staff_claims(
            &visitor.uid,
            visitor.name.as_deref(),
            &[visitor.role.as_str()],
        )
    } else {
        let mut claims =
            state
                .signer
                .user_claims(&visitor.uid, &visitor.sid, visitor.name.as_deref());
        if let Some(name) = visitor.name.as_deref() {
            (claims.first_name, claims.last_name) = split_name(name);
        }
        claims
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "token": state.signer.sign(&claims),
            "expires_in": TOKEN_TTL.as_secs(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_bounded() {
        assert_eq!(
            clean_name("  Ada\u{0007} Lovelace "),
            Ok("Ada Lovelace".to_owned())
        );
        assert!(clean_name(" \t ").is_err());
        assert!(clean_name(&"x".repeat(101)).is_err());
        assert_eq!(clean_notes("a\r\nb\u{0}"), Ok("a\nb".to_owned()));
    }

    #[test]
    fn names_split_into_first_and_last() {
        assert_eq!(split_name("Ada"), (Some("Ada".into()), None));
        assert_eq!(
            split_name("Ada King Lovelace"),
            (Some("Ada".into()), Some("King Lovelace".into()))
        );
    }

    #[test]
    fn later_steps_need_earlier_answers() {
        let mut a = Answers::default();
        assert_eq!(reachable_step(&a, Some("3")), 1);
        a.name = Some("Ada".into());
        assert_eq!(reachable_step(&a, Some("3")), 2);
        a.topic = Some("Housing".into());
        assert_eq!(reachable_step(&a, Some("3")), 3);
        assert_eq!(reachable_step(&a, Some("nonsense")), 1);
    }
}
