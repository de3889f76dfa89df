//! Twilio's request signature, `X-Twilio-Signature`: base64 of HMAC-SHA1 keyed with the
//! account's auth token, over the full public URL Twilio requested followed by each POST
//! parameter's name and value, sorted by name. Behind the ingress the URL is rebuilt from
//! `voice.public_base_url` or the forwarded headers; Twilio may sign a URL with or without
//! its default port, so both forms are accepted. Signatures compare in constant time.

use actix_web::HttpRequest;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use livehelp_settings::VoiceSettings;
use livehelp_web::ApiError;
use secrecy::ExposeSecret;
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The header Twilio signs its requests in.
pub const HEADER: &str = "X-Twilio-Signature";

/// The signature of a request to `url` with form parameters `params`.
pub fn compute(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    // Sorted by name, then value; a repeated pair counts once (as Twilio's helpers do).
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token) else {
        // HMAC accepts keys of any length: unreachable.
        return String::new();
    };
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `url` as given, and with its default port removed (when present) or added (when absent).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let (authority, tail) = rest
        .find(['/', '?', '#'])
        .map_or((rest, ""), |i| rest.split_at(i));
    let port = authority
        .rsplit_once(':')
        .filter(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match port {
        Some((host, p)) if p == default => variants.push(format!("{scheme}://{host}{tail}")),
        Some(_) => {}
        None => variants.push(format!("{scheme}://{authority}:{default}{tail}")),
    }
    variants
}

/// Whether `signature` signs a request to `url` (or its default-port variant) with
/// `params`.
pub fn is_valid(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    url_variants(url).iter().fold(false, |ok, candidate| {
        let expected = compute(auth_token, candidate, params);
        ok | bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    })
}

/// The first value of a (possibly comma-separated, proxy-appended) header.
fn first_value<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The URL Twilio requested, as it saw it: `voice.public_base_url` + path and query when
/// configured, else `X-Forwarded-Proto` (or http) `://` `X-Forwarded-Host` (or `Host`).
pub fn public_url(req: &HttpRequest, public_base_url: &str) -> String {
    let path_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path(), |pq| pq.as_str());
    if !public_base_url.is_empty() {
        return format!("{}{path_query}", public_base_url.trim_end_matches('/'));
    }
    let scheme = match first_value(req, "x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let host = first_value(req, "x-forwarded-host")
        .or_else(|| first_value(req, "host"))
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    format!("{scheme}://{host}{path_query}")
}

/// Checks a webhook request's signature: 403 (counted) when it is missing or wrong.
pub fn verify(
    req: &HttpRequest,
    voice: &VoiceSettings,
    params: &[(String, String)],
) -> Result<(), ApiError> {
    let Some(given) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) else {
        metrics::counter!("livehelp_voice_signature_failures", "reason" => "missing").increment(1);
        tracing::warn!(
            path = req.path(),
            "twilio request without a signature refused"
        );
        return Err(ApiError::forbidden("X-Twilio-Signature: missing"));
    };
    let url = public_url(req, &voice.public_base_url);
    let token = voice.auth_token.expose_secret().as_bytes();
    if is_valid(token, &url, params, given.trim()) {
        return Ok(());
    }
    metrics::counter!("livehelp_voice_signature_failures", "reason" => "invalid").increment(1);
    tracing::warn!(
        path = req.path(),
        "twilio request with a wrong signature refused"
    );
    Err(ApiError::forbidden(
        "X-Twilio-Signature: does not sign this request",
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Twilio's documented example (TOOLING.md).
    #[test]
    fn the_official_vector() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute(b"12345", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        let mut shuffled = params.clone();
        shuffled.reverse();
        assert!(is_valid(
            b"12345",
            url,
            &shuffled,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(is_valid(
            b"12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!is_valid(
            b"12346",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!is_valid(
            b"12345",
            url,
            &params[1..],
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!is_valid(b"12345", url, &params, ""));
    }

    #[test]
    fn default_ports_are_added_or_removed() {
        assert_eq!(
            url_variants("https://h.example/voice/code?x=1"),
            [
                "https://h.example/voice/code?x=1",
                "https://h.example:443/voice/code?x=1"
            ]
        );
        assert_eq!(
            url_variants("http://h.example:80/v"),
            ["http://h.example:80/v", "http://h.example/v"]
        );
        assert_eq!(
            url_variants("https://h.example:8443/v"),
            ["https://h.example:8443/v"]
        );
        assert_eq!(
            url_variants("http://[::1]/v"),
            ["http://[::1]/v", "http://[::1]:80/v"]
        );
    }

    #[test]
    fn the_public_url_comes_from_the_base_url_or_forwarded_headers() {
        let req = TestRequest::post()
            .uri("/voice/code?retry=1")
            .insert_header(("Host", "10.0.0.5:8084"))
            .to_http_request();
        assert_eq!(
            public_url(&req, ""),
            "http://10.0.0.5:8084/voice/code?retry=1"
        );
        assert_eq!(
            public_url(&req, "https://help.example.org/"),
            "https://help.example.org/voice/code?retry=1"
        );
        let req = TestRequest::post()
            .uri("/voice/incoming")
            .insert_header(("Host", "10.0.0.5:8084"))
            .insert_header(("X-Forwarded-Proto", "https, http"))
            .insert_header(("X-Forwarded-Host", "help.example.org, inner"))
            .to_http_request();
        assert_eq!(
            public_url(&req, ""),
            "https://help.example.org/voice/incoming"
        );
    }
}
