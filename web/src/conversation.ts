// One conversation as one participant sees it, shared by the widget and the monitor. It
// gives the page exactly-once display over an at-least-once wire:
// - messages not newer than the last one seen are dropped (resends, resumed history);
// - own sends are shown at once as pending, kept until acknowledged and resent with the
//   same cmid after a reconnect, so the server stores each once;
// - the log, the last seen id and the unacknowledged sends are kept in sessionStorage, so
//   a reload shows the log and resumes with `chat.open {after}` instead of starting over.
// Its read receipts are in read-receipts.ts.

import { bubble, setNote } from "./bubble";
import { isNewer } from "./message-id";
import { displayName } from "./party";
import type {
  ChatAck,
  ChatMessage,
  ChatRead,
  ChatReadSent,
  ChatSend,
  ConversationId,
  ErrorFrame,
  MessageId,
  Party,
} from "./protocol";
import { ReadReceipts } from "./read-receipts";
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
  /** The furthest a partner has read. */
  readUpTo?: MessageId;
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
  /** Named in every frame. */
  id: ConversationId;
  storageKey: string;
  isOwn(from: Party): boolean;
  /** Whose receipts say that own messages were read. */
  isReader(by: Party): boolean;
  /** Sends a frame if the socket is ready; false keeps a send for `resend()`. */
  transmit(frame: ChatSend | ChatReadSent): boolean;
}

export class Conversation {
  private lastSeen: MessageId | undefined;
  private messages: Shown[] = [];
  /** Own sends shown below the stored messages until their chat.message arrives. */
  private outgoing = new Map<string, Outgoing>();
  private readonly receipts: ReadReceipts;

  constructor(private readonly options: ConversationOptions) {
    options.log.replaceChildren();
    const snapshot = load(options.storageKey) as Partial<Snapshot> | undefined;
    this.lastSeen = snapshot?.lastSeen;
    this.receipts = new ReadReceipts(options.log, snapshot?.readUpTo, (upTo) =>
      options.transmit({ type: "chat.read", up_to: upTo, conversation: options.id }),
    );
    for (const shown of snapshot?.messages ?? []) this.show(shown);
    for (const { cmid, text } of snapshot?.unacked ?? []) this.addOutgoing(cmid, text);
    this.markRead();
  }

  get id(): ConversationId {
    return this.options.id;
  }

  /** For `chat.open {after}`: the newest message id this page has shown. */
  get after(): MessageId | undefined {
    return this.lastSeen;
  }

  send(text: string): void {
    const cmid = newCmid();
    this.addOutgoing(cmid, text);
    this.markRead();
    this.persist();
    this.transmit(cmid, text);
  }

  /** After a reconnect's `chat.open`: the server stores a repeated cmid only once. */
  resend(): void {
    for (const [cmid, o] of this.outgoing) if (!o.acked) this.transmit(cmid, o.text);
    this.receipts.retry();
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

  /** True when the message is new here and from someone else. */
  receive(message: ChatMessage): boolean {
    if (!isNewer(message.id, this.lastSeen)) return false;
    this.lastSeen = message.id;
    const own = this.options.isOwn(message.from);
    const o = own ? this.outgoing.get(message.cmid) : undefined;
    if (o) {
      o.node.remove();
      this.outgoing.delete(message.cmid);
    }
    this.show({ id: message.id, own, name: displayName(message.from), text: message.text, at: message.at });
    this.markRead();
    this.persist();
    return !own;
  }

  /** A partner's receipt. */
  read(receipt: ChatRead): void {
    if (!this.options.isReader(receipt.by)) return;
    this.receipts.receipt(receipt.up_to);
    this.markRead();
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
    this.markRead();
    this.persist();
    return true;
  }

  /** The page no longer shows this conversation. */
  stop(): void {
    this.receipts.stop();
  }

  /** Stops, and forgets the snapshot, which would only fill the tab's storage. */
  discard(): void {
    this.stop();
    forget(this.options.storageKey);
  }

  private transmit(cmid: string, text: string): void {
    this.options.transmit({ type: "chat.send", cmid, text, conversation: this.options.id });
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
    const node = bubble(shown);
    const firstPending = this.outgoing.values().next().value?.node ?? null;
    this.options.log.insertBefore(node, firstPending);
    this.receipts.shown(shown.id, shown.own, node);
    this.scrollToEnd();
  }

  private markRead(): void {
    this.receipts.place(this.outgoing.size > 0);
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
    const readUpTo = this.receipts.partnersRead;
    if (readUpTo !== undefined) snapshot.readUpTo = readUpTo;
    save(this.options.storageKey, snapshot);
  }
}

/** randomUUID exists only in secure contexts; a plain-http deployment still needs cmids. */
function newCmid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
