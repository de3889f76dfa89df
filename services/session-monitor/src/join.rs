//! Join links (SPEC §6): an operator asks for a link to open the host's interview for a
//! session as themselves; the link carries a short-lived, single-use signed token that the
//! host verifies. Every join is written to the session's audit trail.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_identity::{JoinClaims, Principal};
use livehelp_protocol::Availability;
use livehelp_web::{ApiError, Context};
use serde::Serialize;

#[derive(Serialize)]
struct JoinLink {
    url: String,
    expires_in: u64,
}

pub async fn join_link(
    ctx: web::Data<Context>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Principal::Operator(operator) = ctx.auth.principal(&req)? else {
        metrics::counter!("livehelp_auth_failures", "reason" => "forbidden").increment(1);
        return Err(ApiError::forbidden("only operators join sessions"));
    };
    let session = ApiError::session_in_path(&path)?;
    let record = ctx.bus.session_record(&session).await?;
    if record.status.availability == Availability::Unavailable {
        return Err(ApiError::forbidden("live help is off for this session"));
    }
    let monitor = &ctx.settings.monitor;
    let ttl = Duration::from_secs(monitor.join_link_seconds);
    let jti = uuid::Uuid::new_v4().to_string();
    let token = JoinClaims::new(
        operator.id.as_str(),
        operator.name.as_deref(),
        session.as_str(),
        jti,
        ttl,
    )
    .sign(&ctx.settings.auth.jwt_secret);
    let separator = if monitor.join_url.contains('?') {
        '&'
    } else {
        '?'
    };
    ctx.bus.audit(&session, &operator.id, "join").await;
    metrics::counter!("livehelp_joins").increment(1);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(JoinLink {
            url: format!("{}{separator}token={token}", monitor.join_url),
            expires_in: ttl.as_secs(),
        }))
}
