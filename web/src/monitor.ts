// The operators' monitor page (served by session-monitor at /monitor/). Two sockets:
// /monitor/ws keeps the session list, /chat/ws carries the conversations in its rows.

import { connect, tokenFrom, type ConnectionState } from "./connection";
import { el } from "./dom";
import type { Hello, Party, ServerFrame, SessionSummary } from "./protocol";
import { sessionRow, type SessionRow } from "./session-row";

// currentScript is only set while the script first runs, so read it now.
const script = document.currentScript as HTMLScriptElement | null;
const tokenUrl = script?.dataset.tokenUrl ?? "/livehelp/token";

const rows = new Map<string, SessionRow>();
let you: Party | undefined;
/** The chat socket's hello has been answered: chat frames may go out. */
let chatReady = false;
const states: Record<"monitor" | "chat", ConnectionState> = { monitor: "connecting", chat: "connecting" };

const container = document.getElementById("livehelp-monitor") ?? document.body;
const status = el("p", { class: "lh-monitor__status", role: "status" }, "Connecting…");
const signIn = el("p", { class: "lh-monitor__sign-in", hidden: "" }, el("a", { href: "/login" }, "Sign in as an operator first"));
const empty = el("p", { class: "lh-monitor__empty", hidden: "" }, "No live sessions.");
const list = el("ul", { class: "lh-sessions", role: "list", "aria-label": "Sessions" });
container.append(status, signIn, empty, list);

const token = tokenFrom(tokenUrl);
const chat = connect("/chat/ws", token, onChatFrame, (state) => onState("chat", state));
connect("/monitor/ws", token, onMonitorFrame, (state) => onState("monitor", state));

function onState(socket: "monitor" | "chat", state: ConnectionState): void {
  if (socket === "chat") chatReady = false;
  // A retry's "connecting" keeps the reason for the retry on screen instead of flickering.
  if (state !== "connecting") states[socket] = state;
  const all = Object.values(states);
  signIn.hidden = !all.includes("signed-out");
  if (all.includes("signed-out")) status.textContent = "Not signed in.";
  else if (all.includes("closed")) status.textContent = "Connection lost. Reconnecting…";
  else if (all.every((s) => s === "open")) status.textContent = "Connected.";
}

function onMonitorFrame(frame: ServerFrame): void {
  switch (frame.type) {
    case "sessions": {
      // The whole list, also after a reconnect: rows it no longer has are gone.
      const present = new Set(frame.sessions.map((s) => s.session));
      for (const id of rows.keys()) if (!present.has(id)) drop(id);
      frame.sessions.forEach(upsert);
      break;
    }
    case "session":
      upsert(frame.session);
      break;
    case "session.gone":
      drop(frame.session);
      break;
    case "error":
      status.textContent = frame.message;
      return;
    default:
      return;
  }
  empty.hidden = rows.size > 0;
}

function onChatFrame(frame: ServerFrame): void {
  switch (frame.type) {
    case "hello":
      return greet(frame);
    case "chat.message":
      rows.get(frame.session)?.conversation.receive(frame);
      return;
    case "chat.ack":
      rows.get(frame.session)?.conversation.acknowledge(frame);
      return;
    case "error":
      for (const row of rows.values()) if (row.conversation.refuse(frame)) return;
      status.textContent = frame.message;
      return;
  }
}

/** A new chat socket: reopen every row's conversation after the last message it has. */
function greet(hello: Hello): void {
  you = hello.you;
  chatReady = true;
  for (const id of rows.keys()) open(id);
}

function open(id: string): void {
  const conversation = rows.get(id)!.conversation;
  const after = conversation.after;
  chat.send(after === undefined ? { type: "chat.open", session: id } : { type: "chat.open", session: id, after });
  conversation.resend();
}

function upsert(summary: SessionSummary): void {
  const existing = rows.get(summary.session);
  if (existing) return existing.update(summary);
  const row = sessionRow(
    summary,
    (from) => from.kind === you?.kind && from.id === you?.id,
    (frame) => chatReady && chat.send(frame),
  );
  rows.set(summary.session, row);
  list.append(row.item);
  if (chatReady) open(summary.session);
}

function drop(id: string): void {
  const row = rows.get(id);
  if (!row) return;
  row.item.remove();
  row.conversation.discard();
  rows.delete(id);
  if (chatReady) chat.send({ type: "chat.close", session: id });
}
