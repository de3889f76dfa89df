// The frames of the screen-mirror socket, /mirror/ws (docs/protocol.md, "Screen mirror";
// the Rust side is crates/protocol/src/mirror.rs). rrweb events pass through the server
// untouched, so they are plain objects here; the actions of mirror.input are in
// mirror-control.ts.

import type { Partner, SessionId } from "./protocol";

/** An rrweb event as the recorder emits it and the replayer takes it. */
export interface RrwebEvent {
  type: number;
  data: unknown;
  timestamp: number;
}

export type ConsentKind = "observe" | "control";

// User → server.

export interface MirrorEventsSent {
  type: "mirror.events";
  events: RrwebEvent[];
}

export interface MirrorStop {
  type: "mirror.stop";
}

export interface MirrorConsent {
  type: "mirror.consent";
  kind: ConsentKind;
  operator: string;
  granted: boolean;
}

// Operator → server.

export interface MirrorObserve {
  type: "mirror.observe";
  session: SessionId;
  on: boolean;
}

export interface MirrorControlSent {
  type: "mirror.control";
  session: SessionId;
  on: boolean;
}

export interface MirrorInputSent {
  type: "mirror.input";
  session: SessionId;
  /** See RemoteAction in mirror-control.ts. */
  action: unknown;
}

export type MirrorClientFrame =
  | MirrorEventsSent
  | MirrorStop
  | MirrorConsent
  | MirrorObserve
  | MirrorControlSent
  | MirrorInputSent;

// Server → client.

/** To observers: the user's events, as the user's page sent them. */
export interface MirrorEvents {
  type: "mirror.events";
  session: SessionId;
  events: RrwebEvent[];
}

/** To the user: an observer arrived; send a full snapshot. */
export interface MirrorSnapshot {
  type: "mirror.snapshot";
}

/** To the user: how many operators view the screen now. */
export interface MirrorWatchers {
  type: "mirror.watchers";
  count: number;
}

/** To both: who controls the screen (null: the user). */
export interface MirrorControl {
  type: "mirror.control";
  session: SessionId;
  controller: Partner | null;
}

/** To the user: the controlling operator's edit or click. */
export interface MirrorInput {
  type: "mirror.input";
  action: unknown;
}

/** To observers: the view ended. */
export interface MirrorEnded {
  type: "mirror.ended";
  session: SessionId;
  reason: string;
}

/** To the user: the host requires consent; may this operator observe or control? */
export interface MirrorAsk {
  type: "mirror.ask";
  session: SessionId;
  kind: ConsentKind;
  operator: Partner;
}

/** To the operator: waiting for the user's answer. */
export interface MirrorPending {
  type: "mirror.pending";
  session: SessionId;
  kind: ConsentKind;
}

/** To observers: the user's answer to an operator's request. */
export interface MirrorAnswer {
  type: "mirror.answer";
  session: SessionId;
  kind: ConsentKind;
  operator: string;
  granted: boolean;
}

export type MirrorServerFrame =
  | MirrorEvents
  | MirrorSnapshot
  | MirrorWatchers
  | MirrorControl
  | MirrorInput
  | MirrorEnded
  | MirrorAsk
  | MirrorPending
  | MirrorAnswer;
