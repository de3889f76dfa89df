//! Wire types of livehelp, version 1: ids that cross a trust boundary (parsed once, always
//! valid afterwards) and the frames of every WebSocket. `docs/protocol.md` explains them.
//!
//! This crate does no I/O so that services, the demo host and tests share one definition.

mod chat;
mod conversation;
mod error;
mod frame;
mod id;
mod mirror;
mod monitor;
mod phone;
mod status;

pub use chat::{ChatMessage, MessageId, MessageText, Profile, Sender, SenderKind};
pub use conversation::ConversationId;
pub use error::{ErrorCode, ErrorFrame};
pub use frame::{
    ChatState, ClientFrame, Hello, HelloYou, Partner, PhoneOffer, ServerFrame, decode_client_frame,
};
pub use id::{ClientMessageId, IdError, PartnerRole, SessionId, UserId};
pub use mirror::{
    ConsentKind, MirrorEnvelope, MirrorFrame, MirrorNotice, decode_mirror_frame,
    events_for_observers, events_session, input_for_user,
};
pub use monitor::{ChatSummary, SessionStatus, SessionSummary};
pub use phone::{PhoneError, PhoneNumber};
pub use status::{
    Availability, LiveHelpStatus, MAX_ROLES, MAX_TITLE_LEN, Mode, Roles, StatusPatch,
};

/// The protocol version, offered as the WebSocket subprotocol `livehelp.v1`.
pub const PROTOCOL_VERSION: u32 = 1;
/// The subprotocol naming this version.
pub const SUBPROTOCOL: &str = "livehelp.v1";
/// Browsers pass their token as a second offered subprotocol with this prefix.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "bearer.";
