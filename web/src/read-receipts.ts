// Read receipts for one conversation: `chat.read` once partners' messages have been on
// screen, and "Read" under the own last message once a partner's receipt covers it.

import { el } from "./dom";
import { isNewer } from "./message-id";
import type { MessageId } from "./protocol";
import { watchVisibility, type Visibility } from "./visibility";

/** Receipts wait this long, so a burst of messages (a resumed history) gets one. */
const DELAY_MS = 500;

export class ReadReceipts {
  private lastOwn: { id: MessageId; node: HTMLElement } | undefined;
  private newestPartner: MessageId | undefined;
  private reported: MessageId | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly mark = el("span", { class: "lh-msg__read" }, "Read");
  private readonly visibility: Visibility;

  /** `readUpTo`: how far partners had read (a reload's snapshot); `send`: false if not sent. */
  constructor(
    log: HTMLElement,
    private readUpTo: MessageId | undefined,
    private readonly send: (upTo: MessageId) => boolean,
  ) {
    this.visibility = watchVisibility(log, () => this.schedule());
  }

  /** How far partners have read, for the snapshot. */
  get partnersRead(): MessageId | undefined {
    return this.readUpTo;
  }

  /** A stored message was put in the log as `node`. */
  shown(id: MessageId, own: boolean, node: HTMLElement): void {
    if (own) this.lastOwn = { id, node };
    else {
      this.newestPartner = id;
      this.schedule();
    }
  }

  /** A partner's receipt. */
  receipt(upTo: MessageId): void {
    if (isNewer(upTo, this.readUpTo)) this.readUpTo = upTo;
  }

  /**
   * Puts "Read" under the own last message if a receipt covers it. `pending`: own sends
   * not stored yet come after it, so it is not the last.
   */
  place(pending: boolean): void {
    const own = this.lastOwn;
    const covered = own !== undefined && !pending && this.readUpTo !== undefined && !isNewer(own.id, this.readUpTo);
    if (covered) own.node.append(this.mark);
    else this.mark.remove();
  }

  /** After a reconnect: a receipt that could not go out goes now. */
  retry(): void {
    this.schedule();
  }

  stop(): void {
    this.visibility.stop();
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.report();
    }, DELAY_MS);
  }

  private report(): void {
    const upTo = this.newestPartner;
    if (upTo === undefined || !isNewer(upTo, this.reported) || !this.visibility.visible()) return;
    if (this.send(upTo)) this.reported = upTo;
  }
}
