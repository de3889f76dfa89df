// The operators' monitor page (served by session-monitor at /monitor/). Two sockets:
// /monitor/ws keeps the session list and the operator's own status, /chat/ws carries the
// conversations in the rows.

import { connect, tokenFrom, type ConnectionState } from "./connection";
import { operatorOnly } from "./operator-token";
import { el } from "./dom";
import { MirrorViewer } from "./mirror-viewer";
import { setForwardingOffered } from "./forward-toggle";
import { askPermission } from "./notifications";
import { operatorControls } from "./operator-controls";
import { phoneBox } from "./operator-phone";
import type { ClientFrame, ConversationId, Party, ServerFrame, SessionSummary } from "./protocol";
import { BLOCKED_NOTE, SessionRow } from "./session-row";

// currentScript is only set while the script first runs, so read it now.
const script = document.currentScript as HTMLScriptElement | null;
const tokenUrl = script?.dataset.tokenUrl ?? "/livehelp/token";

const rows = new Map<string, SessionRow>();
let you: Party | undefined;
/** A socket's hello has been answered: frames may go out on it. */
const ready = { monitor: false, chat: false };
const states: Record<"monitor" | "chat", ConnectionState> = { monitor: "connecting", chat: "connecting" };

const container = document.getElementById("livehelp-monitor") ?? document.body;
const status = el("p", { class: "lh-monitor__status", role: "status", "aria-label": "Connection" }, "Connecting…");
const signIn = el("p", { class: "lh-monitor__sign-in", hidden: "" }, el("a", { href: "/login" }, "Sign in as an operator first"));
const controls = operatorControls((frame) => ready.monitor && monitor.send(frame));
const phone = phoneBox((frame) => ready.monitor && monitor.send(frame));
controls.element.append(phone.element);
// Desktop notifications are asked for when the operator becomes available (a click: browsers
// only ask then).
controls.element.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.id === "lh-available" && target.checked) askPermission();
});
const empty = el("p", { class: "lh-monitor__empty", hidden: "" }, "No live sessions.");
const list = el("ul", { class: "lh-sessions", role: "list", "aria-label": "Sessions" });
container.append(status, signIn, controls.element, empty, list);

const token = operatorOnly(tokenFrom(tokenUrl));
const chat = connect("/chat/ws", token, onChatFrame, (state) => onState("chat", state));
const monitor = connect("/monitor/ws", token, onMonitorFrame, (state) => onState("monitor", state));
const links = {
  isOwn: (from: Party) => from.kind === you?.kind && from.id === you?.id,
  chat: (frame: ClientFrame) => ready.chat && chat.send(frame),
  monitor: (frame: ClientFrame) => ready.monitor && monitor.send(frame),
  // Observe and Control: one /mirror/ws socket for the page, opened on first use.
  mirror: new MirrorViewer(token),
  token,
};

function onState(socket: "monitor" | "chat", state: ConnectionState): void {
  ready[socket] = false;
  if (socket === "monitor") {
    controls.setEnabled(false);
    phone.setEnabled(false);
  }
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
    case "hello":
      ready.monitor = true;
      return;
    case "operator.state":
      controls.update(frame);
      controls.setEnabled(true);
      phone.update(frame);
      phone.setEnabled(true);
      setForwardingOffered(frame.voice, frame.phone);
      return;
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
      if (phone.refuse(frame)) return;
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
      // A new chat socket: reopen every conversation after the last message it shows.
      you = frame.you;
      ready.chat = true;
      for (const row of rows.values()) row.reopen();
      return;
    case "chat.message":
      return area(frame.conversation)?.receive(frame);
    case "chat.ack":
      return area(frame.conversation)?.conversation.acknowledge(frame);
    case "chat.typing":
      return area(frame.conversation)?.showTyping(frame);
    case "chat.read":
      return area(frame.conversation)?.conversation.read(frame);
    case "chat.closed":
      return area(frame.conversation)?.end(frame.reason === "blocked" ? BLOCKED_NOTE : "Chat ended");
    case "error":
      for (const row of rows.values()) if (row.refuse(frame)) return;
      status.textContent = frame.message;
      return;
  }
}

/** A conversation's area: `<session>/<user>` and `<session>` live in the session's row. */
function area(id: ConversationId) {
  return rows.get(id.split("/")[0]!)?.area(id);
}

function upsert(summary: SessionSummary): void {
  const existing = rows.get(summary.session);
  if (existing) return existing.update(summary);
  const row = new SessionRow(summary, links);
  rows.set(summary.session, row);
  list.append(row.item);
}

function drop(id: string): void {
  rows.get(id)?.drop();
  rows.delete(id);
}
