//! What a payload of a session's chat channel becomes for the sockets that receive it:
//! decoded, and a message's frame encoded, once per process however many of its sockets
//! receive it (a peer session of a thousand members costs one parse and one encode per
//! message, not a thousand).

use bytestring::ByteString;
use livehelp_bus::{Arrival, ChatEvent, ChatPayload, Published, decode_published};
use livehelp_protocol::{ChatMessage, ServerFrame};

pub enum Delivery {
    Message {
        message: ChatMessage,
        /// The `chat.message` frame, ready to send.
        frame: ByteString,
    },
    Event(ChatEvent),
    Corrupt(String),
}

impl Delivery {
    /// The arrival's delivery, decoded by the first socket to ask.
    pub fn of(arrival: &Arrival) -> &Self {
        const UNDECODED: &Delivery = &Delivery::Corrupt(String::new());
        arrival.decoded(Self::decode).unwrap_or(UNDECODED)
    }

    fn decode(published: &Published) -> Self {
        match decode_published(&published.payload) {
            Ok(ChatPayload::Message(message)) => Self::Message {
                frame: ServerFrame::ChatMessage(message.clone()).to_json().into(),
                message,
            },
            Ok(ChatPayload::Event(event)) => Self::Event(event),
            Err(e) => Self::Corrupt(e.to_string()),
        }
    }
}
