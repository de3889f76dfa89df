// One message as shown in a log: own ones on the right, partners' on the left with their
// name. The "You" label says the same as the side and colour, for those who see neither.

import { el } from "./dom";

export interface BubbleParts {
  own: boolean;
  name: string;
  text: string;
  /** RFC 3339; absent while the server has not stored the message. */
  at?: string;
  /** Delivery state of an own message ("Sending…"); absent once stored. */
  note?: string;
}

export function bubble(parts: BubbleParts): HTMLElement {
  const node = el(
    "div",
    { class: `lh-msg ${parts.own ? "lh-msg--own" : "lh-msg--partner"}` },
    el("span", { class: "lh-msg__from" }, parts.own ? "You" : parts.name),
    el("p", { class: "lh-msg__text" }, parts.text),
  );
  const when = parts.at === undefined ? undefined : new Date(parts.at);
  if (when && !Number.isNaN(when.getTime())) {
    const label = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    node.append(el("time", { class: "lh-msg__at", datetime: parts.at! }, label));
  }
  if (parts.note !== undefined) node.append(el("span", { class: "lh-msg__note" }, parts.note));
  return node;
}

/** Updates the delivery note of an own message. */
export function setNote(node: HTMLElement, note: string): void {
  const span = node.querySelector(".lh-msg__note");
  if (span) span.textContent = note;
}
