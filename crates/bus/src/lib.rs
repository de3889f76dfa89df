//! Everything livehelp keeps in Redis, and the only crate that knows Redis key and channel
//! names. Commands go through a deadpool pool; subscriptions through one pub/sub connection
//! per process ([`Hub`]) that reconnects and resubscribes by itself.

mod chat_store;
mod connect;
mod error;
mod hub;
mod keyspace;
mod sessions;

pub use chat_store::{HISTORY_PAGE, Stored, decode_published};
pub use connect::Bus;
pub use error::BusError;
pub use hub::{Hub, Published, Subscription};
pub use keyspace::Keyspace;
pub use sessions::{ALL_SESSIONS, OperatorPresence, SessionRecord};
