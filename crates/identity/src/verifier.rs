//! Verifying tokens: every WebSocket handshake and HTTP call goes through here.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use livehelp_protocol::{SessionId, UserId};
use secrecy::{ExposeSecret, SecretString};

use crate::{AUDIENCE, Claims, Operator, Principal, Staff, TokenKind, User, is_operator_privilege};

/// Why a token was refused. The message is safe to show the client: it never repeats the
/// token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token")]
    Missing,
    #[error("token expired")]
    Expired,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token is for another audience")]
    WrongAudience,
    #[error("token is malformed: {0}")]
    Malformed(String),
}

pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

/// Longest display name kept from a token, in characters.
const MAX_NAME_CHARS: usize = 200;

fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| {
        s.chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect::<String>()
    })
    .filter(|s| !s.trim().is_empty())
}

impl TokenVerifier {
    pub fn new(secret: &SecretString, leeway_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = leeway_seconds;
        Self {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
        }
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                _ => AuthError::Malformed(e.to_string()),
            },
        )?;
        principal(data.claims)
    }
}

fn principal(c: Claims) -> Result<Principal, AuthError> {
    let bad =
        |what: &str, e: livehelp_protocol::IdError| AuthError::Malformed(format!("{what}: {e}"));
    let id = UserId::parse(c.sub).map_err(|e| bad("sub", e))?;
    let name = clean(c.name);
    Ok(match c.kind {
        TokenKind::User => {
            let sid = c
                .sid
                .ok_or_else(|| AuthError::Malformed("sid: missing".into()))?;
            Principal::User(User {
                id,
                session: SessionId::parse(sid).map_err(|e| bad("sid", e))?,
                name,
                email: clean(c.email),
                first_name: clean(c.first_name),
                last_name: clean(c.last_name),
            })
        }
        TokenKind::Staff if c.privileges.iter().any(|p| is_operator_privilege(p)) => {
            Principal::Operator(Operator {
                id,
                name,
                privileges: c.privileges,
            })
        }
        TokenKind::Staff => Principal::Staff(Staff { id, name }),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::TokenSigner;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_signed_user_token_verifies_to_that_user() {
        let s = secret("0123456789abcdef0123456789abcdef");
        let signer = TokenSigner::new(&s, Duration::from_secs(60));
        let token = signer.sign(&signer.user_claims("u1", "s1", Some("Ada")));
        let Principal::User(u) = TokenVerifier::new(&s, 0).verify(&token).expect("valid") else {
            panic!("not a user")
        };
        assert_eq!((u.id.as_str(), u.session.as_str()), ("u1", "s1"));
        assert_eq!(u.name.as_deref(), Some("Ada"));
    }

    #[test]
    fn privileges_decide_who_is_an_operator() {
        let s = secret("0123456789abcdef0123456789abcdef");
        let signer = TokenSigner::new(&s, Duration::from_secs(60));
        let v = TokenVerifier::new(&s, 0);
        let op = signer.sign(&signer.staff_claims("o1", None, &["advocate"]));
        let clerk = signer.sign(&signer.staff_claims("c1", None, &["developer"]));
        assert!(matches!(v.verify(&op), Ok(Principal::Operator(_))));
        assert!(matches!(v.verify(&clerk), Ok(Principal::Staff(_))));
    }

    #[test]
    fn forged_expired_and_foreign_tokens_are_refused() {
        let s = secret("0123456789abcdef0123456789abcdef");
        let signer = TokenSigner::new(&s, Duration::from_secs(60));
        let v = TokenVerifier::new(&s, 0);

        let other = TokenSigner::new(
            &secret("another-secret-another-secret-xx"),
            Duration::from_secs(60),
        );
        let forged = other.sign(&other.user_claims("u1", "s1", None));
        assert_eq!(v.verify(&forged), Err(AuthError::BadSignature));

        let mut expired = signer.user_claims("u1", "s1", None);
        expired.exp = expired.iat - 120;
        assert_eq!(v.verify(&signer.sign(&expired)), Err(AuthError::Expired));

        let mut foreign = signer.user_claims("u1", "s1", None);
        foreign.aud = "someone-else".into();
        assert_eq!(
            v.verify(&signer.sign(&foreign)),
            Err(AuthError::WrongAudience)
        );

        let mut no_session = signer.user_claims("u1", "s1", None);
        no_session.sid = None;
        assert!(matches!(
            v.verify(&signer.sign(&no_session)),
            Err(AuthError::Malformed(_))
        ));

        assert!(matches!(
            v.verify("not.a.token"),
            Err(AuthError::Malformed(_))
        ));
    }
}
