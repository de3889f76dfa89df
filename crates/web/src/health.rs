//! `/healthz`, `/readyz` and `/metrics`, on every service's own port.

use actix_web::{HttpResponse, web};
use livehelp_protocol::ErrorCode;

use crate::{ApiError, Context};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_text));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "alive"}))
}

async fn readyz(ctx: web::Data<Context>) -> Result<HttpResponse, ApiError> {
    if ctx.shutdown.is_draining() {
        return Err(ApiError::new(ErrorCode::Unavailable, "draining"));
    }
    ctx.bus
        .ready()
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, e.to_string()))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

async fn metrics_text(ctx: web::Data<Context>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(ctx.metrics.render())
}
