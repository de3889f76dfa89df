//! The server-to-server call a host makes: set a session's live-help status on chat-gateway
//! (docs/api.md, `PUT /chat/api/sessions/{session}/status`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::session::Mode;

/// The interview title shown on the monitor.
pub const TITLE: &str = "Demo interview";
/// The operators' role that qualifies as a partner.
pub const PARTNER_ROLE: &str = "advocate";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the HTTP client the host API calls use.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
}

pub struct HostApi {
    client: reqwest::Client,
    base: String,
    key: SecretString,
}

impl std::fmt::Debug for HostApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HostApi {
    pub fn new(client: reqwest::Client, chat_api_url: &str, key: SecretString) -> Self {
        Self {
            client,
            base: chat_api_url.trim_end_matches('/').to_owned(),
            key,
        }
    }

    /// Makes `session` available for live help in `mode`. The error says what went wrong,
    /// without the key.
    pub async fn make_available(&self, session: &str, mode: Mode) -> Result<(), String> {
        let url = format!("{}/chat/api/sessions/{session}/status", self.base);
        let body = serde_json::json!({
            "availability": "available",
            "mode": mode.as_str(),
            "partner_roles": [PARTNER_ROLE],
            "title": TITLE,
        });
        let response = self
            .client
            .put(&url)
            .bearer_auth(self.key.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("PUT {url}: {}", with_causes(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(300).collect();
        Err(format!("PUT {url}: {status}: {text}"))
    }
}

/// An error and its causes on one line (reqwest's own message leaves out why).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
