// Rows that need the operator (SPEC §6): a new conversation or message highlights its row
// (the class lh-row--new, and "New message" for screen readers) until the operator goes into
// one of the row's message boxes. The tab title counts the highlighted rows; "New message
// above" / "New message below" buttons, shown while such a row is off screen, scroll to it;
// a desktop notification names who it is (notifications.ts).

import { el } from "./dom";
import { notify } from "./notifications";

const HIGHLIGHT = "lh-row--new";

/** What a notification says; notifications with the same tag replace each other. */
export interface Activity {
  title: string;
  body: string;
  tag: string;
  /** A message's time (RFC 3339, the server's clock)... */
  at?: string;
  /** ...and when its conversation appeared on this page (this browser's clock). */
  since?: number;
}

/**
 * A conversation that appears on the page (a fresh monitor, a reload) first shows its
 * history: messages sent before it appeared, give or take this much, are not news.
 */
const HISTORY_SLACK_MS = 15_000;
/** The server's clock minus this browser's, once known (the monitor page's Date header). */
let clockOffset = 0;
let clockAsked = false;
// At once: the first conversations' history arrives as soon as the chat socket opens.
if (typeof location !== "undefined") learnClock();

/** Highlighted rows, each with its "New message" text. */
const marked = new Map<HTMLElement, HTMLElement>();
let page: { title: string; above: HTMLButtonElement; below: HTMLButtonElement; watcher?: IntersectionObserver } | undefined;
let scheduled = false;

/** Highlights the row (once) and notifies; a message from the history is left alone. */
export function markRow(row: HTMLElement, activity: Activity): void {
  const p = setUp();
  if (activity.at !== undefined && activity.since !== undefined) {
    const sent = Date.parse(activity.at);
    if (sent < activity.since + clockOffset - HISTORY_SLACK_MS) return;
  }
  if (!marked.has(row)) {
    const text = el("span", { class: "lh-visually-hidden lh-row__new-text" }, "New message");
    row.prepend(text);
    row.classList.add(HIGHLIGHT);
    marked.set(row, text);
    p.watcher?.observe(row);
    changed();
  }
  notify(activity.title, activity.body, activity.tag, () => goTo(row));
}

/** The operator went to the row's message box, or the row is gone. */
export function clearRow(row: HTMLElement): void {
  const text = marked.get(row);
  if (!text) return;
  text.remove();
  row.classList.remove(HIGHLIGHT);
  marked.delete(row);
  page?.watcher?.unobserve(row);
  changed();
}

function setUp(): NonNullable<typeof page> {
  if (page) return page;
  const above = el("button", { type: "button", class: "lh-jump lh-jump--above", hidden: "" }, "New message above");
  const below = el("button", { type: "button", class: "lh-jump lh-jump--below", hidden: "" }, "New message below");
  above.addEventListener("click", () => jump("above"));
  below.addEventListener("click", () => jump("below"));
  document.body.append(above, below);
  page = { title: document.title, above, below };
  // Rows also move without a scroll (others grow, come and go): watching them catches that.
  if (typeof IntersectionObserver !== "undefined") page.watcher = new IntersectionObserver(schedule);
  addEventListener("scroll", schedule, { passive: true });
  addEventListener("resize", schedule);
  return page;
}

/** Asks the server for the time once, so that a browser whose clock is off judges history right. */
function learnClock(): void {
  if (clockAsked) return;
  clockAsked = true;
  const asked = Date.now();
  // The page itself is small; a HEAD would get a 404 (and a console error) from the service.
  fetch(location.href, { cache: "no-store", credentials: "same-origin" })
    .then((answer) => {
      const server = Date.parse(answer.headers.get("Date") ?? "");
      // Whole seconds: the middle of the second, against the middle of the request.
      if (!Number.isNaN(server)) clockOffset = server + 500 - (asked + Date.now()) / 2;
    })
    .catch(() => undefined);
}

function changed(): void {
  if (!page) return;
  document.title = marked.size > 0 ? `(${marked.size}) ${page.title}` : page.title;
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    if (!page) return;
    page.above.hidden = offScreen("above") === undefined;
    page.below.hidden = offScreen("below") === undefined;
  });
}

/** The highlighted row nearest the screen on that side of it, if any. */
function offScreen(side: "above" | "below"): HTMLElement | undefined {
  let best: HTMLElement | undefined;
  let distance = Infinity;
  for (const row of marked.keys()) {
    if (!row.isConnected) continue;
    const box = row.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue; // not rendered
    const d = side === "above" ? -box.bottom : box.top - innerHeight;
    if (d >= 0 && d < distance) {
      best = row;
      distance = d;
    }
  }
  return best;
}

function jump(side: "above" | "below"): void {
  const row = offScreen(side);
  if (row) goTo(row);
}

/** Scrolls the row into view and puts the keyboard on its log: reading it keeps the highlight. */
function goTo(row: HTMLElement): void {
  const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
  row.scrollIntoView({ block: "center", behavior: still ? "auto" : "smooth" });
  row.querySelector<HTMLElement>('[role="log"]')?.focus({ preventScroll: true });
  schedule();
}
