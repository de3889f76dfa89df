//! The host application's API (SPEC §4): set and read a session's live-help status, count
//! the chat partners available, read the chat log. Callers: the host's server (API key, or
//! an operator token), and a user for their own session only.

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_bus::conversation_for;
use livehelp_identity::Principal;
use livehelp_protocol::{
    ChatMessage, ConversationId, LiveHelpStatus, PartnerRole, Profile, SenderKind, SessionId,
    StatusPatch,
};
use livehelp_web::{ApiError, Context};
use serde::Serialize;

use crate::state::{has_help, has_peers};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/chat/api/sessions/{session}/status",
        web::put().to(set_status),
    )
    .route(
        "/chat/api/sessions/{session}/status",
        web::get().to(get_status),
    )
    .route(
        "/chat/api/sessions/{session}/partners",
        web::get().to(partners),
    )
    .route("/chat/api/sessions/{session}/log", web::get().to(chat_log))
    .route(
        "/chat/api/sessions/{session}/audit",
        web::get().to(audit_trail),
    );
}

/// Who called, as far as a session's data goes.
enum Caller {
    /// The host's server, or an operator: any session.
    Host,
    /// A user: their own session only.
    User(livehelp_identity::User),
}

fn caller(ctx: &Context, req: &HttpRequest, session: &SessionId) -> Result<Caller, ApiError> {
    if ctx.auth.is_host(req) {
        return Ok(Caller::Host);
    }
    match ctx.auth.principal(req) {
        Ok(Principal::Operator(_)) => Ok(Caller::Host),
        Ok(Principal::User(u)) if u.session == *session => Ok(Caller::User(u)),
        Ok(_) => {
            metrics::counter!("livehelp_auth_failures", "reason" => "forbidden").increment(1);
            Err(ApiError::forbidden(
                "this identity may not read this session",
            ))
        }
        Err(_) => {
            metrics::counter!("livehelp_auth_failures", "reason" => "host_api_key").increment(1);
            Err(ApiError::unauthenticated(
                "the host API key or a token is missing or wrong",
            ))
        }
    }
}

fn host_only(ctx: &Context, req: &HttpRequest, session: &SessionId) -> Result<(), ApiError> {
    match caller(ctx, req, session)? {
        Caller::Host => Ok(()),
        Caller::User(_) => Err(ApiError::forbidden("only the host sets a session's status")),
    }
}

async fn set_status(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<LiveHelpStatus>, ApiError> {
    let session = ApiError::session_in_path(&path)?;
    host_only(&ctx, &req, &session)?;
    let de = &mut serde_json::Deserializer::from_slice(&body);
    let patch: StatusPatch = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::invalid(format!("{field}: {}", e.into_inner()))
    })?;
    let status = ctx.bus.update_status(&session, patch).await?;
    tracing::info!(session = %session, availability = ?status.availability, mode = ?status.mode, "status set");
    Ok(web::Json(status))
}

async fn get_status(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session = ApiError::session_in_path(&path)?;
    caller(&ctx, &req, &session)?;
    let record = ctx.bus.session_record(&session).await?;
    Ok(HttpResponse::Ok().json(record.status))
}

#[derive(Serialize)]
struct Partners {
    help: usize,
    peer: usize,
}

/// `?roles=a&roles=b`: the roles to count operators for (the session's own when none).
fn roles_of(query: &str) -> Result<Option<Vec<PartnerRole>>, ApiError> {
    let mut roles = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "roles" => roles.push(
                PartnerRole::parse(value.into_owned())
                    .map_err(|e| ApiError::invalid(format!("roles: {e}")))?,
            ),
            other => {
                return Err(ApiError::invalid(format!(
                    "{other}: unknown parameter (expected roles)"
                )));
            }
        }
    }
    roles.sort();
    roles.dedup();
    Ok((!roles.is_empty()).then_some(roles))
}

async fn partners(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session = ApiError::session_in_path(&path)?;
    let who = caller(&ctx, &req, &session)?;
    let roles = roles_of(req.query_string())?;
    let record = ctx.bus.session_record(&session).await?;
    let mode = record.status.mode;
    let help = if has_help(mode) && !record.blocked {
        let roles = roles.unwrap_or_else(|| record.status.partner_roles.clone());
        ctx.bus.count_qualifying(&roles).await?
    } else {
        0
    };
    let peer = if has_peers(mode) {
        let me = match &who {
            Caller::User(u) => Some(&u.id),
            Caller::Host => None,
        };
        record
            .users_online
            .iter()
            .filter(|u| Some(*u) != me)
            .count()
    } else {
        0
    };
    Ok(HttpResponse::Ok().json(Partners { help, peer }))
}

/// One line of the chat log, as the reference's `get_chat_log` gives it.
#[derive(Serialize)]
struct LogEntry {
    message: String,
    datetime: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

/// `?utc=true` (the default) or `?timezone=<IANA name>`.
fn zone_of(query: &str) -> Result<jiff::tz::TimeZone, ApiError> {
    let mut zone = jiff::tz::TimeZone::UTC;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "utc" if matches!(value.as_ref(), "true" | "1" | "false" | "0") => {}
            "utc" => return Err(ApiError::invalid("utc: expected true or false")),
            "timezone" => {
                zone = jiff::tz::TimeZone::get(&value).map_err(|_| {
                    ApiError::invalid(format!("timezone: unknown time zone {value:?}"))
                })?;
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "{other}: unknown parameter (expected utc or timezone)"
                )));
            }
        }
    }
    Ok(zone)
}

fn entry(message: ChatMessage, profile: Option<Profile>, zone: &jiff::tz::TimeZone) -> LogEntry {
    let datetime = message
        .at
        .parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned_datetime(zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
                .to_string()
        })
        .unwrap_or(message.at);
    let anonymous = message.from.kind == SenderKind::User
        && message.from.name.is_none()
        && profile.as_ref().is_none_or(|p| p.email.is_none());
    let (email, first_name, last_name) = if anonymous {
        (None, None, None)
    } else {
        let p = profile.unwrap_or_else(|| Profile {
            email: None,
            first_name: message.from.name.clone(),
            last_name: None,
        });
        let or_empty = |v: Option<String>| Some(v.unwrap_or_default());
        (
            or_empty(p.email),
            or_empty(p.first_name),
            or_empty(p.last_name),
        )
    };
    LogEntry {
        message: message.text,
        datetime,
        email,
        first_name,
        last_name,
    }
}

async fn chat_log(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session = ApiError::session_in_path(&path)?;
    let who = caller(&ctx, &req, &session)?;
    let zone = zone_of(req.query_string())?;
    let mut conversations = vec![ConversationId::group(session.clone())];
    match &who {
        Caller::User(u) => conversations.push(conversation_for(
            &session,
            &u.id,
            livehelp_protocol::Mode::Help,
        )),
        Caller::Host => conversations.extend(
            ctx.bus
                .chat_records(&session)
                .await?
                .into_values()
                .map(|r| r.conversation)
                .filter(|c| !c.is_group()),
        ),
    }
    conversations.sort();
    conversations.dedup();
    let mut messages = Vec::new();
    for c in &conversations {
        messages.extend(ctx.bus.all_messages(c).await?);
    }
    // Stream ids are times: merging conversations by id gives the session's order.
    messages.sort_by_key(|(m, _)| m.id);
    let log: Vec<LogEntry> = messages
        .into_iter()
        .map(|(m, p)| entry(m, p, &zone))
        .collect();
    Ok(HttpResponse::Ok().json(log))
}

/// Who observed, controlled, joined or blocked the session, and when: for the host only.
async fn audit_trail(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session = ApiError::session_in_path(&path)?;
    match caller(&ctx, &req, &session)? {
        Caller::Host => Ok(HttpResponse::Ok().json(ctx.bus.audit_trail(&session).await?)),
        Caller::User(_) => Err(ApiError::forbidden("only the host reads the audit trail")),
    }
}
