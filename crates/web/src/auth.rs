//! Who is calling: a host-signed token (browsers, in a header or a WebSocket subprotocol) or
//! the host's API key (the host's server).

use actix_web::HttpRequest;
use actix_web::http::header;
use livehelp_identity::{Principal, TokenVerifier};
use livehelp_protocol::BEARER_SUBPROTOCOL_PREFIX;
use secrecy::{ExposeSecret, SecretString};

use crate::ApiError;

/// The bearer token of a request: `Authorization: Bearer ...`, or for a WebSocket handshake
/// from a browser, an offered subprotocol `bearer.<token>`.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    from_header.or_else(|| {
        req.headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .find_map(|p| p.strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
    })
}

pub struct Authenticator {
    verifier: TokenVerifier,
    host_api_key: SecretString,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

/// Compares in time independent of where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Authenticator {
    pub fn new(jwt_secret: &SecretString, host_api_key: SecretString, leeway_seconds: u64) -> Self {
        Self {
            verifier: TokenVerifier::new(jwt_secret, leeway_seconds),
            host_api_key,
        }
    }

    /// The verified identity behind a request's token.
    pub fn principal(&self, req: &HttpRequest) -> Result<Principal, ApiError> {
        let token = bearer_token(req).ok_or_else(|| {
            metrics::counter!("livehelp_auth_failures", "reason" => "missing").increment(1);
            ApiError::unauthenticated("no token")
        })?;
        self.verifier.verify(token).map_err(|e| {
            metrics::counter!("livehelp_auth_failures", "reason" => "invalid").increment(1);
            ApiError::unauthenticated(e.to_string())
        })
    }

    /// Whether the request carries the host application's API key.
    pub fn is_host(&self, req: &HttpRequest) -> bool {
        bearer_token(req).is_some_and(|t| {
            constant_time_eq(t.as_bytes(), self.host_api_key.expose_secret().as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_token_comes_from_the_header_or_the_subprotocol() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Bearer abc"))
            .to_http_request();
        assert_eq!(bearer_token(&req), Some("abc"));
        let req = TestRequest::default()
            .insert_header((header::SEC_WEBSOCKET_PROTOCOL, "livehelp.v1, bearer.x.y.z"))
            .to_http_request();
        assert_eq!(bearer_token(&req), Some("x.y.z"));
        assert_eq!(
            bearer_token(&TestRequest::default().to_http_request()),
            None
        );
    }

    #[test]
    fn api_keys_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
