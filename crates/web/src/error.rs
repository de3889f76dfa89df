//! One JSON error shape for every HTTP answer, with the stable codes of
//! `livehelp_protocol::ErrorCode`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use livehelp_protocol::{ErrorCode, ErrorFrame};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// Redis failed: the client should retry. The cause goes to the log, not the client.
    pub fn unavailable(cause: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %cause, "redis unavailable");
        Self::new(
            ErrorCode::Unavailable,
            "storage is unavailable, retry shortly",
        )
    }

    /// The session id of a request's path, or a 400 naming `session`.
    pub fn session_in_path(raw: &str) -> Result<livehelp_protocol::SessionId, Self> {
        livehelp_protocol::SessionId::parse(raw).map_err(|e| Self::invalid(format!("session: {e}")))
    }

    pub fn frame(&self) -> ErrorFrame {
        ErrorFrame {
            code: self.code,
            message: self.message.clone(),
            reference: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl From<livehelp_bus::BusError> for ApiError {
    fn from(e: livehelp_bus::BusError) -> Self {
        Self::unavailable(&e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        metrics::counter!("livehelp_http_errors", "code" => error_label(self.code)).increment(1);
        HttpResponse::build(self.status_code())
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({ "error": self.frame() }))
    }
}

/// The metric label of an error code.
pub fn error_label(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthenticated => "unauthenticated",
        ErrorCode::Forbidden => "forbidden",
        ErrorCode::NotFound => "not_found",
        ErrorCode::Invalid => "invalid",
        ErrorCode::BadFrame => "bad_frame",
        ErrorCode::TooLarge => "too_large",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::Unavailable => "unavailable",
        ErrorCode::Internal => "internal",
    }
}
