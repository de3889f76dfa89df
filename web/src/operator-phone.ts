// The operator's phone number on the monitor (SPEC §6, §8): the number calls are forwarded
// to. Saving sends operator.phone (an empty box clears it, which also cancels the operator's
// call forwarding); the server checks the E.164 form, and its `invalid` error naming `phone`
// shows next to the box. operator.state, which every tab of the operator gets, fills it.

import { el } from "./dom";
import type { ErrorFrame, OperatorPhone, OperatorState } from "./protocol";

export interface PhoneBox {
  element: HTMLElement;
  update(state: OperatorState): void;
  /** Shows an error about operator.phone next to the box; false when it is about something else. */
  refuse(error: ErrorFrame): boolean;
  /** Off while the monitor socket is down: a change could not go out. */
  setEnabled(enabled: boolean): void;
}

export function phoneBox(send: (frame: OperatorPhone) => boolean): PhoneBox {
  const input = el("input", {
    type: "tel",
    id: "lh-phone",
    class: "lh-phone__input",
    autocomplete: "tel",
    placeholder: "+12025550123",
    "aria-describedby": "lh-phone-hint lh-phone-error",
    disabled: "",
  });
  const save = el("button", { type: "submit", class: "lh-phone__save", disabled: "" }, "Save");
  const hint = el("span", { id: "lh-phone-hint", class: "lh-phone__hint" }, "E.164, e.g. +12025550123. Calls users make with your access codes ring here.");
  // Empty, and so not shown, until the server refuses a number.
  const error = el("p", { id: "lh-phone-error", class: "lh-phone__error", role: "alert" });
  const saved = el("span", { class: "lh-phone__saved", role: "status" });
  const element = el(
    "form",
    { class: "lh-phone", "aria-label": "Phone number for calls", novalidate: "" },
    el("label", { for: "lh-phone", class: "lh-phone__label" }, "Phone number"),
    input,
    save,
    saved,
    hint,
    error,
  );

  /** The number the server has for the operator. */
  let current: string | null = null;
  /** What the box showed when the server's number last filled it. */
  let filled = "";
  /** A number sent and not yet answered (null: cleared). */
  let pending: string | null | undefined;

  function showError(message: string): void {
    error.textContent = message;
    input.setAttribute("aria-invalid", String(message !== ""));
  }

  function done(phone: string | null): void {
    pending = undefined;
    showError("");
    saved.textContent = phone === null ? "No phone number." : "Saved.";
  }

  element.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    const phone = value === "" ? null : value;
    // The server sends no new state for a number it already has.
    if (phone === current) return done(phone);
    if (!send({ type: "operator.phone", phone })) {
      saved.textContent = "Not saved: no connection.";
      return;
    }
    pending = phone;
    saved.textContent = "Saving…";
  });
  input.addEventListener("input", () => {
    saved.textContent = "";
  });

  return {
    element,
    update(state) {
      current = state.phone ?? null;
      const answered = pending !== undefined && pending === current;
      if (answered) done(current);
      // Leave alone a number the operator is typing in (another tab may have saved one).
      if (!answered && document.activeElement === input && input.value !== filled) return;
      input.value = filled = current ?? "";
    },
    refuse(frame) {
      if (frame.code !== "invalid" || !/^phone\b/.test(frame.message)) return false;
      pending = undefined;
      saved.textContent = "";
      showError(`Not saved: ${frame.message.replace(/^phone:\s*/, "")}`);
      return true;
    },
    setEnabled(enabled) {
      input.disabled = !enabled;
      save.disabled = !enabled;
    },
  };
}
