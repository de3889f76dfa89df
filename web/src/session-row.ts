// One session on the monitor: its status, title and user, and the operator's conversation
// with that user. Several rows can be chatting at once.

import { composer } from "./composer";
import { Conversation } from "./conversation";
import { el } from "./dom";
import type { ChatSend, Party, SessionSummary } from "./protocol";

export interface SessionRow {
  item: HTMLLIElement;
  conversation: Conversation;
  update(summary: SessionSummary): void;
}

export function sessionRow(
  summary: SessionSummary,
  isOwn: (from: Party) => boolean,
  transmit: (frame: ChatSend) => boolean,
): SessionRow {
  // The status is a word with a colour, never a colour alone.
  const status = el("span", { class: "lh-status" });
  const title = el("h2", { class: "lh-row__title" });
  const user = el("span", { class: "lh-row__user" });
  const log = el("div", { class: "lh-log", role: "log", "aria-live": "polite", tabindex: "0" });
  const conversation = new Conversation({
    log,
    storageKey: `livehelp.monitor.${summary.session}`,
    session: summary.session,
    isOwn,
    transmit,
  });
  const box = composer("", (text) => conversation.send(text)); // labelled by update()
  const article = el(
    "article",
    { class: "lh-row" },
    el("div", { class: "lh-row__header" }, status, title, user),
    log,
    box.form,
  );
  const item = el("li", { class: "lh-sessions__item" }, article);

  function update(next: SessionSummary): void {
    const who = next.user_name ?? "Anonymous user";
    const what = next.title ?? "Untitled session";
    status.textContent = next.status;
    status.className = `lh-status lh-status--${next.status}`;
    title.textContent = what;
    user.textContent = who;
    article.setAttribute("aria-label", `${what} — ${who}`);
    log.setAttribute("aria-label", `Chat with ${who}`);
    box.textarea.setAttribute("aria-label", `Message to ${who}`);
  }
  update(summary);

  return { item, conversation, update };
}
