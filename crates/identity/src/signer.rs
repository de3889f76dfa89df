//! Signing tokens: what a host application does. The demo host and tests use it; the
//! services only verify.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};

use crate::{AUDIENCE, Claims, TokenKind};

pub struct TokenSigner {
    key: EncodingKey,
    ttl: Duration,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenSigner {
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.expose_secret().as_bytes()),
            ttl,
        }
    }

    /// Claims for a user of `session`, valid for the signer's time to live.
    pub fn user_claims(&self, id: &str, session: &str, name: Option<&str>) -> Claims {
        self.claims(id, TokenKind::User, Some(session), name, Vec::new())
    }

    /// Claims for a staff member with `privileges` (operators have admin or advocate).
    pub fn staff_claims(&self, id: &str, name: Option<&str>, privileges: &[&str]) -> Claims {
        let privileges = privileges.iter().map(|p| (*p).to_owned()).collect();
        self.claims(id, TokenKind::Staff, None, name, privileges)
    }

    fn claims(
        &self,
        id: &str,
        kind: TokenKind,
        session: Option<&str>,
        name: Option<&str>,
        privileges: Vec<String>,
    ) -> Claims {
        let iat = now();
        Claims {
            sub: id.to_owned(),
            kind,
            sid: session.map(str::to_owned),
            name: name.map(str::to_owned),
            email: None,
            first_name: None,
            last_name: None,
            privileges,
            aud: AUDIENCE.to_owned(),
            iat,
            exp: iat + self.ttl.as_secs(),
        }
    }

    /// Signs any claims (HS256).
    pub fn sign(&self, claims: &Claims) -> String {
        // Encoding with an HMAC key only fails for unserialisable claims, and `Claims` is
        // plain strings and numbers.
        jsonwebtoken::encode(&Header::default(), claims, &self.key)
            .expect("HS256 signing of plain claims cannot fail")
    }
}
