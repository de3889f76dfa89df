// The live-help widget that host pages embed:
//   <script src="/static/livehelp/widget.js" data-token-url="/livehelp/token" defer></script>
// It talks to /chat/ws as the signed-in user of the host page and follows the server's
// chat.state: which conversation is the user's, whether chat is on, who helps.

import { canActivate, describe, isPossible } from "./chat-situation";
import { connect, tokenFrom, type Connection, type ConnectionState } from "./connection";
import { Conversation } from "./conversation";
import { startMirror } from "./mirror-recorder";
import { PhoneOfferView } from "./phone-offer";
import type { ChatState, ConversationId, Party, ServerFrame } from "./protocol";
import { TypingIndicator } from "./typing-indicator";
import { TypingSender } from "./typing-sender";
import { mountPanel, type WidgetPanel } from "./widget-panel";

// currentScript is only set while the script first runs, so read it now.
const script = document.currentScript as HTMLScriptElement | null;
const tokenUrl = script?.dataset.tokenUrl ?? "/livehelp/token";
// The stylesheet sits next to the script; host pages only include the script.
const stylesheet = script?.src ? new URL("livehelp.css", script.src).href : undefined;

let panel: WidgetPanel;
let chat: Connection;
let you: Party | undefined;
let state: ChatState | undefined;
let conversation: Conversation | undefined;
/** The socket is open and the conversation opened on it: chat frames may go out. */
let opened = false;
let connection = "Connecting…";
/** Chat was enabled at some point on this page: the launcher stays visible from then on. */
let everEnabled = false;
let operatorLeft = false;
/** The last refusal not about a message, until the next chat.state. */
let notice: string | undefined;

const typists = new TypingIndicator();
const typing = new TypingSender((value) => {
  if (opened && conversation) chat.send({ type: "chat.typing", typing: value, conversation: conversation.id });
});
const isOwn = (from: Party) => from.kind === you?.kind && from.id === you?.id;
/** "Call <number> and enter the code <code>" while an operator forwards calls (SPEC §8). */
const phoneOffer = new PhoneOfferView(() => render());

function start(): void {
  if (stylesheet && !Array.from(document.querySelectorAll("link")).some((l) => l.href === stylesheet)) {
    document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: stylesheet }));
  }
  panel = mountPanel(typing, typists, toggleChat, (text) => conversation?.send(text));
  panel.log.before(phoneOffer.element);
  render();
  chat = connect("/chat/ws", tokenFrom(tokenUrl), onFrame, onConnection);
  // Screen mirroring (SPEC §7): records the page only while an operator observes it.
  startMirror(tokenUrl, script?.dataset.maskSelectors);
}

function onConnection(socket: ConnectionState): void {
  opened = false;
  if (socket === "closed") connection = "Connection lost. Reconnecting…";
  if (socket === "signed-out") connection = "Sign in to use live help.";
  render();
}

function onFrame(frame: ServerFrame): void {
  switch (frame.type) {
    case "hello":
      // The chat.state that follows says which conversation to (re)open.
      you = frame.you;
      opened = false;
      return;
    case "chat.state":
      return follow(frame);
    case "chat.message":
      if (frame.conversation === conversation?.id && conversation.receive(frame)) typists.stopped(frame.from);
      return;
    case "chat.ack":
      if (frame.conversation === conversation?.id) conversation.acknowledge(frame);
      return;
    case "chat.typing":
      if (frame.conversation === conversation?.id) typists.update(frame.from, frame.typing);
      return;
    case "chat.read":
      if (frame.conversation === conversation?.id) conversation.read(frame);
      return;
    case "error":
      if (conversation?.refuse(frame)) return;
      notice = frame.message;
      return render();
  }
}

function follow(next: ChatState): void {
  if (state?.active && state.operator && next.active && !next.operator) operatorLeft = true;
  else if (!next.active || next.operator) operatorLeft = false;
  state = next;
  everEnabled ||= next.enabled;
  notice = undefined;
  phoneOffer.show(next.phone);
  if (next.conversation !== conversation?.id) switchTo(next.conversation);
  if (!opened) resume(conversation!);
  render();
}

/** A new conversation (first state, or the mode changed): show its log instead. */
function switchTo(id: ConversationId): void {
  typing.stop();
  typists.reset();
  if (conversation) {
    conversation.stop();
    if (opened) chat.send({ type: "chat.close", conversation: conversation.id });
  }
  opened = false;
  conversation = new Conversation({
    log: panel.log,
    id,
    storageKey: `livehelp.chat.${id}`,
    isOwn,
    isReader: (by) => !isOwn(by),
    transmit: (frame) => opened && chat.send(frame),
  });
}

/** Opens the conversation after the last message shown; the server picks which is ours. */
function resume(c: Conversation): void {
  const after = c.after;
  opened = chat.send(after === undefined ? { type: "chat.open" } : { type: "chat.open", after });
  if (opened) c.resend();
}

/** The server remembers whether chat is on; the panel follows its next chat.state. */
function toggleChat(): void {
  if (state) chat.send({ type: state.active ? "chat.deactivate" : "chat.activate" });
}

function render(): void {
  const live = opened && state !== undefined ? state : undefined;
  // An offered call shows the launcher even where chat never was possible (observe-only).
  panel.setLauncher(!everEnabled && !phoneOffer.shown ? "hidden" : live && isPossible(live) ? "available" : "unavailable");
  panel.setStatus(live ? [...describe(live, operatorLeft), ...(notice ? [notice] : [])] : [connection]);
  panel.setToggle(state?.active ?? false, live !== undefined && (live.active || canActivate(live)));
  panel.composer.setEnabled(live?.active ?? false);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
