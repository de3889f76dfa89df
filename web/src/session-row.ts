// One session on the monitor: its status, title and user, Block/Unblock, and a chat area
// per conversation the operator can take part in (the users' help chats; in peerhelp mode
// the group). A partner's message highlights the row until the operator goes to its box.

import { ChatArea } from "./chat-area";
import { el } from "./dom";
import type { MirrorView, MirrorViewer } from "./mirror-viewer";
import { displayName } from "./party";
import type { ChatOpen, ChatSummary, ClientFrame, ConversationId, ErrorFrame, Party, SessionSummary } from "./protocol";
import { RowActions } from "./row-actions";
import { clearRow, markRow } from "./row-attention";

export const BLOCKED_NOTE = "Chat ended: the session was blocked";

export interface RowLinks {
  isOwn(from: Party): boolean;
  /** Sends on the chat socket if it is ready. */
  chat(frame: ClientFrame): boolean;
  /** Sends on the monitor socket if it is ready. */
  monitor(frame: ClientFrame): boolean;
  /** The screen mirror (Observe, Control); rows have none without it. */
  mirror?: MirrorViewer;
  /** A fresh token for HTTP calls as the operator (Join, Forward calls). */
  token(): Promise<string>;
}

export class SessionRow {
  readonly item: HTMLLIElement;
  private summary: SessionSummary;
  private readonly areas = new Map<ConversationId, ChatArea>();
  // The status is a word with a colour, never a colour alone.
  private readonly status = el("span", { class: "lh-status" });
  private readonly title = el("h2", { class: "lh-row__title" });
  private readonly user = el("span", { class: "lh-row__user" });
  private readonly blockedMark = el("span", { class: "lh-row__blocked", hidden: "" }, "Blocked");
  private readonly block = el("button", { class: "lh-row__block", type: "button" });
  private readonly chats = el("div", { class: "lh-row__chats" });
  private readonly article: HTMLElement;
  /** Observe and Control (mirror-viewer.ts). */
  private readonly mirror: MirrorView | undefined;
  /** Join, Dismiss, Forward calls (row-actions.ts). */
  private readonly actions: RowActions;
  /** While the row is first built: chats it starts with are not news. */
  private quiet = true;

  constructor(summary: SessionSummary, private readonly links: RowLinks) {
    this.summary = summary;
    this.actions = new RowActions(summary, links);
    this.article = el(
      "article",
      { class: "lh-row" },
      el("div", { class: "lh-row__header" }, this.status, this.title, this.user, this.blockedMark, this.block),
      this.actions.element,
      this.chats,
    );
    this.item = el("li", { class: "lh-sessions__item" }, this.article);
    this.mirror = links.mirror?.view(summary.session);
    if (this.mirror) this.chats.before(this.mirror.element);
    this.block.addEventListener("click", () =>
      links.monitor({ type: this.summary.blocked ? "session.unblock" : "session.block", session: this.summary.session }),
    );
    this.article.addEventListener("focusin", (event) => {
      if (event.target instanceof HTMLTextAreaElement) clearRow(this.article);
    });
    this.update(summary);
    this.quiet = false;
  }

  area(id: ConversationId): ChatArea | undefined {
    return this.areas.get(id);
  }

  update(next: SessionSummary): void {
    this.summary = next;
    const who = next.user_name ?? "Anonymous user";
    const what = next.title ?? "Untitled session";
    this.status.textContent = next.status;
    this.status.className = `lh-status lh-status--${next.status}`;
    this.title.textContent = what;
    this.user.textContent = who;
    this.article.setAttribute("aria-label", `${what} — ${who}`);
    this.blockedMark.hidden = !next.blocked;
    this.block.textContent = next.blocked ? "Unblock" : "Block";
    this.mirror?.update(next);
    this.actions.update(next);

    const wanted = this.joinable(next);
    if (next.blocked) {
      // Chats end for the operators at once (chat.closed says so too); their logs stay.
      for (const area of this.areas.values()) area.end(BLOCKED_NOTE);
      return;
    }
    for (const [id, area] of this.areas) {
      if (wanted.has(id)) continue;
      if (!area.ended) this.links.chat({ type: "chat.close", conversation: id });
      area.discard();
      this.areas.delete(id);
    }
    for (const [id, chat] of wanted) {
      let area = this.areas.get(id);
      if (!area) {
        area = this.addArea(id);
        this.open(area);
        if (!this.quiet) this.notice(`${chat.user_name ?? "Anonymous user"} turned chat on`, id);
      } else if (area.ended) {
        area.resume();
        this.open(area);
      }
      area.setName(chat.user_name);
    }
  }

  /** A new chat socket: open every conversation again after the last message shown. */
  reopen(): void {
    for (const area of this.areas.values()) if (!area.ended) this.open(area);
  }

  /** Handles an error frame about a send from this row; false when it is about something else. */
  refuse(error: ErrorFrame): boolean {
    for (const area of this.areas.values()) if (area.conversation.refuse(error)) return true;
    return false;
  }

  /** The session left the list. */
  drop(): void {
    for (const [id, area] of this.areas) {
      if (!area.ended) this.links.chat({ type: "chat.close", conversation: id });
      area.discard();
    }
    this.areas.clear();
    this.actions.drop();
    clearRow(this.article);
    this.mirror?.drop();
    this.item.remove();
  }

  /** The conversations an operator takes part in: help chats, and the group in peerhelp. */
  private joinable(summary: SessionSummary): Map<ConversationId, ChatSummary> {
    const chats = new Map<ConversationId, ChatSummary>();
    for (const chat of summary.chats) {
      const group = !chat.conversation.includes("/");
      if (!chats.has(chat.conversation) && (!group || summary.mode === "peerhelp")) chats.set(chat.conversation, chat);
    }
    return chats;
  }

  private addArea(id: ConversationId): ChatArea {
    // The history a new area shows first is not news (row-attention.ts tells it by the time).
    const since = Date.now();
    const area = new ChatArea({
      id,
      isOwn: this.links.isOwn,
      transmit: this.links.chat,
      onNewMessage: (message) =>
        this.notice(`New message from ${displayName(message.from)}`, id, { at: message.at, since }),
    });
    this.areas.set(id, area);
    this.chats.append(area.element);
    return area;
  }

  /** Highlights the row until the operator goes to its message box; notifies (row-attention.ts). */
  private notice(title: string, conversation: ConversationId, sent?: { at: string; since: number }): void {
    markRow(this.article, { title, body: this.summary.title ?? "Untitled session", tag: conversation, ...sent });
  }

  private open(area: ChatArea): void {
    const conversation = area.conversation;
    const after = conversation.after;
    const frame: ChatOpen = { type: "chat.open", conversation: conversation.id };
    if (after !== undefined) frame.after = after;
    if (this.links.chat(frame)) conversation.resend();
  }
}
