// sessionStorage, which lives as long as the tab: what lets a reload resume a conversation.
// It may be missing (sandboxed frames, some privacy modes) or full; chat works without it,
// a reload then just starts from the server's history.

export function load(key: string): unknown {
  try {
    const raw = sessionStorage.getItem(key);
    return raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** A failed save leaves the previous snapshot, which is older but still consistent. */
export function save(key: string, value: unknown): void {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Nothing better to do: see above.
  }
}

export function forget(key: string): void {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // Unavailable storage holds nothing to forget.
  }
}
