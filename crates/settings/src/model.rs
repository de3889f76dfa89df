//! The shape of the settings. All services share it so that one environment can configure
//! a whole cluster without a key being unknown to some service.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    pub limits: Limits,
    pub chat: ChatSettings,
    pub monitor: MonitorSettings,
    pub mirror: MirrorSettings,
    pub log: LogSettings,
    pub voice: VoiceSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// May hold a password, hence secret.
    pub url: SecretString,
    pub mode: RedisMode,
    /// Cluster seed nodes, or the Sentinels (URLs; may hold passwords).
    pub nodes: Vec<SecretString>,
    /// The name the Sentinels monitor the primary under.
    pub sentinel_master: String,
    /// Replicas that must hold a chat message before it is acknowledged.
    pub ack_replicas: u32,
    pub key_prefix: String,
    pub pool_size: usize,
    pub command_timeout_ms: u64,
}

/// How the services reach Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisMode {
    /// `redis.url` names the server.
    Single,
    /// `redis.nodes` are Sentinels naming the primary `redis.sentinel_master`.
    Sentinel,
    /// `redis.nodes` are seed nodes of a Redis Cluster.
    Cluster,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub host_api_key: SecretString,
    pub leeway_seconds: u64,
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub client_queue: usize,
    pub heartbeat_seconds: u64,
    pub presence_seconds: u64,
    pub max_connections: usize,
    pub max_connections_per_identity: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSettings {
    pub max_chats_per_operator: usize,
    pub frames_per_second: u32,
    pub frames_burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSettings {
    pub join_url: String,
    pub join_link_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorSettings {
    pub max_frame_bytes: usize,
    pub batches_per_second: u32,
    pub control_lock_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceSettings {
    pub enabled: bool,
    pub account_sid: String,
    pub auth_token: SecretString,
    /// The Twilio number callers dial, E.164 (checked when enabled).
    pub number: String,
    /// `scheme://host[:port]` as Twilio calls it; empty: rebuilt from forwarded headers.
    pub public_base_url: String,
    pub code_minutes: u64,
    /// Code entries per call before hanging up.
    pub max_attempts: u32,
    pub attempts_per_caller_per_hour: u64,
    /// Code guesses from all callers together per minute.
    pub attempts_per_minute: u64,
}
