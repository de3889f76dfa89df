// The frames of protocol version 1 (docs/protocol.md; the Rust side is crates/protocol).

import type { MirrorClientFrame, MirrorServerFrame } from "./mirror-protocol";

/** Offered on every socket; the server answers with it. */
export const SUBPROTOCOL = "livehelp.v1";

/** A Redis stream id `<milliseconds>-<sequence>`; see message-id.ts for ordering. */
export type MessageId = string;
export type SessionId = string;
/** `<session>/<user>` for a user's private help chat, `<session>` for the session's group. */
export type ConversationId = string;

export type PartyKind = "user" | "operator";

/** Who someone is: the `you` of hello and the `from` of a message. */
export interface Party {
  kind: PartyKind;
  id: string;
  name?: string | null;
}

// Client → server, /chat/ws. Users may leave the conversation out: theirs, by the mode.

export interface ChatActivate {
  type: "chat.activate";
}

export interface ChatDeactivate {
  type: "chat.deactivate";
}

export interface ChatOpen {
  type: "chat.open";
  conversation?: ConversationId;
  after?: MessageId;
}

export interface ChatClose {
  type: "chat.close";
  conversation: ConversationId;
}

export interface ChatSend {
  type: "chat.send";
  cmid: string;
  text: string;
  conversation?: ConversationId;
}

export interface ChatTypingSent {
  type: "chat.typing";
  typing: boolean;
  conversation?: ConversationId;
}

export interface ChatReadSent {
  type: "chat.read";
  up_to: MessageId;
  conversation?: ConversationId;
}

// Operator → server, /monitor/ws.

export interface OperatorStatus {
  type: "operator.status";
  available: boolean;
  roles: string[];
}

export interface SessionBlock {
  type: "session.block" | "session.unblock";
  session: SessionId;
}

/** The number calls are forwarded to, E.164; null clears it. */
export interface OperatorPhone {
  type: "operator.phone";
  phone: string | null;
}

/** Hides an offline row from this operator's list until its user comes back. */
export interface SessionDismiss {
  type: "session.dismiss";
  session: SessionId;
}

export type ClientFrame =
  | MirrorClientFrame
  | ChatActivate
  | ChatDeactivate
  | ChatOpen
  | ChatClose
  | ChatSend
  | ChatTypingSent
  | ChatReadSent
  | OperatorStatus
  | SessionBlock
  | OperatorPhone
  | SessionDismiss;

// Server → client, every path.

export interface Hello {
  type: "hello";
  protocol: number;
  you: Party;
  /** Users only. */
  session?: SessionId;
  heartbeat_seconds: number;
}

export type ErrorCode =
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "invalid"
  | "bad_frame"
  | "too_large"
  | "rate_limited"
  | "unavailable"
  | "internal";

export interface ErrorFrame {
  type: "error";
  code: ErrorCode;
  message: string;
  /** The cmid of the frame that caused it, when it had one. */
  ref?: string;
}

// Server → client, /chat/ws.

export interface ChatAck {
  type: "chat.ack";
  cmid: string;
  id: MessageId;
  conversation: ConversationId;
}

export interface ChatMessage {
  type: "chat.message";
  conversation: ConversationId;
  id: MessageId;
  cmid: string;
  from: Party;
  text: string;
  /** RFC 3339, UTC. */
  at: string;
}

export type Mode = "help" | "peer" | "peerhelp";

/** Who is helping a user. */
export interface Partner {
  id: string;
  name: string | null;
}

/** Users only: their whole chat situation, sent on connect and whenever it changes. */
export interface ChatState {
  type: "chat.state";
  session: SessionId;
  /** The conversation the user chats in under the current mode. */
  conversation: ConversationId;
  mode: Mode;
  /** The host made chat available. */
  enabled: boolean;
  /** The user turned chat on. */
  active: boolean;
  blocked: boolean;
  /** Operators who could take a help chat now. */
  help: number;
  /** Other users of the session connected now. */
  peer: number;
  /** The operator attached to the user's help chat. */
  operator: Partner | null;
  /** 1-based place in the queue while waiting for an operator. */
  queue_position: number | null;
  /** An operator turned "Forward calls" on for the session: null when there is no live offer. */
  phone?: PhoneOffer | null;
}

/** Call `number` (the service's, never the operator's) and enter `code` until `expires_at`. */
export interface PhoneOffer {
  number: string;
  code: string;
  /** RFC 3339, UTC. */
  expires_at: string;
}

export interface ChatTyping {
  type: "chat.typing";
  conversation: ConversationId;
  from: Party;
  typing: boolean;
}

export interface ChatRead {
  type: "chat.read";
  conversation: ConversationId;
  by: Party;
  up_to: MessageId;
}

/** Operators only: they may no longer take part in the conversation. */
export interface ChatClosed {
  type: "chat.closed";
  conversation: ConversationId;
  reason: string;
}

// Server → operator, /monitor/ws.

export type SessionStatus = "waiting" | "standby" | "on" | "off" | "offline";
export type Availability = "available" | "unavailable" | "observeonly";

/** A chat turned on in a session; a help chat's operator is null while it waits. */
export interface ChatSummary {
  conversation: ConversationId;
  user_name: string | null;
  operator: Partner | null;
}

export interface SessionSummary {
  session: SessionId;
  title: string | null;
  /** Null for an anonymous user. */
  user_name: string | null;
  status: SessionStatus;
  availability: Availability;
  mode: Mode;
  partner_roles: string[];
  blocked: boolean;
  chats: ChatSummary[];
}

export interface Sessions {
  type: "sessions";
  sessions: SessionSummary[];
}

export interface SessionChanged {
  type: "session";
  session: SessionSummary;
}

export interface SessionGone {
  type: "session.gone";
  session: SessionId;
}

/** The operator's own settings, and the roles live sessions asked for recently. */
export interface OperatorState {
  type: "operator.state";
  available: boolean;
  roles: string[];
  known_roles: string[];
  /** The number calls are forwarded to (E.164), or null. */
  phone: string | null;
  /** Call forwarding is configured: offer the "Forward calls" toggle. */
  voice: boolean;
}

export type ServerFrame =
  | MirrorServerFrame
  | Hello
  | ErrorFrame
  | ChatAck
  | ChatMessage
  | ChatState
  | ChatTyping
  | ChatRead
  | ChatClosed
  | Sessions
  | SessionChanged
  | SessionGone
  | OperatorState;
