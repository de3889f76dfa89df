//! What a payload of a session's chat channel becomes for the sockets that receive it:
//! decoded, and a message's frame made, once per process however many of its sockets
//! receive it (a peer session of a thousand members costs one parse per message, not a
//! thousand).

use bytestring::ByteString;
use livehelp_bus::{
    Arrival, ChatEvent, ChatPayload, Published, PublishedMessage, decode_published,
};

pub enum Delivery {
    Message {
        /// What the message is routed by (its frame taken out).
        message: PublishedMessage,
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
            Ok(ChatPayload::Message(mut message)) => Self::Message {
                frame: std::mem::take(&mut message.frame).into(),
                message,
            },
            Ok(ChatPayload::Event(event)) => Self::Event(event),
            Err(e) => Self::Corrupt(e.to_string()),
        }
    }
}
