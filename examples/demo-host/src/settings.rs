//! The demo host's settings, read from environment variables.

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};

/// Where the demo host listens, how it signs tokens and how it reaches chat-gateway.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    /// Interface to bind (`DEMO_HOST_ADDR`, default `127.0.0.1`).
    pub host: String,
    /// Port to bind; 0 picks a free one (`DEMO_HOST_PORT`, default 8085).
    pub port: u16,
    /// The secret livehelp verifies tokens with (`LIVEHELP__AUTH__JWT_SECRET`, at least 32
    /// bytes). The demo host also signs its own session cookie with it, for another audience.
    pub jwt_secret: SecretString,
    /// The key of chat-gateway's host API (`LIVEHELP__AUTH__HOST_API_KEY`, at least 16 bytes).
    pub host_api_key: SecretString,
    /// Base URL of chat-gateway, e.g. `http://127.0.0.1:8081` (`DEMO_CHAT_API_URL`).
    pub chat_api_url: String,
}

pub const ENV_ADDR: &str = "DEMO_HOST_ADDR";
pub const ENV_PORT: &str = "DEMO_HOST_PORT";
pub const ENV_JWT_SECRET: &str = "LIVEHELP__AUTH__JWT_SECRET";
pub const ENV_HOST_API_KEY: &str = "LIVEHELP__AUTH__HOST_API_KEY";
pub const ENV_CHAT_API_URL: &str = "DEMO_CHAT_API_URL";

const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 8085;
const DEFAULT_CHAT_API_URL: &str = "http://127.0.0.1:8081";

const MIN_JWT_SECRET_BYTES: usize = 32;
const MIN_HOST_API_KEY_BYTES: usize = 16;

impl DemoSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
        })
    }

    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    /// An empty value counts as unset.
    pub fn from_lookup<F>(lookup: F) -> anyhow::Result<Self>
    where
        F: Fn(&str) -> anyhow::Result<Option<String>>,
    {
        let get = |name: &str| -> anyhow::Result<Option<String>> {
            Ok(lookup(name)?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()))
        };

        // DEMO_HOST_ADDR is a host; `host:port` is accepted too, because the nginx template
        // names the demo host's address that way.
        let port_var = match get(ENV_PORT)? {
            Some(p) => Some(p.parse::<u16>().map_err(|_| {
                anyhow::anyhow!("{ENV_PORT} must be a port number from 0 to 65535, got {p:?}")
            })?),
            None => None,
        };
        let (host, addr_port) = match get(ENV_ADDR)? {
            Some(addr) => split_host_port(&addr)?,
            None => (DEFAULT_HOST.to_owned(), None),
        };
        let port = match (port_var, addr_port) {
            (Some(a), Some(b)) if a != b => {
                bail!("{ENV_ADDR} names port {b} but {ENV_PORT} is {a}: set the port in one place")
            }
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => DEFAULT_PORT,
        };

        let jwt_secret = get(ENV_JWT_SECRET)?.with_context(|| {
            format!(
                "{ENV_JWT_SECRET} is not set: the secret livehelp verifies tokens with \
                 (at least {MIN_JWT_SECRET_BYTES} bytes)"
            )
        })?;
        let host_api_key = get(ENV_HOST_API_KEY)?.with_context(|| {
            format!(
                "{ENV_HOST_API_KEY} is not set: the key of chat-gateway's host API \
                 (at least {MIN_HOST_API_KEY_BYTES} bytes)"
            )
        })?;
        let chat_api_url =
            get(ENV_CHAT_API_URL)?.unwrap_or_else(|| DEFAULT_CHAT_API_URL.to_owned());

        let settings = Self {
            host,
            port,
            jwt_secret: SecretString::from(jwt_secret),
            host_api_key: SecretString::from(host_api_key),
            chat_api_url,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values however the settings were made; errors name the variable to fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.host.trim().is_empty() {
            bail!("{ENV_ADDR} must name a host or IP address to listen on");
        }
        if self.jwt_secret.expose_secret().len() < MIN_JWT_SECRET_BYTES {
            bail!("{ENV_JWT_SECRET} must be at least {MIN_JWT_SECRET_BYTES} bytes");
        }
        if self.host_api_key.expose_secret().len() < MIN_HOST_API_KEY_BYTES {
            bail!("{ENV_HOST_API_KEY} must be at least {MIN_HOST_API_KEY_BYTES} bytes");
        }
        let url = reqwest::Url::parse(&self.chat_api_url).map_err(|e| {
            anyhow::anyhow!(
                "{ENV_CHAT_API_URL} must be a URL like {DEFAULT_CHAT_API_URL}, got {:?}: {e}",
                self.chat_api_url
            )
        })?;
        if url.scheme() != "http" {
            bail!(
                "{ENV_CHAT_API_URL} must be an http:// URL (this build has no TLS; use \
                 chat-gateway's own port), got {:?}",
                self.chat_api_url
            );
        }
        if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
            bail!(
                "{ENV_CHAT_API_URL} must be a base URL like {DEFAULT_CHAT_API_URL}, got {:?}",
                self.chat_api_url
            );
        }
        Ok(())
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address is a host.
fn split_host_port(addr: &str) -> anyhow::Result<(String, Option<u16>)> {
    let bad_port = |p: &str| {
        anyhow::anyhow!("{ENV_ADDR} has an invalid port {p:?} (expected host or host:port)")
    };
    if let Some(rest) = addr.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            bail!("{ENV_ADDR} has an unclosed '[' in {addr:?}");
        };
        return match after.strip_prefix(':') {
            Some(p) => Ok((host.to_owned(), Some(p.parse().map_err(|_| bad_port(p))?))),
            None if after.is_empty() => Ok((host.to_owned(), None)),
            None => bail!("{ENV_ADDR} is not a host or host:port: {addr:?}"),
        };
    }
    match addr.rsplit_once(':') {
        Some((host, p)) if !host.contains(':') => {
            if host.is_empty() {
                bail!("{ENV_ADDR} is missing the host in {addr:?}");
            }
            Ok((host.to_owned(), Some(p.parse().map_err(|_| bad_port(p))?)))
        }
        _ => Ok((addr.to_owned(), None)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> anyhow::Result<DemoSettings> {
        let mut map: HashMap<String, String> = HashMap::from([
            (ENV_JWT_SECRET.to_owned(), "j".repeat(32)),
            (ENV_HOST_API_KEY.to_owned(), "k".repeat(16)),
        ]);
        for (k, v) in vars {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        DemoSettings::from_lookup(|name| Ok(map.get(name).cloned()))
    }

    fn error(vars: &[(&str, &str)]) -> String {
        format!("{:#}", from(vars).expect_err("settings should be refused"))
    }

    #[test]
    fn defaults_apply_when_only_the_secrets_are_set() {
        let s = from(&[]).expect("valid");
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 8085));
        assert_eq!(s.chat_api_url, "http://127.0.0.1:8081");
    }

    #[test]
    fn host_and_port_come_from_either_variable() {
        let s = from(&[(ENV_ADDR, "0.0.0.0"), (ENV_PORT, "9000")]).expect("valid");
        assert_eq!((s.host.as_str(), s.port), ("0.0.0.0", 9000));
        let s = from(&[(ENV_ADDR, "127.0.0.1:9001")]).expect("valid");
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 9001));
        let s = from(&[(ENV_ADDR, "[::1]:9002")]).expect("valid");
        assert_eq!((s.host.as_str(), s.port), ("::1", 9002));
        let s = from(&[(ENV_ADDR, "::1")]).expect("valid");
        assert_eq!((s.host.as_str(), s.port), ("::1", 8085));
        assert!(error(&[(ENV_ADDR, "127.0.0.1:9001"), (ENV_PORT, "9002")]).contains(ENV_ADDR));
    }

    #[test]
    fn errors_name_the_variable_at_fault() {
        let missing = |name: &str| {
            let map: HashMap<&str, String> = HashMap::from([
                (ENV_JWT_SECRET, "j".repeat(32)),
                (ENV_HOST_API_KEY, "k".repeat(16)),
            ]);
            let err = DemoSettings::from_lookup(|n| {
                Ok(if n == name { None } else { map.get(n).cloned() })
            })
            .expect_err("missing variable");
            format!("{err:#}")
        };
        assert!(missing(ENV_JWT_SECRET).contains("LIVEHELP__AUTH__JWT_SECRET is not set"));
        assert!(missing(ENV_HOST_API_KEY).contains("LIVEHELP__AUTH__HOST_API_KEY is not set"));
        assert!(error(&[(ENV_PORT, "eighty")]).contains("DEMO_HOST_PORT"));
        assert!(error(&[(ENV_PORT, "70000")]).contains("DEMO_HOST_PORT"));
        assert!(error(&[(ENV_ADDR, "host:x")]).contains("DEMO_HOST_ADDR"));
        assert!(error(&[(ENV_JWT_SECRET, "short")]).contains("LIVEHELP__AUTH__JWT_SECRET"));
        assert!(error(&[(ENV_HOST_API_KEY, "short")]).contains("LIVEHELP__AUTH__HOST_API_KEY"));
        assert!(error(&[(ENV_CHAT_API_URL, "not a url")]).contains("DEMO_CHAT_API_URL"));
        assert!(error(&[(ENV_CHAT_API_URL, "https://chat.example")]).contains("http://"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = from(&[]).expect("valid");
        let debug = format!("{s:?}");
        assert!(!debug.contains(&"j".repeat(32)) && !debug.contains(&"k".repeat(16)));
    }
}
