//! The host's own session: who the browser is (dev login, anonymous, invited, or an
//! operator who joined from the monitor) and which interview session it takes part in, kept
//! in a signed cookie. The interview's answers are not in the cookie: everyone in a session
//! shares them, so they live on the server ([`crate::store`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::HttpRequest;
use actix_web::http::header;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Name of the host's session cookie.
pub const COOKIE_NAME: &str = "demo_session";
/// Audience of the cookie's JWT: never accepted by livehelp, which wants `livehelp`.
pub const COOKIE_AUDIENCE: &str = "demo-host";
/// How long a session cookie stays valid after its last refresh.
const COOKIE_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// What the dev login offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An end user of one interview session.
    User,
    /// Operator.
    Advocate,
    /// Operator.
    Admin,
    /// Staff without operator privileges (for tests of what non-operators may not do).
    Developer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::User, Role::Advocate, Role::Admin, Role::Developer];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Advocate => "advocate",
            Role::Admin => "admin",
            Role::Developer => "developer",
        }
    }

    pub fn is_staff(self) -> bool {
        self != Role::User
    }

    /// Where the dev login sends someone with this role.
    pub fn home(self) -> &'static str {
        match self {
            Role::User => "/interview",
            Role::Advocate | Role::Admin => "/monitor/",
            Role::Developer => "/",
        }
    }
}

/// The live-help mode the demo host asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Help,
    PeerHelp,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Help => "help",
            Mode::PeerHelp => "peerhelp",
        }
    }
}

/// The browser's identity and the interview session it takes part in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    /// User id (`u-` + 16 hex digits), or an operator's id.
    pub uid: String,
    /// Display name: from the login, or for users the name given in the interview.
    #[serde(default)]
    pub name: Option<String>,
    pub role: Role,
    /// The interview session id (`s-` + 16 hex digits).
    pub sid: String,
    /// An operator who joined the session from the monitor (a join link): they take part
    /// in the user's interview as themselves.
    #[serde(default)]
    pub co_participant: bool,
}

fn random_hex16() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A fresh random interview session id.
pub fn new_session_id() -> String {
    format!("s-{}", random_hex16())
}

/// Whether `s` has the shape of the session ids [`new_session_id`] makes: `s-` and 16
/// lowercase hex digits.
pub fn is_session_id(s: &str) -> bool {
    s.strip_prefix("s-").is_some_and(|hex| {
        hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

impl Visitor {
    /// An anonymous user with a fresh interview session.
    pub fn anonymous() -> Self {
        Self::signed_in(None, Role::User)
    }

    /// Someone who used the dev login: a new id and a fresh interview session.
    pub fn signed_in(name: Option<String>, role: Role) -> Self {
        Self {
            uid: format!("u-{}", random_hex16()),
            name,
            role,
            sid: new_session_id(),
            co_participant: false,
        }
    }

    /// Someone who followed an invite link: a new user id, no name yet, in the existing
    /// multi-user interview session `sid`.
    pub fn joining(sid: String) -> Self {
        Self {
            sid,
            ..Self::anonymous()
        }
    }

    /// An operator who followed a join link: their own id, name and operator role, taking
    /// part in the interview session `sid`.
    pub fn operator_joining(uid: String, name: Option<String>, role: Role, sid: String) -> Self {
        Self {
            uid,
            name,
            role,
            sid,
            co_participant: true,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CookieClaims {
    aud: String,
    iat: u64,
    exp: u64,
    #[serde(flatten)]
    visitor: Visitor,
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs and checks the session cookie (HS256 with the jwt secret, audience `demo-host`).
pub struct CookieKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieKeys").finish_non_exhaustive()
    }
}

impl CookieKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[COOKIE_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    /// The visitor named by the request's session cookie, if it is present and valid.
    /// A forged, expired or garbled cookie counts as no cookie.
    pub fn visitor(&self, req: &HttpRequest) -> Option<Visitor> {
        let value = cookie_value(req, COOKIE_NAME)?;
        match jsonwebtoken::decode::<CookieClaims>(value, &self.decoding, &self.validation) {
            Ok(data) => Some(data.claims.visitor),
            Err(e) => {
                tracing::debug!(error = %e, "ignoring an invalid session cookie");
                None
            }
        }
    }

    /// A `Set-Cookie` value holding `visitor`.
    pub fn set_cookie(&self, visitor: &Visitor) -> String {
        let iat = now();
        let claims = CookieClaims {
            aud: COOKIE_AUDIENCE.to_owned(),
            iat,
            exp: iat + COOKIE_TTL.as_secs(),
            visitor: visitor.clone(),
        };
        // HMAC signing of plain strings, numbers and booleans cannot fail.
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        format!("{COOKIE_NAME}={jwt}; Path=/; HttpOnly; SameSite=Lax")
    }
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The first value of cookie `name` among the request's `Cookie` headers.
fn cookie_value<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn keys(secret: &str) -> CookieKeys {
        CookieKeys::new(&SecretString::from(secret.to_owned()))
    }

    fn request_with(set_cookie: &str) -> HttpRequest {
        let pair = set_cookie.split(';').next().expect("a name=value pair");
        TestRequest::default()
            .insert_header((header::COOKIE, format!("other=1; {pair}")))
            .to_http_request()
    }

    #[test]
    fn a_cookie_round_trips_and_a_foreign_one_is_ignored() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let v = Visitor::operator_joining(
            "o-1".into(),
            Some("Ada".into()),
            Role::Advocate,
            new_session_id(),
        );
        let cookie = k.set_cookie(&v);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert_eq!(k.visitor(&request_with(&cookie)), Some(v.clone()));

        let other = keys("another-secret-another-secret-xx");
        assert_eq!(other.visitor(&request_with(&cookie)), None);
        assert_eq!(k.visitor(&request_with("demo_session=garbage")), None);
        assert_eq!(k.visitor(&TestRequest::default().to_http_request()), None);
    }

    #[test]
    fn ids_have_the_promised_shape() {
        let v = Visitor::anonymous();
        assert!(v.sid.starts_with("s-") && v.sid.len() == 18);
        assert!(v.uid.starts_with("u-") && v.uid.len() == 18);
        assert!(v.sid[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(Visitor::anonymous().sid, v.sid);
        assert!(is_session_id(&v.sid));
    }

    #[test]
    fn only_well_formed_session_ids_are_accepted() {
        assert!(is_session_id("s-0123456789abcdef"));
        for bad in [
            "",
            "s-",
            "s-0123456789abcde",
            "s-0123456789abcdef0",
            "s-0123456789ABCDEF",
            "s-0123456789abcdeg",
            "S-0123456789abcdef",
            "u-0123456789abcdef",
            "0123456789abcdef",
            "s-0123456789abcd\"<",
            "s-０123456789abcde",
        ] {
            assert!(!is_session_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_joining_visitor_is_a_new_user_of_the_given_session() {
        let owner = Visitor::anonymous();
        let joiner = Visitor::joining(owner.sid.clone());
        assert_eq!(joiner.sid, owner.sid);
        assert_ne!(joiner.uid, owner.uid);
        assert_eq!(joiner.role, Role::User);
        assert_eq!(joiner.name, None);
        assert!(!joiner.co_participant);
    }

    #[test]
    fn a_cookie_written_before_answers_moved_to_the_server_still_reads() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let claims = serde_json::json!({
            "aud": COOKIE_AUDIENCE, "iat": now(), "exp": now() + 60,
            "uid": "u-0123456789abcdef", "name": "Ada", "role": "user",
            "sid": "s-0123456789abcdef", "answer_name": "Ada", "multi": true,
            "topic": "Housing", "announced": "peerhelp",
        });
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding)
            .expect("sign");
        let v = k
            .visitor(&request_with(&format!("{COOKIE_NAME}={jwt}")))
            .expect("an older cookie is still a visitor");
        assert_eq!((v.uid.as_str(), v.role), ("u-0123456789abcdef", Role::User));
        assert!(!v.co_participant);
    }
}
