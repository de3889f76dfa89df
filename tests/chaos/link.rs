//! One WebSocket that may die at any moment: connecting and every read or write report
//! failure instead of panicking, because under chaos a dead connection is normal and the
//! caller reconnects. (testkit's `WsClient` panics on anything unexpected, as tests want.)

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A handshake slower than this counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Link {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Link {
    /// Connects as a browser does (`livehelp.v1` and the token as `bearer.` subprotocol).
    pub async fn connect(url: &str, token: &str) -> Result<Self, String> {
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        let protocols = format!("livehelp.v1, bearer.{token}");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            protocols.parse().map_err(|_| "bad token".to_owned())?,
        );
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request)).await
        {
            Ok(Ok((stream, _))) => Ok(Self { stream }),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("handshake timed out".to_owned()),
        }
    }

    /// Sends a frame; false when the connection is gone.
    pub async fn send(&mut self, frame: &Value) -> bool {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .is_ok()
    }

    /// The next JSON frame, or `None` once the connection closed or broke. Cancel-safe:
    /// dropping it between frames loses nothing.
    pub async fn recv(&mut self) -> Option<Value> {
        loop {
            match self.stream.next().await? {
                Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}
