//! Reading and checking settings.

use config::{Config, Environment, File, FileFormat};
use secrecy::ExposeSecret;

use crate::Settings;

const DEFAULTS: &str = include_str!("../base.yaml");

/// A setting that cannot be used. The message names the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Read(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
}

/// Loads settings from the defaults, the file named by `LIVEHELP_CONFIG` and the process
/// environment.
pub fn load() -> Result<Settings, SettingsError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    load_from(std::env::var("LIVEHELP_CONFIG").ok().as_deref(), env)
}

/// Loads settings from the defaults, an optional YAML file and the given `LIVEHELP__...`
/// variables (tests pass their own instead of touching the process environment).
pub fn load_from(
    file: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, SettingsError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Yaml));
    if let Some(path) = file {
        builder = builder.add_source(File::new(path, FileFormat::Yaml).required(true));
    }
    let vars = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("LIVEHELP__"))
        .collect();
    let settings: Settings = builder
        .add_source(
            Environment::with_prefix("LIVEHELP")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(vars)),
        )
        .build()?
        .try_deserialize()?;
    validate(&settings)?;
    Ok(settings)
}

fn invalid(key: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        problem: problem.into(),
    }
}

fn validate(s: &Settings) -> Result<(), SettingsError> {
    if s.auth.jwt_secret.expose_secret().len() < 32 {
        return Err(invalid(
            "auth.jwt_secret",
            "must be at least 32 bytes (set LIVEHELP__AUTH__JWT_SECRET)",
        ));
    }
    if s.auth.host_api_key.expose_secret().len() < 16 {
        return Err(invalid(
            "auth.host_api_key",
            "must be at least 16 bytes (set LIVEHELP__AUTH__HOST_API_KEY)",
        ));
    }
    let url = s.redis.url.expose_secret();
    if !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix:")) {
        return Err(invalid(
            "redis.url",
            "must start with redis://, rediss:// or unix:",
        ));
    }
    if s.redis.key_prefix.is_empty()
        || !s
            .redis
            .key_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(invalid(
            "redis.key_prefix",
            "must be letters, digits, - _ or . and not empty",
        ));
    }
    if s.redis.pool_size == 0 {
        return Err(invalid("redis.pool_size", "must be at least 1"));
    }
    if s.server.workers == 0 {
        return Err(invalid("server.workers", "must be at least 1"));
    }
    if !(1024..=16 * 1024 * 1024).contains(&s.limits.max_frame_bytes) {
        return Err(invalid(
            "limits.max_frame_bytes",
            "must be between 1024 and 16777216",
        ));
    }
    if s.limits.client_queue == 0 {
        return Err(invalid("limits.client_queue", "must be at least 1"));
    }
    if s.chat.max_chats_per_operator == 0 {
        return Err(invalid("chat.max_chats_per_operator", "must be at least 1"));
    }
    if s.chat.frames_per_second == 0 || s.chat.frames_burst < s.chat.frames_per_second {
        return Err(invalid(
            "chat.frames_burst",
            "frames_per_second must be at least 1 and frames_burst at least frames_per_second",
        ));
    }
    if !(s.monitor.join_url.starts_with('/')
        || s.monitor.join_url.starts_with("https://")
        || s.monitor.join_url.starts_with("http://"))
    {
        return Err(invalid(
            "monitor.join_url",
            "must be a path (/...) or an http(s) URL",
        ));
    }
    if !(5..=600).contains(&s.monitor.join_link_seconds) {
        return Err(invalid(
            "monitor.join_link_seconds",
            "must be between 5 and 600",
        ));
    }
    if s.limits.presence_seconds == 0 {
        return Err(invalid("limits.presence_seconds", "must be at least 1"));
    }
    if s.limits.heartbeat_seconds == 0 {
        return Err(invalid("limits.heartbeat_seconds", "must be at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = vec![
            ("LIVEHELP__AUTH__JWT_SECRET".to_owned(), "x".repeat(32)),
            ("LIVEHELP__AUTH__HOST_API_KEY".to_owned(), "k".repeat(16)),
        ];
        v.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        v
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        load_from(None, env(pairs))
            .expect_err("should fail")
            .to_string()
    }

    #[test]
    fn defaults_then_environment() {
        let s = load_from(None, env(&[("LIVEHELP__SERVER__PORT", "9001")])).expect("valid");
        assert_eq!(s.server.port, 9001);
        assert_eq!(s.redis.key_prefix, "lh");
    }

    #[test]
    fn errors_name_the_key() {
        assert!(error(&[("LIVEHELP__SERVER__PORT", "eighty")]).contains("server.port"));
        assert!(error(&[("LIVEHELP__SERVER__PROT", "1")]).contains("prot"));
        assert!(error(&[("LIVEHELP__REDIS__URL", "http://x")]).contains("redis.url"));
        assert!(error(&[("LIVEHELP__AUTH__JWT_SECRET", "short")]).contains("auth.jwt_secret"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = load_from(None, env(&[])).expect("valid");
        assert!(!format!("{s:?}").contains(&"x".repeat(32)));
    }
}
