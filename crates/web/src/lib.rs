//! HTTP plumbing every livehelp service shares: the JSON error type, authentication,
//! health and metrics endpoints, WebSocket handshakes and limits, and graceful shutdown.

mod admission;
mod auth;
mod context;
mod error;
mod health;
mod origin;
mod rate;
mod server;
mod shutdown;
pub mod ws;

pub use admission::{Admission, Admitted, Refused};
pub use auth::{Authenticator, bearer_token};
pub use context::Context;
pub use error::ApiError;
pub use origin::origin_allowed;
pub use rate::RateLimit;
pub use server::{Server, Stopper};
pub use shutdown::Shutdown;
