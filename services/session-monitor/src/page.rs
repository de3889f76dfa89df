//! The monitor page: a static shell; `monitor.js` (built from `web/`) does the rest.

use actix_web::HttpResponse;

const PAGE: &str = include_str!("monitor_page.html");

pub async fn monitor_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        ))
        .body(PAGE)
}
