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

/// The `LIVEHELP__...` variables of a test service: port 0, the given Redis and key prefix
/// (services of one cluster must share it), quiet logs, short timeouts, generous rate limits.
pub fn test_env(redis_url: &str, prefix: &str) -> Vec<(String, String)> {
    [
        ("LIVEHELP__SERVER__PORT", "0"),
        ("LIVEHELP__REDIS__URL", redis_url),
        ("LIVEHELP__REDIS__KEY_PREFIX", prefix),
        ("LIVEHELP__REDIS__COMMAND_TIMEOUT_MS", "1000"),
        ("LIVEHELP__AUTH__JWT_SECRET", JWT_SECRET),
        ("LIVEHELP__AUTH__HOST_API_KEY", HOST_API_KEY),
        ("LIVEHELP__LOG__FILTER", "warn"),
        ("LIVEHELP__SERVER__SHUTDOWN_GRACE_SECONDS", "3"),
        // Tests send faster than people type; the flood test sets its own limits.
        ("LIVEHELP__CHAT__FRAMES_PER_SECOND", "1000"),
        ("LIVEHELP__CHAT__FRAMES_BURST", "1000"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// A fresh key prefix, so tests can share a Redis.
pub fn fresh_prefix() -> String {
    format!("t{:08x}", rand::rng().random::<u32>())
}

/// Settings for one service in a test (see [`test_env`]); a fresh key prefix unless one is
/// given.
pub fn test_settings(redis_url: &str, prefix: Option<&str>) -> Settings {
    let prefix = prefix.map_or_else(fresh_prefix, str::to_owned);
    livehelp_settings::load_from(None, test_env(redis_url, &prefix))
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
