//! What the benchmark needs to drive livehelp's chat-gateway: its settings, signed user
//! tokens, and the host API call that opens a session for peer chat.

use std::sync::LazyLock;

use livehelp_testkit::{HOST_API_KEY, Identities};

static IDS: LazyLock<Identities> = LazyLock::new(Identities::default);

/// The `LIVEHELP__...` variables of a benchmarked service: the test settings (shared
/// Redis and key prefix) with logs at `warn` and the per-connection chat rate limit raised
/// out of the way: the benchmark sends up to a few hundred messages a second per socket,
/// where people send a few. `LIVEHELP__...` variables in the benchmark's own environment
/// come last, to try a setting: `LIVEHELP__REDIS__POOL_SIZE=64 bench/run ...`.
pub fn env(redis_url: &str, prefix: &str, port: u16) -> Vec<(String, String)> {
    let mut env = livehelp_testkit::test_env(redis_url, prefix);
    let overrides = [
        ("LIVEHELP__SERVER__PORT", port.to_string()),
        ("LIVEHELP__LOG__FILTER", "warn".to_owned()),
        ("LIVEHELP__REDIS__COMMAND_TIMEOUT_MS", "5000".to_owned()),
        ("LIVEHELP__CHAT__FRAMES_PER_SECOND", "1000000".to_owned()),
        ("LIVEHELP__CHAT__FRAMES_BURST", "1000000".to_owned()),
        // The generator names members alike in every room (the sender of each pair is "m0"),
        // so one identity holds hundreds of sockets; and the idle scenario opens thousands.
        ("LIVEHELP__LIMITS__MAX_CONNECTIONS", "1000000".to_owned()),
        (
            "LIVEHELP__LIMITS__MAX_CONNECTIONS_PER_IDENTITY",
            "1000000".to_owned(),
        ),
    ];
    env.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    env.extend(overrides.map(|(k, v)| (k.to_owned(), v)));
    for (k, v) in std::env::vars().filter(|(k, _)| k.starts_with("LIVEHELP__")) {
        env.retain(|(old, _)| *old != k);
        env.push((k, v));
    }
    env
}

/// A user token for `member` of session `room`.
pub fn user_token(member: &str, room: &str) -> String {
    IDS.user(member, room, Some(member))
}

/// An operator token (role `advocate`) for `id`.
pub fn operator_token(id: &str) -> String {
    IDS.operator(id, Some(id))
}

/// Makes session `room` available for peer chat (every member talks in one conversation).
pub async fn open_peer_session(
    http: &reqwest::Client,
    port: u16,
    room: &str,
) -> anyhow::Result<()> {
    let response = http
        .put(format!(
            "http://127.0.0.1:{port}/chat/api/sessions/{room}/status"
        ))
        .bearer_auth(HOST_API_KEY)
        .json(&serde_json::json!({"availability": "available", "mode": "peer"}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "host API answered {} for session {room}",
        response.status()
    );
    Ok(())
}
