//! Join links: a short-lived, single-use token that lets an operator open the host's
//! interview for a session as a co-participant. session-monitor signs it; the host verifies
//! it (signature, audience, expiry) and remembers its `jti` so it works once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::AuthError;

/// The audience of join tokens: a login token is never a join token, nor the reverse.
pub const JOIN_AUDIENCE: &str = "livehelp-join";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinClaims {
    /// The operator.
    pub sub: String,
    pub name: Option<String>,
    /// The session to join.
    pub sid: String,
    /// Unique per link, for single use.
    pub jti: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

impl JoinClaims {
    pub fn new(
        operator: &str,
        name: Option<&str>,
        session: &str,
        jti: String,
        ttl: Duration,
    ) -> Self {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self {
            sub: operator.to_owned(),
            name: name.map(str::to_owned),
            sid: session.to_owned(),
            jti,
            aud: JOIN_AUDIENCE.to_owned(),
            iat,
            exp: iat + ttl.as_secs(),
        }
    }

    pub fn sign(&self, secret: &SecretString) -> String {
        // HS256 over plain strings and numbers cannot fail.
        jsonwebtoken::encode(
            &Header::default(),
            self,
            &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
        )
        .expect("HS256 signing of plain claims cannot fail")
    }

    /// Checks signature, audience and expiry (no leeway: links live seconds). Single use is
    /// the verifier's to enforce with `jti`.
    pub fn verify(token: &str, secret: &SecretString) -> Result<Self, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[JOIN_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 0;
        let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
        jsonwebtoken::decode::<Self>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                _ => AuthError::Malformed(e.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenSigner;

    fn secret() -> SecretString {
        SecretString::from("0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_join_link_verifies_once_signed_and_not_as_anything_else() {
        let claims = JoinClaims::new(
            "o1",
            Some("Olivia"),
            "s1",
            "j1".into(),
            Duration::from_secs(60),
        );
        let token = claims.sign(&secret());
        assert_eq!(JoinClaims::verify(&token, &secret()), Ok(claims));

        let forged = JoinClaims::new("o1", None, "s1", "j2".into(), Duration::from_secs(60))
            .sign(&SecretString::from("another-secret-another-secret-xx"));
        assert_eq!(
            JoinClaims::verify(&forged, &secret()),
            Err(AuthError::BadSignature)
        );

        let mut old = JoinClaims::new("o1", None, "s1", "j3".into(), Duration::from_secs(60));
        old.exp = old.iat - 1;
        assert_eq!(
            JoinClaims::verify(&old.sign(&secret()), &secret()),
            Err(AuthError::Expired)
        );

        let signer = TokenSigner::new(&secret(), Duration::from_secs(60));
        let login = signer.sign(&signer.staff_claims("o1", None, &["advocate"]));
        assert!(
            JoinClaims::verify(&login, &secret()).is_err(),
            "a login token is no join link"
        );

        let mut other = JoinClaims::new("o1", None, "s1", "j4".into(), Duration::from_secs(60));
        other.aud = "livehelp".into();
        assert_eq!(
            JoinClaims::verify(&other.sign(&secret()), &secret()),
            Err(AuthError::WrongAudience)
        );
    }
}
