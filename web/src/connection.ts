// One self-healing WebSocket: a fresh token before every attempt, and reconnects forever
// with capped exponential backoff. Resuming where the page left off is up to the caller,
// which does it when the new socket's `hello` arrives.

import { SUBPROTOCOL, type ClientFrame, type ServerFrame } from "./protocol";

export type ConnectionState = "connecting" | "open" | "closed" | "signed-out";

export interface Connection {
  /** False when the socket is not open; the caller keeps what it must resend. */
  send(frame: ClientFrame): boolean;
}

/** The token URL answered 401: nobody is signed in to the host application. */
export class SignedOut extends Error {}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
/** A draining server (close 1001) is replaced at once; the jitter spreads its clients out. */
const DRAIN_JITTER_MS = 500;
const GOING_AWAY = 1001;

/** Asks the host application for a short-lived token; the session cookie proves who we are. */
export function tokenFrom(url: string): () => Promise<string> {
  return async () => {
    const answer = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (answer.status === 401) throw new SignedOut();
    if (!answer.ok) throw new Error(`token: HTTP ${answer.status}`);
    const body: unknown = await answer.json();
    const token = (body as { token?: unknown } | null)?.token;
    if (typeof token !== "string" || token === "") throw new Error("token: answer has no token");
    return token;
  };
}

/** The same host as the page, over wss: when the page came over https:. */
export function wsUrl(path: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export function connect(
  path: string,
  getToken: () => Promise<string>,
  onFrame: (frame: ServerFrame) => void,
  onState: (state: ConnectionState) => void,
): Connection {
  let socket: WebSocket | undefined;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function retry(draining: boolean): void {
    const delay = draining
      ? Math.random() * DRAIN_JITTER_MS
      : // Half fixed, half random: clients that lost the same server do not return in step.
        Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** failures++) * (0.5 + Math.random() / 2);
    retryTimer = setTimeout(open, delay);
  }

  async function open(): Promise<void> {
    retryTimer = undefined;
    onState("connecting");
    let ws: WebSocket;
    try {
      const token = await getToken();
      // Browsers cannot set headers on a WebSocket, so the token rides as a subprotocol.
      ws = new WebSocket(wsUrl(path), [SUBPROTOCOL, `bearer.${token}`]);
    } catch (e) {
      onState(e instanceof SignedOut ? "signed-out" : "closed");
      retry(false);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      failures = 0;
      onState("open");
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      onFrame(frame);
    };
    // A refused handshake (401/403) also ends here, as close 1006: retrying fetches a new token.
    ws.onclose = (event) => {
      socket = undefined;
      onState("closed");
      retry(event.code === GOING_AWAY);
    };
  }

  // Coming back online usually means the network blip is over: do not sit out the backoff.
  addEventListener("online", () => {
    if (retryTimer === undefined) return;
    clearTimeout(retryTimer);
    void open();
  });

  void open();

  return {
    send(frame) {
      if (socket?.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
  };
}
