//! The operator's "Forward calls" toggle for a session (SPEC §8):
//! `POST /voice/api/sessions/{session}/forward` creates (or replaces) the operator's access
//! code for the session and answers it; `DELETE` cancels it. The session's user sees the
//! offer in their chat state at once. Audit lines name operator and session only: never the
//! code or a phone number.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_identity::{Operator, Principal};
use livehelp_protocol::{Availability, ErrorCode, PhoneNumber};
use livehelp_web::{ApiError, Context};
use serde::Serialize;

#[derive(Serialize)]
struct Issued {
    code: String,
    expires_in: u64,
}

fn operator(ctx: &Context, req: &HttpRequest) -> Result<Operator, ApiError> {
    match ctx.auth.principal(req)? {
        Principal::Operator(o) => Ok(o),
        _ => {
            metrics::counter!("livehelp_auth_failures", "reason" => "forbidden").increment(1);
            Err(ApiError::forbidden("only operators forward calls"))
        }
    }
}

/// Turns forwarding on: answers `{"code", "expires_in"}` (seconds).
pub async fn start(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::ensure_enabled(&ctx)?;
    let operator = operator(&ctx, &req)?;
    let session = ApiError::session_in_path(&path)?;
    if ctx.bus.operator_phone(&operator.id).await?.is_none() {
        return Err(ApiError::invalid(
            "phone: set the number calls are forwarded to (operator.phone) first",
        ));
    }
    let record = ctx.bus.session_record(&session).await?;
    if record.status.availability == Availability::Unavailable {
        return Err(ApiError::forbidden("live help is off for this session"));
    }
    let voice = &ctx.settings.voice;
    let number = PhoneNumber::parse(&voice.number)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "voice.number is not E.164"))?;
    let ttl = Duration::from_secs(voice.code_minutes * 60);
    let Some(issued) = ctx
        .bus
        .issue_voice_code(&operator.id, &session, &number, ttl)
        .await?
    else {
        tracing::warn!(session = %session, "no free access code");
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "no free access code right now, retry shortly",
        ));
    };
    ctx.bus.audit(&session, &operator.id, "forward_calls").await;
    metrics::counter!("livehelp_voice_codes_issued").increment(1);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Issued {
            code: issued.code,
            expires_in: ttl.as_secs(),
        }))
}

/// Turns forwarding off: the code stops working at once. 204 whether or not there was one.
pub async fn stop(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::ensure_enabled(&ctx)?;
    let operator = operator(&ctx, &req)?;
    let session = ApiError::session_in_path(&path)?;
    if ctx.bus.cancel_voice_code(&operator.id, &session).await? {
        metrics::counter!("livehelp_voice_codes_cancelled").increment(1);
    }
    ctx.bus
        .audit(&session, &operator.id, "forward_calls_stopped")
        .await;
    Ok(HttpResponse::NoContent().finish())
}
