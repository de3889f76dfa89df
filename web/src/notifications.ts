// Desktop notifications for the monitor (SPEC §6): asked for when the operator turns
// "Available for chat" on (a click, which browsers require for the question), shown only
// when granted. One per conversation at a time: a newer one replaces it.

const supported = (): boolean => typeof Notification !== "undefined";

/** Asks once; a browser that was answered before does not ask again. */
export function askPermission(): void {
  if (!supported() || Notification.permission !== "default") return;
  try {
    void Notification.requestPermission().catch(() => undefined);
  } catch {
    // Old callback-only implementations: no notifications then.
  }
}

/** `tag`: notifications with the same tag replace each other. */
export function notify(title: string, body: string, tag: string, onClick: () => void): void {
  if (!supported() || Notification.permission !== "granted") return;
  try {
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close();
    };
  } catch {
    // Some browsers (Chrome on Android) only notify through a service worker.
  }
}
