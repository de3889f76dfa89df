//! The authorisation matrix (SPEC §3, §10): every HTTP endpoint and every socket, tried as
//! anonymous, a user of another session, a user of the session, staff without an operator
//! privilege, an operator and the host's API key. Only the allowed ones succeed.

use livehelp_e2e::Cluster;
use livehelp_testkit::{HOST_API_KEY, Identities, WsClient};
use serde_json::json;

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    OtherUser,
    User,
    Staff,
    Operator,
    Host,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::OtherUser,
    Who::User,
    Who::Staff,
    Who::Operator,
    Who::Host,
];

fn token(ids: &Identities, who: Who) -> Option<String> {
    match who {
        Who::Anonymous => None,
        Who::OtherUser => Some(ids.user("u-other", "elsewhere", None)),
        Who::User => Some(ids.user("u-own", "az", Some("Own"))),
        Who::Staff => Some(ids.staff("clerk")),
        Who::Operator => Some(ids.operator("o-1", Some("Olivia"))),
        Who::Host => Some(HOST_API_KEY.to_owned()),
    }
}

/// The status each caller gets, in the order of [`EVERYONE`].
fn expect(method: &str, path: &str, statuses: [u16; 6]) -> (String, String, [u16; 6]) {
    (method.to_owned(), path.to_owned(), statuses)
}

#[actix_web::test]
async fn every_http_endpoint_answers_only_its_callers() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    let http = reqwest::Client::new();
    let status_body =
        json!({"availability": "available", "mode": "help", "partner_roles": "advocate"});
    //                                                              anon other user staff op   host
    let matrix = [
        expect(
            "PUT",
            "/chat/api/sessions/az/status",
            [401, 403, 403, 403, 200, 200],
        ),
        expect(
            "GET",
            "/chat/api/sessions/az/status",
            [401, 403, 200, 403, 200, 200],
        ),
        expect(
            "GET",
            "/chat/api/sessions/az/partners",
            [401, 403, 200, 403, 200, 200],
        ),
        expect(
            "GET",
            "/chat/api/sessions/az/log",
            [401, 403, 200, 403, 200, 200],
        ),
        expect(
            "GET",
            "/chat/api/sessions/az/audit",
            [401, 403, 403, 403, 200, 200],
        ),
        expect(
            "POST",
            "/monitor/api/sessions/az/join",
            [401, 403, 403, 403, 200, 401],
        ),
    ];
    for (method, path, statuses) in matrix {
        for (who, want) in EVERYONE.into_iter().zip(statuses) {
            let mut request = match method.as_str() {
                "PUT" => http.put(cluster.url(&path)).json(&status_body),
                "POST" => http.post(cluster.url(&path)),
                _ => http.get(cluster.url(&path)),
            };
            if let Some(t) = token(&ids, who) {
                request = request.bearer_auth(t);
            }
            let response = request.send().await.expect("http");
            let got = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            assert_eq!(got, want, "{method} {path} as {who:?}: {body}");
            if got >= 400 {
                assert!(
                    body["error"]["code"].is_string(),
                    "{method} {path} as {who:?}: errors are JSON with a code"
                );
            }
        }
    }
}

#[actix_web::test]
async fn every_socket_admits_only_its_identities() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    //                         anon other user staff op   (host keys open no sockets)
    let matrix = [
        ("/chat/ws", [401, 101, 101, 403, 101]),
        ("/monitor/ws", [401, 403, 403, 403, 101]),
        ("/mirror/ws", [401, 101, 101, 403, 101]),
    ];
    for (path, statuses) in matrix {
        for (who, want) in EVERYONE.into_iter().zip(statuses) {
            let got =
                match WsClient::connect(&cluster.ws_url(path), token(&ids, who).as_deref()).await {
                    Ok(_) => 101,
                    Err(status) => status.as_u16(),
                };
            assert_eq!(got, want, "{path} as {who:?}");
        }
    }
}

#[actix_web::test]
async fn every_frame_type_is_authorised_not_just_the_handshake() {
    let cluster = Cluster::start().await.expect("cluster");
    let ids = Identities::default();
    reqwest::Client::new()
        .put(cluster.url("/chat/api/sessions/az/status"))
        .bearer_auth(HOST_API_KEY)
        .json(&json!({"availability": "available", "mode": "help", "partner_roles": "advocate"}))
        .send()
        .await
        .expect("host api");

    // A user of another session: every chat frame naming this session is refused.
    let mut other = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        token(&ids, Who::OtherUser).as_deref(),
    )
    .await
    .expect("ws");
    for frame in [
        json!({"type": "chat.open", "conversation": "az/u-own"}),
        json!({"type": "chat.send", "cmid": "x", "text": "hi", "conversation": "az/u-own"}),
        json!({"type": "chat.typing", "typing": true, "conversation": "az/u-own"}),
        json!({"type": "chat.read", "up_to": "1-0", "conversation": "az/u-own"}),
    ] {
        other.send_json(frame.clone()).await;
        assert_eq!(
            other.next_of_type("error").await["code"],
            "forbidden",
            "{frame}"
        );
    }
    // Users may not use operator frames on any socket.
    for frame in [
        json!({"type": "operator.status", "available": true, "roles": []}),
        json!({"type": "session.block", "session": "az"}),
    ] {
        other.send_json(frame.clone()).await;
        assert_eq!(
            other.next_of_type("error").await["code"],
            "bad_frame",
            "{frame}"
        );
    }
    let mut user_mirror = WsClient::connect(
        &cluster.ws_url("/mirror/ws"),
        token(&ids, Who::User).as_deref(),
    )
    .await
    .expect("ws");
    for frame in [
        json!({"type": "mirror.observe", "session": "az", "on": true}),
        json!({"type": "mirror.control", "session": "az", "on": true}),
        json!({"type": "mirror.input", "session": "az", "action": {}}),
    ] {
        user_mirror.send_json(frame.clone()).await;
        assert_eq!(
            user_mirror.next_of_type("error").await["code"],
            "forbidden",
            "{frame}"
        );
    }
    // Operators may not stream a user's screen or act as the user.
    let mut op_mirror = WsClient::connect(
        &cluster.ws_url("/mirror/ws"),
        token(&ids, Who::Operator).as_deref(),
    )
    .await
    .expect("ws");
    op_mirror
        .send_json(json!({"type": "mirror.events", "events": []}))
        .await;
    assert_eq!(op_mirror.next_of_type("error").await["code"], "forbidden");
    let mut op_chat = WsClient::connect(
        &cluster.ws_url("/chat/ws"),
        token(&ids, Who::Operator).as_deref(),
    )
    .await
    .expect("ws");
    op_chat.send_json(json!({"type": "chat.activate"})).await;
    assert_eq!(op_chat.next_of_type("error").await["code"], "forbidden");
    op_chat.send_json(json!({"type": "chat.send", "cmid": "o", "text": "unopened", "conversation": "az/u-own"})).await;
    assert_eq!(op_chat.next_of_type("error").await["code"], "forbidden");
}
