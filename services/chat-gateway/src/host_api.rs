//! The host application's API: set and read a session's live-help status (SPEC §4).

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_protocol::{LiveHelpStatus, SessionId, StatusPatch};
use livehelp_web::{ApiError, Context};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/chat/api/sessions/{session}/status",
        web::put().to(set_status),
    )
    .route(
        "/chat/api/sessions/{session}/status",
        web::get().to(get_status),
    );
}

fn require_host(ctx: &Context, req: &HttpRequest) -> Result<(), ApiError> {
    if ctx.auth.is_host(req) {
        Ok(())
    } else {
        metrics::counter!("livehelp_auth_failures", "reason" => "host_api_key").increment(1);
        Err(ApiError::unauthenticated(
            "the host API key is missing or wrong",
        ))
    }
}

fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).map_err(|e| ApiError::invalid(format!("session: {e}")))
}

async fn set_status(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<LiveHelpStatus>, ApiError> {
    require_host(&ctx, &req)?;
    let session = session_id(&path)?;
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
    require_host(&ctx, &req)?;
    let session = session_id(&path)?;
    let record = ctx.bus.session_record(&session).await?;
    Ok(HttpResponse::Ok().json(record.status))
}
