// "Forward calls" in a monitor row (SPEC §8, docs/api.md): shown while call forwarding is
// configured (operator.state.voice) and the operator has a phone number. On asks
// voice-forwarder for an access code for the session (the user's panel then shows the
// service's number and the code); off cancels it. The row shows the code and until when it
// works; the toggle goes off by itself then. Whether the user called, the monitor is not
// told: a code used up early just stays shown until then, and turning the toggle on again
// gets a new one.

import { el } from "./dom";
import { ApiFailure, callApi } from "./operator-api";
import type { SessionId } from "./protocol";

/** Every toggle on the page, to show or hide them all when operator.state changes. */
const toggles = new Set<ForwardToggle>();
let offered = false;
let count = 0;

/** From operator.state: forwarding is configured and the operator has a number. */
export function setForwardingOffered(voice: boolean, phone: string | null): void {
  const next = voice && phone !== null;
  if (next === offered) return;
  offered = next;
  for (const toggle of toggles) toggle.setOffered(next);
}

interface Issued {
  code: string;
  expires_in: number;
}

export class ForwardToggle {
  readonly element: HTMLElement;
  private readonly box: HTMLInputElement;
  /** The code and until when it works, or why the toggle could not turn on. */
  private readonly note = el("span", { class: "lh-forward__note", role: "status" });
  /** The server has a code of ours for the session, as far as this tab knows. */
  private live = false;
  private lapse: ReturnType<typeof setTimeout> | undefined;
  /** One request at a time, each bringing the server to what the toggle shows then. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly session: SessionId,
    private readonly token: () => Promise<string>,
  ) {
    const id = `lh-forward-${++count}`;
    this.box = el("input", { type: "checkbox", role: "switch", id, class: "lh-forward__switch" });
    this.element = el(
      "span",
      { class: "lh-forward" },
      this.box,
      el("label", { for: id }, "Forward calls"),
      this.note,
    );
    this.box.addEventListener("change", () => this.changed());
    toggles.add(this);
    this.element.hidden = !offered;
  }

  /** Hidden without forwarding or a number (clearing the number cancelled the codes). */
  setOffered(on: boolean): void {
    this.element.hidden = !on;
    if (on) return;
    this.box.checked = false;
    this.changed();
  }

  /** The row is gone; a code still live lapses by itself. */
  drop(): void {
    this.ended("");
    toggles.delete(this);
  }

  private changed(): void {
    this.chain = this.chain.then(() => this.sync());
  }

  private get path(): string {
    return `/voice/api/sessions/${encodeURIComponent(this.session)}/forward`;
  }

  private async sync(): Promise<void> {
    const wanted = this.box.checked && offered;
    if (wanted === this.live) return;
    if (wanted) {
      this.note.textContent = "Getting a code…";
      try {
        const issued = (await callApi("POST", this.path, this.token)) as Issued;
        this.started(issued);
      } catch (e) {
        this.box.checked = false;
        this.note.textContent = `Calls not forwarded: ${message(e)}`;
      }
      return;
    }
    this.ended("");
    try {
      await callApi("DELETE", this.path, this.token);
    } catch (e) {
      this.note.textContent = `Could not stop forwarding: ${message(e)}`;
    }
  }

  private started(issued: Issued): void {
    this.live = true;
    clearTimeout(this.lapse);
    const seconds = Math.max(0, issued.expires_in);
    const until = new Date(Date.now() + seconds * 1000);
    const time = until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    this.note.replaceChildren("Code ", el("strong", { class: "lh-forward__code" }, issued.code), ` until ${time}`);
    this.lapse = setTimeout(() => {
      this.box.checked = false;
      this.ended("Code expired");
    }, seconds * 1000);
  }

  private ended(note: string): void {
    this.live = false;
    clearTimeout(this.lapse);
    this.lapse = undefined;
    this.note.textContent = note;
  }
}

function message(e: unknown): string {
  return e instanceof ApiFailure ? e.message : String(e);
}
