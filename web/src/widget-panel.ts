// The widget's DOM: the round "Live help" button and the help panel it opens. No protocol
// here; widget.ts drives it.

import { composer, type Composer } from "./composer";
import { el } from "./dom";
import type { TypingIndicator } from "./typing-indicator";
import type { TypingSender } from "./typing-sender";

const PANEL_ID = "livehelp-panel";
const SVG = "http://www.w3.org/2000/svg";

/** Hidden while chat never was possible here; grey while it is not now; green when it is. */
export type LauncherLook = "hidden" | "unavailable" | "available";

export interface WidgetPanel {
  log: HTMLElement;
  composer: Composer;
  setLauncher(look: LauncherLook): void;
  /** The lines saying how chat stands. */
  setStatus(lines: string[]): void;
  /** "Activate chat" or "Turn off chat", clickable or not. */
  setToggle(active: boolean, enabled: boolean): void;
}

export function mountPanel(
  typing: TypingSender,
  typists: TypingIndicator,
  onToggleChat: () => void,
  onSend: (text: string) => void,
): WidgetPanel {
  const launcher = el("button", {
    class: "lh-launcher",
    type: "button",
    "aria-label": "Live help",
    "aria-expanded": "false",
    "aria-controls": PANEL_ID,
    hidden: "",
  });
  launcher.append(chatIcon());

  const status = el("div", { class: "lh-panel__status", role: "status", "aria-label": "Chat status" });
  const toggle = el("button", { class: "lh-panel__toggle", type: "button", disabled: "" }, "Activate chat");
  // Focusable so that keyboard users can scroll a long history.
  const log = el("div", {
    class: "lh-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Chat messages",
    tabindex: "0",
  });
  const box = composer("Chat message", typing, onSend);
  const close = el("button", { class: "lh-panel__close", type: "button" }, "Close");
  const panel = el(
    "div",
    { id: PANEL_ID, class: "lh-panel", role: "dialog", "aria-label": "Live help", tabindex: "-1", hidden: "" },
    el("div", { class: "lh-panel__header" }, el("span", { class: "lh-panel__title" }, "Live help"), close),
    status,
    toggle,
    log,
    typists.element,
    box.form,
  );

  function show(open: boolean): void {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    (open ? panel : launcher).focus();
  }
  launcher.addEventListener("click", () => show(launcher.getAttribute("aria-expanded") !== "true"));
  close.addEventListener("click", () => show(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") show(false);
  });
  toggle.addEventListener("click", onToggleChat);

  document.body.append(launcher, panel);
  box.setEnabled(false);

  return {
    log,
    composer: box,
    setLauncher(look) {
      launcher.hidden = look === "hidden";
      launcher.classList.toggle("lh-launcher--available", look === "available");
      launcher.classList.toggle("lh-launcher--unavailable", look === "unavailable");
      // Still clickable when grey: the log stays readable.
      if (look === "unavailable") launcher.title = "Live help (no one available)";
      else launcher.removeAttribute("title");
    },
    setStatus(lines) {
      status.replaceChildren(...lines.map((line) => el("p", {}, line)));
    },
    setToggle(active, enabled) {
      toggle.textContent = active ? "Turn off chat" : "Activate chat";
      toggle.disabled = !enabled;
    },
  };
}

/** A speech bubble, drawn with DOM calls like everything else in the widget. */
function chatIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}
