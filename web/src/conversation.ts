// One session's conversation as one participant sees it, shared by the widget and the
// monitor. It gives the page exactly-once display over an at-least-once wire:
// - messages not newer than the last one seen are dropped (resends, resumed history);
// - own sends are shown at once as pending, kept until acknowledged and resent with the
//   same cmid after a reconnect, so the server stores each once;
// - the log, the last seen id and the unacknowledged sends are kept in sessionStorage, so
//   a reload shows the log and resumes with `chat.open {after}` instead of starting over.

import { bubble, setNote } from "./bubble";
import { isNewer } from "./message-id";
import type { ChatAck, ChatMessage, ChatSend, ErrorFrame, MessageId, Party } from "./protocol";
import { forget, load, save } from "./storage";

/** How many messages a reload restores; older ones are only on the server. */
const KEPT_MESSAGES = 200;

interface Shown {
  id: MessageId;
  own: boolean;
  name: string;
  text: string;
  at: string;
}

interface Snapshot {
  lastSeen?: MessageId;
  messages: Shown[];
  /** Sends not yet acknowledged: a reload resends them. */
  unacked: { cmid: string; text: string }[];
}

interface Outgoing {
  text: string;
  node: HTMLElement;
  acked: boolean;
}

export interface ConversationOptions {
  /** The role="log" element; the conversation owns its children. */
  log: HTMLElement;
  storageKey: string;
  /** Named in chat.send: operators must, users need not. */
  session?: string;
  isOwn(from: Party): boolean;
  /** Sends a frame if the socket is ready; false keeps the send for `resend()`. */
  transmit(frame: ChatSend): boolean;
}

export class Conversation {
  private lastSeen: MessageId | undefined;
  private messages: Shown[] = [];
  /** Own sends shown below the stored messages until their chat.message arrives. */
  private outgoing = new Map<string, Outgoing>();

  constructor(private readonly options: ConversationOptions) {
    options.log.replaceChildren();
    const snapshot = load(options.storageKey) as Partial<Snapshot> | undefined;
    this.lastSeen = snapshot?.lastSeen;
    for (const shown of snapshot?.messages ?? []) this.show(shown);
    for (const { cmid, text } of snapshot?.unacked ?? []) this.addOutgoing(cmid, text);
  }

  /** For `chat.open {after}`: the newest message id this page has shown. */
  get after(): MessageId | undefined {
    return this.lastSeen;
  }

  send(text: string): void {
    const cmid = newCmid();
    this.addOutgoing(cmid, text);
    this.persist();
    this.transmit(cmid, text);
  }

  /** After a reconnect's `chat.open`: the server stores a repeated cmid only once. */
  resend(): void {
    for (const [cmid, o] of this.outgoing) if (!o.acked) this.transmit(cmid, o.text);
  }

  acknowledge(ack: ChatAck): void {
    const o = this.outgoing.get(ack.cmid);
    if (!o || o.acked) return;
    // Stored: a reload now gets it from the history. The last seen id stays put, because
    // messages older than this one may still be on their way.
    o.acked = true;
    setNote(o.node, "Sent");
    this.persist();
  }

  receive(message: ChatMessage): void {
    if (!isNewer(message.id, this.lastSeen)) return;
    this.lastSeen = message.id;
    const own = this.options.isOwn(message.from);
    const o = own ? this.outgoing.get(message.cmid) : undefined;
    if (o) {
      o.node.remove();
      this.outgoing.delete(message.cmid);
    }
    this.show({
      id: message.id,
      own,
      name: message.from.name || (message.from.kind === "operator" ? "Operator" : "Anonymous user"),
      text: message.text,
      at: message.at,
    });
    this.persist();
  }

  /** Handles an error frame about one of our sends; false when it is about something else. */
  refuse(error: ErrorFrame): boolean {
    const o = error.ref === undefined ? undefined : this.outgoing.get(error.ref);
    if (!o) return false;
    if (error.code === "unavailable") {
      // Transient (Redis down, server draining): it goes again after the next reconnect.
      setNote(o.node, "Waiting to resend…");
      return true;
    }
    setNote(o.node, `Not sent: ${error.message}`);
    o.node.classList.replace("lh-msg--pending", "lh-msg--failed");
    this.outgoing.delete(error.ref!);
    this.persist();
    return true;
  }

  /** The session left the list: its snapshot would only fill the tab's storage. */
  discard(): void {
    forget(this.options.storageKey);
  }

  private transmit(cmid: string, text: string): void {
    const frame: ChatSend = { type: "chat.send", cmid, text };
    if (this.options.session !== undefined) frame.session = this.options.session;
    this.options.transmit(frame);
  }

  private addOutgoing(cmid: string, text: string): void {
    const node = bubble({ own: true, name: "", text, note: "Sending…" });
    node.classList.add("lh-msg--pending");
    this.options.log.append(node);
    this.outgoing.set(cmid, { text, node, acked: false });
    this.scrollToEnd();
  }

  /** Stored messages go above the pending ones, which keeps the log in server order. */
  private show(shown: Shown): void {
    this.messages.push(shown);
    if (this.messages.length > KEPT_MESSAGES) this.messages.shift();
    const firstPending = this.outgoing.values().next().value?.node ?? null;
    this.options.log.insertBefore(bubble(shown), firstPending);
    this.scrollToEnd();
  }

  private scrollToEnd(): void {
    this.options.log.scrollTop = this.options.log.scrollHeight;
  }

  private persist(): void {
    const unacked = [...this.outgoing]
      .filter(([, o]) => !o.acked)
      .map(([cmid, o]) => ({ cmid, text: o.text }));
    const snapshot: Snapshot = { messages: this.messages, unacked };
    if (this.lastSeen !== undefined) snapshot.lastSeen = this.lastSeen;
    save(this.options.storageKey, snapshot);
  }
}

/** randomUUID exists only in secure contexts; a plain-http deployment still needs cmids. */
function newCmid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
