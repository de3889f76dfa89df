// Tells the others in a conversation that this person is typing: `true` at most once every
// 2 s while they type (which also keeps the others' indicator from timing out), `false`
// after 3 s without typing, when the box is emptied, or when the message goes.

const REPEAT_MS = 2_000;
const IDLE_MS = 3_000;

export class TypingSender {
  /** When the last `true` went out; 0 while not typing. */
  private lastTrue = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (typing: boolean) => void) {}

  input(): void {
    const now = Date.now();
    if (now - this.lastTrue >= REPEAT_MS) {
      this.send(true);
      this.lastTrue = now;
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  stop(): void {
    if (this.idle === undefined) return;
    clearTimeout(this.idle);
    this.idle = undefined;
    this.lastTrue = 0;
    this.send(false);
  }
}
