//! A WebSocket client that speaks the livehelp protocol's JSON frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, http};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects as a browser does: the token as a `bearer.` subprotocol next to
    /// `livehelp.v1`. Fails with the HTTP status when the handshake is refused.
    pub async fn connect(url: &str, token: Option<&str>) -> Result<Self, http::StatusCode> {
        Self::connect_from(url, token, None).await
    }

    /// Connects as a page of `origin` would (browsers always send `Origin`).
    pub async fn connect_from(
        url: &str,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Self, http::StatusCode> {
        let mut request = url
            .into_client_request()
            .map_err(|_| http::StatusCode::BAD_REQUEST)?;
        if let Some(origin) = origin {
            let value = origin.parse().map_err(|_| http::StatusCode::BAD_REQUEST)?;
            request.headers_mut().insert("Origin", value);
        }
        let protocols = match token {
            Some(t) => format!("livehelp.v1, bearer.{t}"),
            None => "livehelp.v1".to_owned(),
        };
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            protocols
                .parse()
                .map_err(|_| http::StatusCode::BAD_REQUEST)?,
        );
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => {
                assert_eq!(
                    response
                        .headers()
                        .get("sec-websocket-protocol")
                        .and_then(|v| v.to_str().ok()),
                    Some("livehelp.v1"),
                    "the server must answer with the protocol version"
                );
                Ok(Self { stream })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status()),
            Err(e) => panic!("websocket connect to {url} failed: {e}"),
        }
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("send a frame");
    }

    pub async fn send_message(&mut self, message: Message) -> Result<(), String> {
        self.stream.send(message).await.map_err(|e| e.to_string())
    }

    /// The next text frame as JSON; panics on timeout or close.
    pub async fn next_json(&mut self) -> Value {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    return serde_json::from_str(&t).expect("server frames are JSON");
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Skips frames until one of the given type arrives.
    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_json().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Waits for the server to close the connection and returns its close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame,
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return None,
                Err(_) => panic!("the server did not close the connection"),
            }
        }
    }
}

impl WsClient {
    /// The next text frame, or the close frame (if any) when the server closes.
    pub async fn next_frame_or_close(&mut self) -> Result<Value, Option<CloseFrame>> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    return Ok(serde_json::from_str(&t).expect("server frames are JSON"));
                }
                Ok(Some(Ok(Message::Close(frame)))) => return Err(frame),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return Err(None),
                Err(_) => panic!("no frame within {WAIT:?}"),
            }
        }
    }
}
