// The widget's DOM: the round "Live help" button and the help panel it opens. No protocol
// here; widget.ts drives it.

import { composer, type Composer } from "./composer";
import { el } from "./dom";

const PANEL_ID = "livehelp-panel";
const SVG = "http://www.w3.org/2000/svg";

export interface WidgetPanel {
  log: HTMLElement;
  composer: Composer;
  setStatus(text: string): void;
  /** Connected: the button turns green and chat can be switched on or off. */
  setAvailable(available: boolean): void;
  /** Switches the toggle between "Activate chat" and "Turn off chat" and the box on or off. */
  setActive(active: boolean): void;
}

export function mountPanel(onToggleChat: () => void, onSend: (text: string) => void): WidgetPanel {
  const launcher = el("button", {
    class: "lh-launcher",
    type: "button",
    "aria-label": "Live help",
    "aria-expanded": "false",
    "aria-controls": PANEL_ID,
  });
  launcher.append(chatIcon());

  const status = el("p", { class: "lh-panel__status", role: "status" });
  const toggle = el("button", { class: "lh-panel__toggle", type: "button", disabled: "" }, "Activate chat");
  // Focusable so that keyboard users can scroll a long history.
  const log = el("div", {
    class: "lh-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Chat messages",
    tabindex: "0",
  });
  const box = composer("Message", onSend);
  const close = el("button", { class: "lh-panel__close", type: "button" }, "Close");
  const panel = el(
    "div",
    { id: PANEL_ID, class: "lh-panel", role: "dialog", "aria-label": "Live help", tabindex: "-1", hidden: "" },
    el("div", { class: "lh-panel__header" }, el("span", { class: "lh-panel__title" }, "Live help"), close),
    status,
    toggle,
    log,
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
    setStatus(text) {
      status.textContent = text;
    },
    setAvailable(available) {
      launcher.classList.toggle("lh-launcher--available", available);
      toggle.disabled = !available;
    },
    setActive(active) {
      toggle.textContent = active ? "Turn off chat" : "Activate chat";
      box.setEnabled(active);
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
