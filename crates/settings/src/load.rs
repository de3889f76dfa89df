//! Reading and checking settings.

use config::{Config, Environment, File, FileFormat};
use secrecy::ExposeSecret;

use crate::{RedisMode, Settings};

const DEFAULTS: &str = include_str!("../base.yaml");

/// Variables that are always strings, never parsed as numbers or booleans: parsing would
/// lose a leading `+` or `0` (`+12025550123` would become `12025550123`).
const STRING_VARS: &[&str] = &[
    "LIVEHELP__VOICE__NUMBER",
    "LIVEHELP__VOICE__ACCOUNT_SID",
    "LIVEHELP__VOICE__AUTH_TOKEN",
    "LIVEHELP__VOICE__PUBLIC_BASE_URL",
    "LIVEHELP__AUTH__JWT_SECRET",
    "LIVEHELP__AUTH__HOST_API_KEY",
];

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
    let (strings, vars): (Vec<_>, Vec<_>) = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("LIVEHELP__"))
        .partition(|(k, _)| STRING_VARS.contains(&k.to_ascii_uppercase().as_str()));
    let environment = |vars: Vec<(String, String)>, parse: bool| {
        Environment::with_prefix("LIVEHELP")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(parse)
            .list_separator(",")
            .with_list_parse_key("auth.allowed_origins")
            .with_list_parse_key("redis.nodes")
            .source(Some(vars.into_iter().collect()))
    };
    let settings: Settings = builder
        .add_source(environment(vars, true))
        .add_source(environment(strings, false))
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
    if let Some(bad) = s.auth.allowed_origins.iter().find(|o| {
        !(o.starts_with("https://") || o.starts_with("http://"))
            || o.ends_with('/')
            || o.matches('/').count() != 2
    }) {
        return Err(invalid(
            "auth.allowed_origins",
            format!("{bad:?} is not an origin like https://host.example or http://host:8080"),
        ));
    }
    let url = s.redis.url.expose_secret();
    if !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix:")) {
        return Err(invalid(
            "redis.url",
            "must start with redis://, rediss:// or unix:",
        ));
    }
    if let Some(bad) = s.redis.nodes.iter().find(|n| {
        let n = n.expose_secret();
        !(n.starts_with("redis://") || n.starts_with("rediss://"))
    }) {
        let shown = bad
            .expose_secret()
            .split('@')
            .next_back()
            .unwrap_or_default();
        return Err(invalid(
            "redis.nodes",
            format!("{shown:?} must start with redis:// or rediss://"),
        ));
    }
    match s.redis.mode {
        RedisMode::Single => {}
        RedisMode::Sentinel | RedisMode::Cluster if s.redis.nodes.is_empty() => {
            return Err(invalid(
                "redis.nodes",
                "must list the Sentinels (mode sentinel) or cluster nodes (mode cluster)",
            ));
        }
        RedisMode::Sentinel if s.redis.sentinel_master.is_empty() => {
            return Err(invalid("redis.sentinel_master", "must not be empty"));
        }
        RedisMode::Sentinel | RedisMode::Cluster => {}
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
    if !(64 * 1024..=64 * 1024 * 1024).contains(&s.mirror.max_frame_bytes) {
        return Err(invalid(
            "mirror.max_frame_bytes",
            "must be between 65536 and 67108864",
        ));
    }
    if s.mirror.batches_per_second == 0 {
        return Err(invalid("mirror.batches_per_second", "must be at least 1"));
    }
    if !(2..=300).contains(&s.mirror.control_lock_seconds) {
        return Err(invalid(
            "mirror.control_lock_seconds",
            "must be between 2 and 300",
        ));
    }
    if s.limits.presence_seconds == 0 {
        return Err(invalid("limits.presence_seconds", "must be at least 1"));
    }
    if s.limits.heartbeat_seconds == 0 {
        return Err(invalid("limits.heartbeat_seconds", "must be at least 1"));
    }
    if s.limits.max_connections == 0 {
        return Err(invalid("limits.max_connections", "must be at least 1"));
    }
    if !(1..=s.limits.max_connections).contains(&s.limits.max_connections_per_identity) {
        return Err(invalid(
            "limits.max_connections_per_identity",
            "must be between 1 and limits.max_connections",
        ));
    }
    validate_voice(&s.voice)
}

fn validate_voice(v: &crate::VoiceSettings) -> Result<(), SettingsError> {
    if !(1..=60).contains(&v.code_minutes) {
        return Err(invalid("voice.code_minutes", "must be between 1 and 60"));
    }
    if !(1..=10).contains(&v.max_attempts) {
        return Err(invalid("voice.max_attempts", "must be between 1 and 10"));
    }
    if v.attempts_per_caller_per_hour == 0 {
        return Err(invalid(
            "voice.attempts_per_caller_per_hour",
            "must be at least 1",
        ));
    }
    if v.attempts_per_minute == 0 {
        return Err(invalid("voice.attempts_per_minute", "must be at least 1"));
    }
    let base = &v.public_base_url;
    if !base.is_empty() {
        let rest = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(['/', '?', '#', ' '])) {
            return Err(invalid(
                "voice.public_base_url",
                "must be empty or scheme://host[:port] (http or https, no path), e.g. https://help.example.org",
            ));
        }
    }
    if !v.enabled {
        return Ok(());
    }
    if livehelp_protocol::PhoneNumber::parse(&v.number).is_err() {
        return Err(invalid(
            "voice.number",
            "must be the Twilio number in E.164 form, e.g. +12025550123 (voice.enabled is on)",
        ));
    }
    if v.auth_token.expose_secret().is_empty() {
        return Err(invalid(
            "voice.auth_token",
            "must be set when voice.enabled is on (set LIVEHELP__VOICE__AUTH_TOKEN)",
        ));
    }
    if !v.account_sid.starts_with("AC") || v.account_sid.len() < 3 {
        return Err(invalid(
            "voice.account_sid",
            "must be the Twilio account SID (AC...) when voice.enabled is on",
        ));
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
    fn redis_topologies() {
        let s = load_from(
            None,
            env(&[
                ("LIVEHELP__REDIS__MODE", "cluster"),
                ("LIVEHELP__REDIS__NODES", "redis://a:7000,redis://b:7001"),
            ]),
        )
        .expect("a cluster with two seed nodes");
        assert_eq!(s.redis.mode, RedisMode::Cluster);
        let nodes: Vec<&str> = s.redis.nodes.iter().map(|n| n.expose_secret()).collect();
        assert_eq!(nodes, ["redis://a:7000", "redis://b:7001"]);
        assert!(error(&[("LIVEHELP__REDIS__MODE", "cluster")]).contains("redis.nodes"));
        assert!(error(&[("LIVEHELP__REDIS__MODE", "sharded")]).contains("mode"));
        let bad = error(&[
            ("LIVEHELP__REDIS__MODE", "sentinel"),
            ("LIVEHELP__REDIS__NODES", "http://:pw@s1:26379"),
        ]);
        assert!(bad.contains("redis.nodes") && !bad.contains("pw"), "{bad}");
        assert!(
            error(&[
                ("LIVEHELP__REDIS__MODE", "sentinel"),
                ("LIVEHELP__REDIS__NODES", "redis://s1:26379"),
                ("LIVEHELP__REDIS__SENTINEL_MASTER", ""),
            ])
            .contains("redis.sentinel_master")
        );
    }

    #[test]
    fn voice_is_checked_only_when_enabled() {
        let s = load_from(None, env(&[])).expect("voice off needs nothing");
        assert!(!s.voice.enabled);
        assert_eq!(s.voice.code_minutes, 5);
        assert_eq!(s.voice.max_attempts, 3);
        let on = [
            ("LIVEHELP__VOICE__ENABLED", "true"),
            (
                "LIVEHELP__VOICE__ACCOUNT_SID",
                "AC0123456789abcdef0123456789abcdef",
            ),
            ("LIVEHELP__VOICE__AUTH_TOKEN", "twilio-token"),
            ("LIVEHELP__VOICE__NUMBER", "+12025550123"),
        ];
        let s = load_from(None, env(&on)).expect("valid voice settings");
        assert!(s.voice.enabled);
        assert_eq!(
            s.voice.number, "+12025550123",
            "the + survives the environment"
        );
        let with = |key: &str, value: &str| {
            let mut pairs = on.to_vec();
            pairs.retain(|(k, _)| *k != key);
            let mut v = env(&pairs);
            v.push((key.to_owned(), value.to_owned()));
            load_from(None, v).expect_err("should fail").to_string()
        };
        assert!(with("LIVEHELP__VOICE__NUMBER", "202-555-0123").contains("voice.number"));
        assert!(with("LIVEHELP__VOICE__AUTH_TOKEN", "").contains("voice.auth_token"));
        assert!(with("LIVEHELP__VOICE__ACCOUNT_SID", "XY123").contains("voice.account_sid"));
        assert!(
            with("LIVEHELP__VOICE__PUBLIC_BASE_URL", "ftp://x").contains("voice.public_base_url")
        );
        assert!(
            with("LIVEHELP__VOICE__PUBLIC_BASE_URL", "https://x/voice")
                .contains("voice.public_base_url")
        );
        assert!(with("LIVEHELP__VOICE__CODE_MINUTES", "0").contains("voice.code_minutes"));
        assert!(with("LIVEHELP__VOICE__MAX_ATTEMPTS", "0").contains("voice.max_attempts"));
        let s = load_from(
            None,
            env(&[(
                "LIVEHELP__VOICE__PUBLIC_BASE_URL",
                "https://help.example.org:8443",
            )]),
        )
        .expect("a base URL with a port");
        assert_eq!(s.voice.public_base_url, "https://help.example.org:8443");
    }

    #[test]
    fn allowed_origins_are_a_comma_separated_list_of_origins() {
        let s = load_from(
            None,
            env(&[(
                "LIVEHELP__AUTH__ALLOWED_ORIGINS",
                "https://a.example,http://b.example:8080",
            )]),
        )
        .expect("valid");
        assert_eq!(
            s.auth.allowed_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        assert!(
            error(&[("LIVEHELP__AUTH__ALLOWED_ORIGINS", "a.example")])
                .contains("auth.allowed_origins")
        );
        assert!(
            error(&[("LIVEHELP__AUTH__ALLOWED_ORIGINS", "https://a.example/path")])
                .contains("auth.allowed_origins")
        );
    }

    #[test]
    fn connection_caps_are_positive_and_per_identity_fits_the_process_cap() {
        let s = load_from(None, env(&[])).expect("valid");
        assert_eq!(
            (
                s.limits.max_connections,
                s.limits.max_connections_per_identity
            ),
            (10000, 16)
        );
        assert!(
            error(&[("LIVEHELP__LIMITS__MAX_CONNECTIONS", "0")]).contains("limits.max_connections")
        );
        assert!(
            error(&[("LIVEHELP__LIMITS__MAX_CONNECTIONS_PER_IDENTITY", "0")])
                .contains("limits.max_connections_per_identity")
        );
        assert!(
            error(&[
                ("LIVEHELP__LIMITS__MAX_CONNECTIONS", "10"),
                ("LIVEHELP__LIMITS__MAX_CONNECTIONS_PER_IDENTITY", "11"),
            ])
            .contains("limits.max_connections_per_identity")
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = load_from(None, env(&[])).expect("valid");
        assert!(!format!("{s:?}").contains(&"x".repeat(32)));
    }
}
