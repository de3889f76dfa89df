//! Every metric livehelp records, with its help text: one table, so `/metrics` always
//! carries `# HELP` lines and names stay consistent. Counters get `_total` and seconds get
//! `_seconds` appended by the exporter.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

pub fn describe_all() {
    describe_counter!(
        "livehelp_auth_failures",
        "Requests and handshakes refused for identity, by reason."
    );
    describe_counter!("livehelp_http_errors", "HTTP error answers, by error code.");
    describe_counter!(
        "livehelp_redis_errors",
        "Redis commands or connections that failed or timed out."
    );
    describe_gauge!(
        "livehelp_ws_connections",
        "Open WebSocket connections, by service."
    );
    describe_counter!(
        "livehelp_ws_connections_refused",
        "WebSocket handshakes refused over a connection cap, by service and reason (process_cap, identity_cap)."
    );
    describe_counter!(
        "livehelp_ws_frames_rejected",
        "Client WebSocket frames refused, by reason."
    );
    describe_counter!(
        "livehelp_ws_slow_consumers",
        "WebSocket clients closed for falling behind, by service."
    );
    describe_counter!(
        "livehelp_chat_frames",
        "Chat frames received from clients, by type."
    );
    describe_counter!(
        "livehelp_chat_resyncs",
        "Chat sockets that fell behind their channels' payloads and re-read them from storage."
    );
    describe_counter!(
        "livehelp_chat_messages_stored",
        "Chat sends stored, by whether they repeated an earlier send."
    );
    describe_counter!(
        "livehelp_chat_store_calls",
        "Calls of the store script: a busy process stores many messages per call."
    );
    describe_counter!(
        "livehelp_chat_unreplicated",
        "Chat sends refused because fewer replicas than redis.ack_replicas confirmed them."
    );
    describe_histogram!(
        "livehelp_chat_store_duration",
        Unit::Seconds,
        "Time from a chat send's arrival until it is stored and published in Redis, its wait for a batch included."
    );
    describe_counter!(
        "livehelp_voice_calls",
        "Voice calls, by outcome (incoming, connected, answered, not_answered, gave_up, rate_limited)."
    );
    describe_counter!(
        "livehelp_voice_code_attempts",
        "Access codes entered on calls, by outcome (valid, wrong, empty, rate_limited)."
    );
    describe_counter!(
        "livehelp_voice_codes_issued",
        "Access codes created for call forwarding."
    );
    describe_counter!(
        "livehelp_voice_codes_cancelled",
        "Access codes cancelled by their operator before use."
    );
    describe_counter!(
        "livehelp_voice_signature_failures",
        "Twilio webhook requests refused for their X-Twilio-Signature, by reason."
    );
    describe_counter!("livehelp_joins", "Join links issued to operators.");
    describe_counter!(
        "livehelp_ws_floods_closed",
        "Connections closed for flooding chat frames."
    );
}
