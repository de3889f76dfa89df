//! Everything livehelp keeps in Redis, and the only crate that knows Redis key and channel
//! names. Commands share a few pipelined connections (or the cluster client's); subscriptions
//! through one pub/sub connection per process ([`Hub`]) that reconnects and resubscribes by
//! itself. One server, Sentinel and Redis Cluster are all supported ([`Topology`]).

mod audit;
mod chat_payload;
mod chat_store;
mod chats;
mod commands;
mod connect;
mod error;
mod events;
mod hub;
mod inbox;
mod keyspace;
mod mirror;
mod multiplexed;
mod operators;
mod pool;
mod sessions;
mod store_batches;
mod topology;
mod upkeep;
mod voice;

pub use audit::AuditEntry;
pub use chat_payload::{ChatPayload, PublishedMessage, decode_published};
pub use chat_store::{
    CMIDS_HASHED_FROM, CMIDS_MARKER_FIELD, CMIDS_PER_INDEX, HISTORY_PAGE,
    MAX_MESSAGES_PER_CONVERSATION, PendingStore, Stored,
};
pub use chats::{ChatRecord, Release, conversation_for};
pub use connect::Bus;
pub use error::BusError;
pub use events::ChatEvent;
pub use hub::{Arrival, Hub, Mailbox, Membership, Published, Subscription};
pub use inbox::Inbox;
pub use keyspace::Keyspace;
pub use operators::OperatorStatus;
pub use sessions::{ALL_SESSIONS, SessionRecord};
pub use topology::Topology;
pub use upkeep::UPKEEP_EVERY;
pub use voice::{IssuedCode, VOICE_CODE_DIGITS, VoiceClaim, VoiceOffer, is_voice_code};
