// The live-help widget that host pages embed:
//   <script src="/static/livehelp/widget.js" data-token-url="/livehelp/token" defer></script>
// It talks to /chat/ws as the signed-in user of the host page.

import { connect, tokenFrom, type Connection, type ConnectionState } from "./connection";
import { Conversation } from "./conversation";
import type { Hello, Party, ServerFrame } from "./protocol";
import { load, save } from "./storage";
import { mountPanel, type WidgetPanel } from "./widget-panel";

// currentScript is only set while the script first runs, so read it now.
const script = document.currentScript as HTMLScriptElement | null;
const tokenUrl = script?.dataset.tokenUrl ?? "/livehelp/token";
// The stylesheet sits next to the script; host pages only include the script.
const stylesheet = script?.src ? new URL("livehelp.css", script.src).href : undefined;

let panel: WidgetPanel;
let chat: Connection;
let you: Party | undefined;
let session: string | undefined;
let conversation: Conversation | undefined;
let active = false;
/** The socket is open and its hello has been answered: sends may go out. */
let ready = false;

const activeKey = (s: string) => `livehelp.chat.active.${s}`;

function start(): void {
  if (stylesheet && !Array.from(document.querySelectorAll("link")).some((l) => l.href === stylesheet)) {
    document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: stylesheet }));
  }
  panel = mountPanel(toggleChat, (text) => conversation?.send(text));
  panel.setStatus("Connecting…");
  chat = connect("/chat/ws", tokenFrom(tokenUrl), onFrame, onState);
}

function onState(state: ConnectionState): void {
  ready = false;
  panel.setAvailable(false);
  if (state === "closed") panel.setStatus("Connection lost. Reconnecting…");
  if (state === "signed-out") panel.setStatus("Sign in to use live help.");
}

function onFrame(frame: ServerFrame): void {
  switch (frame.type) {
    case "hello":
      return greet(frame);
    case "chat.message":
      if (frame.session === session) conversation?.receive(frame);
      return;
    case "chat.ack":
      if (frame.session === session) conversation?.acknowledge(frame);
      return;
    case "chat.state":
      if (frame.session === session) setActive(frame.active);
      return;
    case "error":
      if (!conversation?.refuse(frame)) panel.setStatus(frame.message);
      return;
  }
}

/** A new socket: resume the conversation where this tab left it. */
function greet(hello: Hello): void {
  you = hello.you;
  if (hello.session !== session || !conversation) {
    session = hello.session ?? "";
    conversation = new Conversation({
      log: panel.log,
      storageKey: `livehelp.chat.${session}`,
      isOwn: (from) => from.kind === you?.kind && from.id === you?.id,
      transmit: (frame) => ready && chat.send(frame),
    });
    active = load(activeKey(session)) === true;
  }
  ready = true;
  panel.setAvailable(true);
  const after = conversation.after;
  chat.send(after === undefined ? { type: "chat.open" } : { type: "chat.open", after });
  // Activation first: the server takes sends only in an active chat.
  if (active) chat.send({ type: "chat.activate" });
  conversation.resend();
  setActive(active);
}

/** Only clickable while connected (see setAvailable), so the server always hears of it. */
function toggleChat(): void {
  setActive(!active);
  chat.send({ type: active ? "chat.activate" : "chat.deactivate" });
}

function setActive(value: boolean): void {
  active = value;
  if (session !== undefined) save(activeKey(session), value);
  panel.setActive(value);
  if (ready) panel.setStatus(value ? "Chat is on." : "Chat is off.");
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
