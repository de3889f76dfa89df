// What the user sees of the screen mirror (SPEC §7), in a bar at the top of the page: that
// operators view the screen, with a Stop button; that one controls it, and when control is
// back; and the host-required consent prompts, "<operator> asks to view your screen" with
// Allow and Deny. It belongs to the widget, so the recording leaves it out (see
// mirror-privacy.ts): an operator can neither see nor press these buttons.

import { el } from "./dom";
import type { ConsentKind } from "./mirror-protocol";
import type { Partner } from "./protocol";

/** How long "You have control again" stays. */
const BACK_MS = 8_000;

export interface MirrorBar {
  /** How many operators view the screen now. */
  setWatchers(count: number): void;
  /** Someone controls the screen (a name), or nobody does (null). */
  setControlled(controller: Partner | null): void;
  /** The host requires consent: ask the user; `answer` gets their choice once. */
  ask(kind: ConsentKind, operator: Partner, answer: (granted: boolean) => void): void;
  /** The socket was lost: open prompts cannot be answered on it. */
  clearPrompts(): void;
}

export function mountMirrorBar(onStop: () => void): MirrorBar {
  const viewing = el("span", {});
  const stop = el("button", { type: "button", class: "lh-mirror__stop" }, "Stop");
  const watching = el("p", { class: "lh-mirror__line", hidden: "" }, viewing, " ", stop);
  const controlled = el("p", { class: "lh-mirror__line lh-mirror__line--control", hidden: "" }, "An operator is controlling your screen");
  const back = el("p", { class: "lh-mirror__line", hidden: "" }, "You have control again");
  // One live region for the notices, so a screen reader announces each change.
  const notices = el("div", { role: "status", "aria-label": "Screen sharing" }, watching, controlled, back);
  const prompts = el("div", { class: "lh-mirror__prompts" });
  const bar = el("div", { class: "lh-mirror", hidden: "" }, notices, prompts);
  document.body.append(bar);

  let backTimer: ReturnType<typeof setTimeout> | undefined;
  let isControlled = false;
  const open = new Map<string, HTMLElement>();

  function layout(): void {
    bar.hidden = watching.hidden && controlled.hidden && back.hidden && open.size === 0;
  }

  stop.addEventListener("click", onStop);

  return {
    setWatchers(count) {
      viewing.textContent =
        count === 1 ? "An operator is viewing your screen" : `${count} operators are viewing your screen`;
      watching.hidden = count === 0;
      layout();
    },
    setControlled(controller) {
      const now = controller !== null;
      controlled.hidden = !now;
      if (isControlled && !now) {
        back.hidden = false;
        clearTimeout(backTimer);
        backTimer = setTimeout(() => {
          back.hidden = true;
          layout();
        }, BACK_MS);
      }
      if (now) back.hidden = true;
      isControlled = now;
      layout();
    },
    ask(kind, operator, answer) {
      const key = `${kind}/${operator.id}`;
      open.get(key)?.remove();
      const who = operator.name ?? "An operator";
      const what = kind === "observe" ? "view" : "control";
      const question = el("p", { id: `lh-mirror-ask-${open.size}-${Date.now()}` }, `${who} asks to ${what} your screen`);
      const allow = el("button", { type: "button", class: "lh-mirror__allow" }, "Allow");
      const deny = el("button", { type: "button" }, "Deny");
      const prompt = el(
        "div",
        { class: "lh-mirror__prompt", role: "alertdialog", "aria-labelledby": question.id },
        question,
        allow,
        " ",
        deny,
      );
      const done = (granted: boolean) => {
        prompt.remove();
        open.delete(key);
        layout();
        answer(granted);
      };
      allow.addEventListener("click", () => done(true));
      deny.addEventListener("click", () => done(false));
      open.set(key, prompt);
      prompts.append(prompt);
      layout();
      allow.focus();
    },
    clearPrompts() {
      for (const prompt of open.values()) prompt.remove();
      open.clear();
      layout();
    },
  };
}
