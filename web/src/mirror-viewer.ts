// The monitor's side of the screen mirror (SPEC §7). One socket to /mirror/ws per monitor
// page, opened when the operator first presses "Observe"; each session row has a MirrorView:
// "Observe" shows a live, read-only replay of the user's page (rrweb's Replayer in a
// sandboxed iframe), "Control" lets the operator's edits and clicks in it happen on the
// user's page (mirror-remote.ts), and the notes say what the server and the user answered.

import { Replayer } from "@rrweb/replay";
import { connect, type Connection, type ConnectionState } from "./connection";
import { el } from "./dom";
import type { ConsentKind, MirrorClientFrame, RrwebEvent } from "./mirror-protocol";
import { WIDGET_SELECTOR } from "./mirror-privacy";
import { RemoteInput } from "./mirror-remote";
import { ReplayStyles } from "./mirror-styles";
import type { Party, Partner, ServerFrame, SessionId, SessionSummary } from "./protocol";

type ReplayEvent = Parameters<Replayer["addEvent"]>[0];

// rrweb's EventType and IncrementalSource, the parts used here.
const INCREMENTAL = 3;
const MOUSE_MOVE = 1;
const MOUSE_INTERACTION = 2;
const TOUCH_MOVE = 6;

/**
 * Events are applied the moment they arrive (the replayer casts events older than its
 * baseline at once): no waiting for an animation frame, and no lag when the user's clock is
 * ahead of the operator's.
 */
const APPLY_AT_ONCE = Number.MAX_SAFE_INTEGER;

/**
 * The replay's own rules: the replayer's (noscript hidden), and no empty boxes for the
 * widget, which the recording leaves out (mirror-privacy.ts).
 */
const REPLAY_RULES = ["noscript { display: none !important; }", `${WIDGET_SELECTOR} { display: none !important; }`];

export class MirrorViewer {
  private socket: Connection | undefined;
  private ready = false;
  private you: Party | undefined;
  private readonly views = new Map<SessionId, MirrorView>();
  /** The view whose request went out last: errors name no session, so they are its. */
  private asking: MirrorView | undefined;

  constructor(private readonly token: () => Promise<string>) {}

  /** The mirror part of a session row. */
  view(session: SessionId): MirrorView {
    const view = new MirrorView(session, this);
    this.views.set(session, view);
    return view;
  }

  forget(view: MirrorView): void {
    if (this.views.get(view.session) === view) this.views.delete(view.session);
  }

  /** The operator's own id, once the socket said it. */
  get me(): string | undefined {
    return this.you?.id;
  }

  /** Sends if the socket is ready; opens it on first use (its hello sends what views want). */
  send(frame: MirrorClientFrame, from?: MirrorView): boolean {
    this.socket ??= connect("/mirror/ws", this.token, (f) => this.onFrame(f), (s) => this.onState(s));
    if (from) this.asking = from;
    return this.ready && this.socket.send(frame);
  }

  private onState(state: ConnectionState): void {
    if (state !== "open") this.ready = false;
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "hello":
        this.you = frame.you;
        this.ready = true;
        // A new socket (also after a reconnect): ask again for what the views show.
        for (const view of this.views.values()) view.resume();
        return;
      case "mirror.events":
        return this.views.get(frame.session)?.events(frame.events);
      case "mirror.control":
        return this.views.get(frame.session)?.controlledBy(frame.controller);
      case "mirror.ended":
        return this.views.get(frame.session)?.ended(frame.reason);
      case "mirror.pending":
        return this.views.get(frame.session)?.pending(frame.kind);
      case "mirror.answer":
        if (frame.operator === this.you?.id) this.views.get(frame.session)?.answered(frame.kind, frame.granted);
        return;
      case "error":
        return this.asking?.refused(frame.message);
    }
  }
}

export class MirrorView {
  readonly element: HTMLElement;
  private readonly observeButton = el("button", { type: "button", class: "lh-mirror-view__observe" }, "Observe");
  private readonly controlButton = el("button", { type: "button", class: "lh-mirror-view__control", hidden: "" }, "Control");
  private readonly note = el("p", { class: "lh-mirror-view__note", role: "status", "aria-label": "Screen view" });
  private readonly stage = el("div", { class: "lh-mirror-view__stage", hidden: "" });
  private observing = false;
  /** This operator holds control (the server said so, and they did not give it back since). */
  private controlling = false;
  private replayer: Replayer | undefined;
  private remote: RemoteInput | undefined;
  private shown = false;
  private size = { width: 1024, height: 768 };
  private readonly resizes = new ResizeObserver(() => this.fit());
  private readonly styles = new ReplayStyles(REPLAY_RULES.join("\n"));
  /** Whose screen, for the frame's title. */
  private who = "the user";

  constructor(
    readonly session: SessionId,
    private readonly viewer: MirrorViewer,
  ) {
    this.element = el(
      "section",
      { class: "lh-mirror-view", "aria-label": "Screen" },
      el("div", { class: "lh-mirror-view__buttons" }, this.observeButton, this.controlButton),
      this.note,
      this.stage,
    );
    this.note.hidden = true;
    this.observeButton.addEventListener("click", () => (this.observing ? this.close() : this.open()));
    this.controlButton.addEventListener("click", () => (this.controlling ? this.release() : this.takeControl()));
  }

  /** The row's session changed: nobody may observe an unavailable session. */
  update(summary: SessionSummary): void {
    this.who = summary.user_name ?? "an anonymous user";
    const allowed = summary.availability !== "unavailable";
    this.observeButton.disabled = !allowed && !this.observing;
    this.observeButton.title = allowed ? "" : "The host does not let operators view this session";
  }

  /** The row left the list. */
  drop(): void {
    if (this.observing) this.close();
    this.viewer.forget(this);
  }

  private open(): void {
    this.observing = true;
    this.shown = false;
    this.observeButton.textContent = "Stop observing";
    this.controlButton.hidden = false;
    this.controlButton.disabled = false;
    this.say("Waiting for the user's screen…");
    this.stage.hidden = false;
    // The request first: building the replayer takes a while, and nothing arrives before
    // this task ends anyway.
    this.viewer.send({ type: "mirror.observe", session: this.session, on: true }, this);
    this.startReplay();
  }

  /** "Stop observing": the view closes; the server gives control back if it was held. */
  private close(note?: string): void {
    if (this.observing) this.viewer.send({ type: "mirror.observe", session: this.session, on: false }, this);
    this.shut(note);
  }

  /** Closes the view without telling the server (it ended there). */
  private shut(note?: string): void {
    this.observing = false;
    this.setControlling(false);
    this.observeButton.textContent = "Observe";
    this.controlButton.hidden = true;
    this.stopReplay();
    this.stage.hidden = true;
    this.say(note);
  }

  private takeControl(): void {
    if (!this.viewer.send({ type: "mirror.control", session: this.session, on: true }, this)) {
      this.say("Not connected to the screen service; try again in a moment.");
      return;
    }
    // Until the server answers (mirror.control, mirror.pending or an error).
    this.controlButton.disabled = true;
    this.say(undefined);
  }

  private release(): void {
    this.viewer.send({ type: "mirror.control", session: this.session, on: false }, this);
    // Also when the lock had lapsed (then the server has nothing to announce).
    this.setControlling(false);
  }

  /** A new socket: observe (and control) again what this view showed. */
  resume(): void {
    if (!this.observing) return;
    this.viewer.send({ type: "mirror.observe", session: this.session, on: true });
    if (this.controlling) this.viewer.send({ type: "mirror.control", session: this.session, on: true });
  }

  events(events: RrwebEvent[]): void {
    if (!this.replayer) return;
    for (const event of events) {
      if (this.remote?.isEcho(event)) continue;
      this.showPointer(event);
      this.replayer.addEvent(event as unknown as ReplayEvent);
    }
  }

  controlledBy(controller: Partner | null): void {
    if (!this.observing) return;
    const mine = controller !== null && controller.id === this.viewer.me;
    this.setControlling(mine);
    this.controlButton.disabled = false;
    if (controller && !mine) this.say(`Controlled by ${controller.name ?? "another operator"}`);
    else if (!this.shown) this.say("Waiting for the user's screen…");
    else this.say(mine ? "You control the screen: your edits and clicks happen on the user's page." : undefined);
  }

  ended(reason: string): void {
    if (this.observing) this.shut(`The view ended: ${reason}`);
  }

  pending(kind: ConsentKind): void {
    this.say("Waiting for the user to agree…");
    if (kind === "control") this.controlButton.disabled = true;
  }

  answered(kind: ConsentKind, granted: boolean): void {
    if (granted) {
      this.say(undefined);
      return;
    }
    if (kind === "observe") this.shut("The user declined");
    else {
      this.controlButton.disabled = false;
      this.say("The user declined");
    }
  }

  refused(message: string): void {
    this.controlButton.disabled = false;
    if (/do not control/.test(message)) this.setControlling(false);
    if (/cannot be observed/.test(message)) this.shut(message);
    else this.say(message);
  }

  private say(text: string | undefined): void {
    this.note.textContent = text ?? "";
    this.note.hidden = !text;
  }

  private setControlling(on: boolean): void {
    if (on === this.controlling) return;
    this.controlling = on;
    this.controlButton.textContent = on ? "Stop controlling" : "Control";
    this.element.classList.toggle("lh-mirror-view--control", on);
    if (on) this.remote?.start();
    else this.remote?.stop();
  }

  private startReplay(): void {
    const replayer = new Replayer([], {
      root: this.stage,
      liveMode: true,
      // With the virtual DOM a live view that gets a backlog shows neither it nor later changes.
      useVirtualDom: false,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      pauseAnimation: false,
      insertStyleRules: REPLAY_RULES,
    });
    replayer.iframe.title = `Screen of ${this.who}`;
    replayer.on("resize", (size) => {
      this.size = size as { width: number; height: number };
      this.fit();
    });
    replayer.on("fullsnapshot-rebuilded", () => {
      this.styles.attach(replayer.iframe.contentDocument);
      if (!this.shown) {
        this.shown = true;
        if (this.note.textContent === "Waiting for the user's screen…") this.say(undefined);
      }
      this.remote?.rebuilt();
    });
    replayer.startLive(APPLY_AT_ONCE);
    this.replayer = replayer;
    this.remote = new RemoteInput(replayer, (action) =>
      this.viewer.send({ type: "mirror.input", session: this.session, action }, this),
    );
    this.resizes.observe(this.stage);
  }

  private stopReplay(): void {
    this.resizes.disconnect();
    this.styles.detach();
    this.remote?.stop();
    this.remote = undefined;
    try {
      this.replayer?.destroy();
    } catch {
      // Already gone with the row.
    }
    this.replayer = undefined;
    this.stage.replaceChildren();
  }

  /** Scales the user's viewport down to the row's width. */
  private fit(): void {
    const wrapper = this.replayer?.wrapper;
    if (!wrapper) return;
    const available = this.stage.clientWidth || this.size.width;
    const scale = Math.min(1, available / this.size.width);
    wrapper.style.transform = `scale(${scale})`;
    this.stage.style.height = `${Math.ceil(this.size.height * scale)}px`;
  }

  /**
   * Where the user's pointer is. Events applied at once skip the replayer's own pointer
   * animation, so its pointer is moved here.
   */
  private showPointer(event: RrwebEvent): void {
    if (event.type !== INCREMENTAL) return;
    const data = event.data as { source: number; positions?: { x: number; y: number }[]; x?: number; y?: number };
    let at: { x: number; y: number } | undefined;
    if ((data.source === MOUSE_MOVE || data.source === TOUCH_MOVE) && data.positions?.length) {
      at = data.positions[data.positions.length - 1];
    } else if (data.source === MOUSE_INTERACTION && typeof data.x === "number" && typeof data.y === "number") {
      at = { x: data.x, y: data.y };
    }
    if (!at) return;
    const pointer = this.replayer?.wrapper.querySelector<HTMLElement>(".replayer-mouse");
    if (!pointer) return;
    pointer.style.left = `${at.x}px`;
    pointer.style.top = `${at.y}px`;
  }
}
