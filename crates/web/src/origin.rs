//! Cross-site WebSocket hijacking defence: a browser always sends `Origin` on a WebSocket
//! handshake, and a page of another site must not open livehelp's sockets with the user's
//! token. Clients that send no `Origin` are not browsers and need a token all the same.

use actix_web::HttpRequest;
use actix_web::http::header;

/// Whether the handshake's `Origin` may open a socket: listed in `allowed`, or, with an empty
/// list, naming the host the request was sent to (through the ingress: `X-Forwarded-Host`).
pub fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    if !allowed.is_empty() {
        return allowed.iter().any(|a| a.eq_ignore_ascii_case(origin));
    }
    let host = req
        .headers()
        .get("x-forwarded-host")
        .or_else(|| req.headers().get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn req(origin: Option<&str>, host: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().insert_header((header::HOST, host));
        if let Some(o) = origin {
            r = r.insert_header((header::ORIGIN, o));
        }
        if let Some(f) = forwarded {
            r = r.insert_header(("x-forwarded-host", f));
        }
        r.to_http_request()
    }

    #[test]
    fn same_host_pages_are_allowed_and_others_refused() {
        assert!(origin_allowed(
            &req(Some("http://help.example:8080"), "help.example:8080", None),
            &[]
        ));
        assert!(origin_allowed(
            &req(
                Some("https://help.example"),
                "10.0.0.5:8081",
                Some("help.example")
            ),
            &[]
        ));
        assert!(!origin_allowed(
            &req(Some("https://evil.example"), "help.example", None),
            &[]
        ));
        assert!(
            origin_allowed(&req(None, "help.example", None), &[]),
            "no Origin: not a browser"
        );
        let list = vec!["https://forms.example".to_owned()];
        assert!(origin_allowed(
            &req(Some("https://forms.example"), "help.example", None),
            &list
        ));
        assert!(!origin_allowed(
            &req(Some("https://help.example"), "help.example", None),
            &list
        ));
    }
}
