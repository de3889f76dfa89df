// The frames of protocol version 1 (docs/protocol.md; the Rust side is crates/protocol).

/** Offered on every socket; the server answers with it. */
export const SUBPROTOCOL = "livehelp.v1";

/** A Redis stream id `<milliseconds>-<sequence>`; see message-id.ts for ordering. */
export type MessageId = string;
export type SessionId = string;

export type PartyKind = "user" | "operator";

/** Who someone is: the `you` of hello and the `from` of a message. */
export interface Party {
  kind: PartyKind;
  id: string;
  name?: string | null;
}

// Client → server (/chat/ws).

export interface ChatActivate {
  type: "chat.activate";
}

export interface ChatDeactivate {
  type: "chat.deactivate";
}

export interface ChatOpen {
  type: "chat.open";
  /** Users may omit it: they can only open their own session. */
  session?: SessionId;
  after?: MessageId;
}

export interface ChatClose {
  type: "chat.close";
  session: SessionId;
}

export interface ChatSend {
  type: "chat.send";
  cmid: string;
  text: string;
  /** Operators must name the session. */
  session?: SessionId;
}

export type ClientFrame = ChatActivate | ChatDeactivate | ChatOpen | ChatClose | ChatSend;

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
  session: SessionId;
}

export interface ChatMessage {
  type: "chat.message";
  session: SessionId;
  id: MessageId;
  cmid: string;
  from: Party;
  text: string;
  /** RFC 3339, UTC. */
  at: string;
}

export interface ChatState {
  type: "chat.state";
  session: SessionId;
  active: boolean;
}

// Server → operator, /monitor/ws.

export type SessionStatus = "waiting" | "standby" | "on" | "off" | "offline";
export type Availability = "available" | "unavailable" | "observeonly";
export type Mode = "help" | "peer" | "peerhelp";

export interface SessionSummary {
  session: SessionId;
  title: string | null;
  /** Null for an anonymous user. */
  user_name: string | null;
  status: SessionStatus;
  availability: Availability;
  mode: Mode;
  partner_roles: string[];
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

export type ServerFrame =
  | Hello
  | ErrorFrame
  | ChatAck
  | ChatMessage
  | ChatState
  | Sessions
  | SessionChanged
  | SessionGone;
