//! The routing table in `deploy/routes.toml` is the one truth: the nginx template must say
//! the same, and a running nginx must send each path to the service that owns it.

use std::collections::BTreeSet;

use livehelp_e2e::Cluster;
use livehelp_testkit::repo_root;
use serde::Deserialize;

#[derive(Deserialize)]
struct Table {
    route: Vec<Route>,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    path: String,
    service: String,
    websocket: bool,
}

fn table() -> BTreeSet<Route> {
    let text =
        std::fs::read_to_string(repo_root().join("deploy/routes.toml")).expect("routes.toml");
    toml::from_str::<Table>(&text)
        .expect("routes.toml parses")
        .route
        .into_iter()
        .collect()
}

/// The routes an nginx config declares: one per `location` block, the service named by its
/// upstream (`livehelp_chat_gateway` → `chat-gateway`) or `static` for an `alias`.
fn nginx_routes(config: &str) -> BTreeSet<Route> {
    config
        .split("location ")
        .skip(1)
        .map(|block| {
            let body = block.split_once('}').map_or(block, |(b, _)| b);
            let path = body
                .split_whitespace()
                .next()
                .expect("a location path")
                .to_owned();
            let service = if body.contains("alias ") {
                "static".to_owned()
            } else {
                let upstream = body
                    .split("proxy_pass http://livehelp_")
                    .nth(1)
                    .and_then(|rest| rest.split(';').next())
                    .unwrap_or_else(|| panic!("location {path} neither proxies nor serves files"));
                upstream.replace('_', "-")
            };
            Route {
                path,
                service,
                websocket: body.contains("$connection_upgrade"),
            }
        })
        .collect()
}

#[test]
fn the_nginx_template_routes_exactly_the_table() {
    let template = std::fs::read_to_string(repo_root().join("deploy/nginx/livehelp.conf.template"))
        .expect("template");
    assert_eq!(nginx_routes(&template), table());
}

#[test]
fn the_parser_sees_a_route_that_differs() {
    let wrong = "location /chat/ { proxy_pass http://livehelp_session_monitor; }";
    let parsed = nginx_routes(wrong);
    assert_eq!(
        parsed.into_iter().collect::<Vec<_>>(),
        vec![Route {
            path: "/chat/".into(),
            service: "session-monitor".into(),
            websocket: false
        }]
    );
}

#[actix_web::test]
async fn a_running_nginx_sends_each_path_to_its_owner() {
    let cluster = Cluster::start().await.expect("cluster");
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(cluster.url(path)).send();

    // chat-gateway answers unknown paths under its prefix with its own JSON error.
    let chat = get("/chat/nowhere").await.expect("http");
    assert_eq!(chat.status(), 404);
    let body: serde_json::Value = chat.json().await.expect("json");
    assert_eq!(body["error"]["message"], "no route for GET /chat/nowhere");

    let monitor = get("/monitor/")
        .await
        .expect("http")
        .text()
        .await
        .expect("text");
    assert!(
        monitor.contains("<title>Live help monitor</title>"),
        "{monitor}"
    );

    let mirror = get("/mirror/ws").await.expect("http");
    assert_eq!(
        mirror.status(),
        401,
        "screen-mirror refuses a handshake without a token"
    );

    let voice = http
        .post(cluster.url("/voice/incoming"))
        .send()
        .await
        .expect("http");
    let body: serde_json::Value = voice.json().await.expect("json");
    assert_eq!(
        body["error"]["message"],
        "voice is turned off (voice.enabled)"
    );

    let widget = get("/static/livehelp/widget.js").await.expect("http");
    assert_eq!(widget.status(), 200, "build web/ first (npm run build)");
    assert!(
        widget.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .contains("javascript")
    );

    let host = get("/").await.expect("http").text().await.expect("text");
    assert!(host.contains("Start the interview"), "{host}");

    // Probes and metrics are not reachable through the ingress.
    let metrics = get("/metrics")
        .await
        .expect("http")
        .text()
        .await
        .expect("text");
    assert!(!metrics.contains("# TYPE"), "metrics leaked through nginx");
}

#[actix_web::test]
async fn websockets_open_only_from_pages_of_the_same_site() {
    let cluster = Cluster::start().await.expect("cluster");
    let token = livehelp_testkit::Identities::default().user("u1", "o1", None);
    let url = cluster.ws_url("/chat/ws");
    let own = cluster.nginx.base_url();
    let same = livehelp_testkit::WsClient::connect_from(&url, Some(&token), Some(&own)).await;
    assert!(same.is_ok(), "a page of the site itself connects");
    let foreign =
        livehelp_testkit::WsClient::connect_from(&url, Some(&token), Some("https://evil.example"))
            .await;
    assert_eq!(
        foreign.err().map(|s| s.as_u16()),
        Some(403),
        "cross-site WebSocket hijacking is refused"
    );
}
