// "Bea is typing…": who else is typing in one conversation, in a polite live region. A name
// goes when they stop, when their message arrives, or after 5 s without a fresh `true`.

import { el } from "./dom";
import { displayName } from "./party";
import type { Party } from "./protocol";

const SHOWN_MS = 5_000;

export class TypingIndicator {
  readonly element = el("p", { class: "lh-typing", role: "status", "aria-live": "polite" });
  private typists = new Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>();

  update(from: Party, typing: boolean): void {
    this.forget(from.id);
    if (typing) {
      const timer = setTimeout(() => this.stopped(from), SHOWN_MS);
      this.typists.set(from.id, { name: displayName(from), timer });
    }
    this.render();
  }

  /** Their message arrived: they are done typing it. */
  stopped(from: Party): void {
    this.forget(from.id);
    this.render();
  }

  /** A new conversation, or none: nobody is typing in it yet. */
  reset(): void {
    for (const id of [...this.typists.keys()]) this.forget(id);
    this.render();
  }

  private forget(id: string): void {
    clearTimeout(this.typists.get(id)?.timer);
    this.typists.delete(id);
  }

  private render(): void {
    const names = [...this.typists.values()].map((t) => t.name);
    this.element.textContent =
      names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
  }
}
