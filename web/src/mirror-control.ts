// The user's side of Control (SPEC §7): while an operator controls the screen, the page's
// own buttons are disabled (the widget's stay usable: the user can always chat, answer and
// press Stop), and the operator's edits and clicks, made in the replayed view, are applied
// here so that the host's scripts see them as they would a person's.
//
// The actions of mirror.input (operator → server → user; the server passes them on
// untouched). Elements are named by their rrweb node id, which is the same in the user's
// recording and in the operator's replay:
//
//   {"kind": "input", "id": 42, "value": "Ada"}
//       sets the value of an <input>, <textarea> or <select> through the element's native
//       value setter, then dispatches `input` and `change` (bubbling), as typing would.
//       Refused for file inputs, disabled or read-only fields, and masked fields (passwords
//       and what the host marked sensitive: the operator sees only a mask there).
//   {"kind": "click", "id": 57}
//       element.click() on the element (a text node's parent), even on a button that is
//       disabled only because the screen is controlled; a checkbox, radio or label gets
//       its usual activation, a submit button submits its form.
//
// Anything else (an unknown kind, an id not on the page, an element of the widget itself,
// an action while nobody controls the screen) is ignored.

import { WIDGET_SELECTOR } from "./mirror-privacy";
import type { RrwebEvent } from "./mirror-protocol";

export type RemoteAction = { kind: "input"; id: number; value: string } | { kind: "click"; id: number };

/** Parses an action from the wire; null when it is not one of the shapes above. */
export function parseAction(raw: unknown): RemoteAction | null {
  if (typeof raw !== "object" || raw === null) return null;
  const a = raw as Record<string, unknown>;
  if (typeof a.id !== "number" || !Number.isInteger(a.id)) return null;
  if (a.kind === "input" && typeof a.value === "string") return { kind: "input", id: a.id, value: a.value };
  if (a.kind === "click") return { kind: "click", id: a.id };
  return null;
}

// The parts of rrweb's events this looks at (@rrweb/types: EventType, IncrementalSource).
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;

interface SerializedNode {
  id: number;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
}

interface SnapshotData {
  node?: SerializedNode;
}

interface MutationData {
  source?: number;
  attributes?: { id: number; attributes: Record<string, unknown> }[];
  adds?: { node: SerializedNode }[];
}

const BUTTONS = 'button, input[type="submit"], input[type="button"], input[type="reset"], input[type="image"]';

type Disableable = HTMLButtonElement | HTMLInputElement;

export class PageControl {
  /** The buttons this disabled (and only those: the host's own disabled ones stay so). */
  private readonly disabled = new Set<Disableable>();
  private observer: MutationObserver | undefined;

  constructor(
    private readonly nodeOf: (id: number) => Node | null,
    private readonly isSensitive: (element: Element) => boolean,
  ) {}

  get active(): boolean {
    return this.observer !== undefined;
  }

  /** The operator took control: disable the page's buttons, also ones added later. */
  start(): void {
    if (this.observer) return;
    this.observer = new MutationObserver(() => this.disableAll());
    this.observer.observe(document.body, { childList: true, subtree: true });
    this.disableAll();
  }

  /** Control is back with the user: re-enable what this disabled. */
  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    for (const button of this.disabled) button.disabled = false;
    this.disabled.clear();
  }

  /**
   * Takes the buttons this disabled out of what the operator sees: their replay keeps them
   * enabled, so the operator can press them (a disabled button gets no clicks). Changes
   * the event in place; called on every event before it is sent.
   */
  hideDisabling(event: RrwebEvent): void {
    if (this.disabled.size === 0) return;
    const data = event.data as MutationData & SnapshotData;
    if (event.type === FULL_SNAPSHOT && data.node) this.strip(data.node);
    if (event.type !== INCREMENTAL || data.source !== MUTATION) return;
    for (const change of data.attributes ?? []) {
      if ("disabled" in change.attributes && this.holds(change.id)) delete change.attributes.disabled;
    }
    for (const add of data.adds ?? []) this.strip(add.node);
  }

  private holds(id: number): boolean {
    const node = this.nodeOf(id);
    return node !== null && this.disabled.has(node as Disableable);
  }

  private strip(node: SerializedNode): void {
    if (node.attributes && "disabled" in node.attributes && this.holds(node.id)) delete node.attributes.disabled;
    for (const child of node.childNodes ?? []) this.strip(child);
  }

  apply(action: RemoteAction): void {
    if (!this.active) return;
    let node = this.nodeOf(action.id);
    if (node && !(node instanceof Element)) node = node.parentElement;
    if (!(node instanceof HTMLElement) || !node.isConnected || node.closest(WIDGET_SELECTOR)) return;
    if (action.kind === "input") {
      if (!this.isSensitive(node)) setValue(node, action.value);
    } else this.click(node);
  }

  private disableAll(): void {
    for (const button of document.querySelectorAll<Disableable>(BUTTONS)) {
      if (button.disabled || button.closest(WIDGET_SELECTOR)) continue;
      button.disabled = true;
      this.disabled.add(button);
    }
  }

  /** A click the operator made: a button disabled for the control is enabled just for it. */
  private click(element: HTMLElement): void {
    const control = element.closest<Disableable>(BUTTONS);
    const held = control !== null && this.disabled.has(control);
    if (held) control.disabled = false;
    try {
      element.click();
    } finally {
      if (held && this.active) control.disabled = true;
    }
  }
}

/** Sets a field's value as the browser would for typing, so frameworks notice it too. */
function setValue(element: HTMLElement, value: string): void {
  let proto: object;
  if ((element as HTMLInputElement).disabled || (element as HTMLInputElement).readOnly) return;
  if (element instanceof HTMLInputElement) {
    if (element.type === "file") return;
    proto = HTMLInputElement.prototype;
  } else if (element instanceof HTMLTextAreaElement) proto = HTMLTextAreaElement.prototype;
  else if (element instanceof HTMLSelectElement) proto = HTMLSelectElement.prototype;
  else return;
  // The prototype's setter, not the element's own property (which a framework may shadow).
  const setter = Object.getOwnPropertyDescriptor(proto, "value")?.set;
  if (setter) setter.call(element, value);
  else (element as HTMLInputElement).value = value;
  element.dispatchEvent(new Event("input", { bubbles: true }));
  element.dispatchEvent(new Event("change", { bubbles: true }));
}
