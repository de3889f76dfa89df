// The operator's edits and clicks in the replayed page, while they control the user's
// screen: the replay's iframe takes pointer and keyboard input then, and what the operator
// does in it goes to the user's page as mirror.input actions (shapes in mirror-control.ts),
// the elements named by their rrweb ids. Clicks do nothing in the replay itself (no link is
// followed, no form sent): their effect comes back from the user's page.

import type { Replayer } from "@rrweb/replay";
import type { RemoteAction } from "./mirror-control";
import type { RrwebEvent } from "./mirror-protocol";

const INCREMENTAL = 3;
const INPUT = 5;
/** Typing in a field goes out at most this often (the server allows 10 inputs a second). */
const INPUT_GAP_MS = 120;
const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);
const TOGGLES = new Set(["checkbox", "radio"]);

export class RemoteInput {
  private active = false;
  private doc: Document | undefined;
  /** Values typed but not sent yet, by element id, and when each field last went out. */
  private readonly waiting = new Map<number, { value: string; timer: ReturnType<typeof setTimeout> }>();
  private readonly lastSent = new Map<number, number>();

  constructor(
    private readonly replayer: Replayer,
    private readonly send: (action: RemoteAction) => boolean,
  ) {}

  start(): void {
    this.active = true;
    this.replayer.enableInteract();
    this.listen();
  }

  stop(): void {
    this.flush();
    this.active = false;
    this.unlisten();
    try {
      this.replayer.disableInteract();
    } catch {
      // The replayer is gone.
    }
  }

  /** A full snapshot rebuilt the replay's document, which dropped its listeners. */
  rebuilt(): void {
    if (!this.active) return;
    this.unlisten();
    this.listen();
  }

  /**
   * The user's page reporting back a value of the field the operator is typing in: it would
   * undo what they typed since, so the replay keeps the operator's.
   */
  isEcho(event: RrwebEvent): boolean {
    if (!this.active || event.type !== INCREMENTAL) return false;
    const data = event.data as { source?: number; id?: number };
    if (data.source !== INPUT) return false;
    const focused = this.doc?.activeElement;
    return focused != null && this.replayer.getMirror().getId(focused) === data.id;
  }

  private listen(): void {
    const doc = this.replayer.iframe.contentDocument;
    if (!doc) return;
    this.doc = doc;
    doc.addEventListener("input", this.onInput, true);
    doc.addEventListener("change", this.onInput, true);
    doc.addEventListener("click", this.onClick, true);
    doc.addEventListener("submit", this.onSubmit, true);
  }

  private unlisten(): void {
    const doc = this.doc;
    if (!doc) return;
    doc.removeEventListener("input", this.onInput, true);
    doc.removeEventListener("change", this.onInput, true);
    doc.removeEventListener("click", this.onClick, true);
    doc.removeEventListener("submit", this.onSubmit, true);
    this.doc = undefined;
  }

  private readonly onInput = (event: Event): void => {
    const field = event.target as HTMLInputElement | null;
    if (!field || !FIELDS.has(field.tagName) || TOGGLES.has(field.type)) return;
    const id = this.replayer.getMirror().getId(field);
    if (id < 0) return;
    const pending = this.waiting.get(id);
    if (pending) {
      pending.value = field.value;
      return;
    }
    const wait = (this.lastSent.get(id) ?? -Infinity) + INPUT_GAP_MS - performance.now();
    if (wait <= 0) {
      this.sendValue(id, field.value);
      return;
    }
    this.waiting.set(id, { value: field.value, timer: setTimeout(() => this.flushOne(id), wait) });
  };

  private readonly onClick = (event: MouseEvent): void => {
    // The replay never acts on a click itself; the user's page does, and reports back.
    event.preventDefault();
    event.stopPropagation();
    const target = event.target as Node | null;
    const element = target && target.nodeType === Node.ELEMENT_NODE ? target : target?.parentElement;
    if (!element) return;
    const id = this.replayer.getMirror().getId(element);
    if (id < 0) return;
    // What was typed goes before the click that sends it.
    this.flush();
    this.send({ kind: "click", id });
  };

  private readonly onSubmit = (event: Event): void => event.preventDefault();

  private sendValue(id: number, value: string): void {
    this.lastSent.set(id, performance.now());
    this.send({ kind: "input", id, value });
  }

  private flushOne(id: number): void {
    const pending = this.waiting.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.waiting.delete(id);
    if (this.active) this.sendValue(id, pending.value);
  }

  private flush(): void {
    for (const id of [...this.waiting.keys()]) this.flushOne(id);
  }
}
