// The widget's side of the screen mirror (SPEC §7): a socket to /mirror/ws as the page's
// user, and an rrweb recording of the page that runs only while at least one operator
// observes. The server says when: mirror.watchers counts the observers, mirror.snapshot asks
// for a full snapshot (a new observer, or this page just connected while observed). While
// the host keeps the session unavailable the server refuses the events ("this session is
// not visible to operators") and the recording stops.
//
// Events go out as soon as the current task is done (a change's events together), at most
// one batch per MIN_GAP_MS: the server allows 100 batches a second.

import { record } from "@rrweb/record";
import { connect, tokenFrom, type ConnectionState } from "./connection";
import { mountMirrorBar, type MirrorBar } from "./mirror-consent";
import { PageControl, parseAction } from "./mirror-control";
import { parseSelectors, privacy } from "./mirror-privacy";
import type { RrwebEvent } from "./mirror-protocol";
import type { ServerFrame } from "./protocol";

const MIN_GAP_MS = 16;
/** The server's default mirror.max_frame_bytes is 4 MiB; stay clear of it. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024 - 4096;
/** After a refusal, try again this much later if operators still watch. */
const RETRY_MS = 5_000;
const FULL_SNAPSHOT = 2;

export function startMirror(tokenUrl: string, maskSelectors: string | undefined): void {
  const masking = privacy(parseSelectors(maskSelectors));
  const options = masking.recordOptions;
  let bar: MirrorBar | undefined;
  /** The bar is made on first use: most pages are never observed. */
  const ui = () => (bar ??= mountMirrorBar(() => ready && socket.send({ type: "mirror.stop" })));
  const control = new PageControl((id) => record.mirror.getNode(id), masking.isSensitive);

  let ready = false;
  /** Not a user's socket (a staff member on the page): it never streams. */
  let inert = false;
  let watchers = 0;
  let stopRecording: (() => void) | undefined;
  let queue: RrwebEvent[] = [];
  let flushPending = false;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSent = -Infinity;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const socket = connect("/mirror/ws", tokenFrom(tokenUrl), onFrame, onState);

  function onState(state: ConnectionState): void {
    if (state === "open") return;
    ready = false;
    stop();
    // Nobody can view or steer the page through a lost socket; the server tells again on
    // the next one.
    if (bar) {
      bar.setWatchers(0);
      bar.setControlled(null);
      bar.clearPrompts();
    }
    control.stop();
  }

  function onFrame(frame: ServerFrame): void {
    if (inert) return;
    switch (frame.type) {
      case "hello":
        inert = frame.you.kind !== "user";
        ready = !inert;
        return;
      case "mirror.watchers":
        watchers = frame.count;
        if (watchers === 0) stop();
        if (watchers > 0 || bar) ui().setWatchers(watchers);
        return;
      case "mirror.snapshot":
        return snapshot();
      case "mirror.control":
        if (frame.controller || bar) ui().setControlled(frame.controller);
        if (frame.controller) control.start();
        else control.stop();
        return;
      case "mirror.input": {
        const action = parseAction(frame.action);
        if (action) control.apply(action);
        return;
      }
      case "mirror.ask":
        return ui().ask(frame.kind, frame.operator, (granted) => {
          if (ready) socket.send({ type: "mirror.consent", kind: frame.kind, operator: frame.operator.id, granted });
        });
      case "error":
        if (frame.code === "forbidden" && /not visible/.test(frame.message)) {
          stop();
          retryLater();
        } else if (frame.code === "rate_limited") {
          // A batch was dropped: the operators' view is behind; send the whole page again.
          retryLater();
        }
        return;
    }
  }

  /** A full snapshot: the start of a recording, or a fresh one of the recording going on. */
  function snapshot(): void {
    if (!ready) return;
    if (stopRecording) {
      record.takeFullSnapshot(true);
      return;
    }
    try {
      stopRecording = record({
        emit: (event) => enqueue(event as RrwebEvent),
        ...options,
        slimDOMOptions: "all",
        inlineStylesheet: true,
        recordCanvas: false,
        collectFonts: false,
        sampling: { scroll: 50 },
      });
    } catch (e) {
      // The widget's chat goes on without the mirror.
      console.warn("livehelp: cannot record this page for the screen mirror", e);
    }
  }

  function stop(): void {
    stopRecording?.();
    stopRecording = undefined;
    queue = [];
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }

  function retryLater(): void {
    if (retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (ready && watchers > 0) snapshot();
    }, RETRY_MS);
  }

  function enqueue(event: RrwebEvent): void {
    if (!ready) return;
    control.hideDisabling(event);
    queue.push(event);
    if (flushPending || flushTimer !== undefined) return;
    const wait = lastSent + MIN_GAP_MS - performance.now();
    if (wait > 0) {
      flushTimer = setTimeout(flush, wait);
    } else {
      // After the current task's other events (a snapshot comes as two, a change as several).
      flushPending = true;
      queueMicrotask(flush);
    }
  }

  function flush(): void {
    flushPending = false;
    flushTimer = undefined;
    const events = queue;
    queue = [];
    if (events.length === 0 || !ready) return;
    lastSent = performance.now();
    for (const batch of fitting(events)) socket.send({ type: "mirror.events", events: batch });
  }
}

/** Splits a batch holding a full snapshot so that every frame stays under the size limit. */
function fitting(events: RrwebEvent[]): RrwebEvent[][] {
  if (!events.some((e) => e.type === FULL_SNAPSHOT)) return [events];
  const bytes = new TextEncoder().encode(JSON.stringify(events)).length;
  if (bytes <= MAX_FRAME_BYTES) return [events];
  if (events.length === 1) {
    console.warn(`livehelp: a snapshot of this page (${bytes} bytes) is too large to share`);
    return [];
  }
  const half = Math.ceil(events.length / 2);
  return [...fitting(events.slice(0, half)), ...fitting(events.slice(half))];
}
