// The message box under a log: a textarea and a Send button. Enter sends, Shift+Enter
// starts a new line. Typing is reported through a TypingSender.

import { el } from "./dom";
import type { TypingSender } from "./typing-sender";

/** The server's limit (docs/protocol.md); maxlength counts UTF-16 units, so it is never looser. */
const MAX_TEXT = 4000;

export interface Composer {
  form: HTMLFormElement;
  textarea: HTMLTextAreaElement;
  setEnabled(enabled: boolean): void;
}

export function composer(label: string, typing: TypingSender, onSend: (text: string) => void): Composer {
  const textarea = el("textarea", { class: "lh-composer__text", "aria-label": label, rows: "2", maxlength: String(MAX_TEXT) });
  const button = el("button", { class: "lh-composer__send", type: "submit" }, "Send");
  const form = el("form", { class: "lh-composer" }, textarea, button);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value;
    if (text.trim() === "") return;
    typing.stop();
    onSend(text);
    textarea.value = "";
    textarea.focus();
  });
  textarea.addEventListener("input", () => {
    if (textarea.value === "") typing.stop();
    else typing.input();
  });
  textarea.addEventListener("keydown", (event) => {
    // While an input method is composing, Enter picks a candidate: it must not send.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    form.requestSubmit();
  });

  return {
    form,
    textarea,
    setEnabled(enabled) {
      textarea.disabled = !enabled;
      button.disabled = !enabled;
      if (!enabled) typing.stop();
    },
  };
}
