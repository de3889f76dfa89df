//! Settings and signed identities for tests.

use std::time::Duration;

use livehelp_identity::TokenSigner;
use livehelp_settings::Settings;
use rand::Rng;
use secrecy::SecretString;

/// The JWT secret test settings use.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret!";
/// The host API key test settings use.
pub const HOST_API_KEY: &str = "test-host-api-key";

/// Settings for one service in a test: port 0, the given Redis, a fresh key prefix unless
/// one is given (services of one cluster must share it), quiet logs.
pub fn test_settings(redis_url: &str, prefix: Option<&str>) -> Settings {
    let prefix = prefix.map_or_else(
        || format!("t{:08x}", rand::rng().random::<u32>()),
        str::to_owned,
    );
    let env = [
        ("LIVEHELP__SERVER__PORT", "0".to_owned()),
        ("LIVEHELP__REDIS__URL", redis_url.to_owned()),
        ("LIVEHELP__REDIS__KEY_PREFIX", prefix),
        ("LIVEHELP__REDIS__COMMAND_TIMEOUT_MS", "1000".to_owned()),
        ("LIVEHELP__AUTH__JWT_SECRET", JWT_SECRET.to_owned()),
        ("LIVEHELP__AUTH__HOST_API_KEY", HOST_API_KEY.to_owned()),
        ("LIVEHELP__LOG__FILTER", "warn".to_owned()),
        ("LIVEHELP__SERVER__SHUTDOWN_GRACE_SECONDS", "3".to_owned()),
    ];
    livehelp_settings::load_from(None, env.map(|(k, v)| (k.to_owned(), v)))
        .expect("the test settings are valid")
}

/// Signs tokens as a host application would.
#[derive(Debug)]
pub struct Identities {
    signer: TokenSigner,
}

impl Default for Identities {
    fn default() -> Self {
        Self {
            signer: TokenSigner::new(&SecretString::from(JWT_SECRET), Duration::from_secs(600)),
        }
    }
}

impl Identities {
    pub fn user(&self, id: &str, session: &str, name: Option<&str>) -> String {
        self.signer
            .sign(&self.signer.user_claims(id, session, name))
    }

    pub fn operator(&self, id: &str, name: Option<&str>) -> String {
        self.signer
            .sign(&self.signer.staff_claims(id, name, &["advocate"]))
    }

    /// Staff without an operator privilege.
    pub fn staff(&self, id: &str) -> String {
        self.signer
            .sign(&self.signer.staff_claims(id, None, &["developer"]))
    }

    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }
}
