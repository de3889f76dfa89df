// Whether the person can see an element now: it is on screen (not scrolled away, not in a
// closed panel) and the tab is in front. Read receipts are only sent for what was seen.

export interface Visibility {
  visible(): boolean;
  stop(): void;
}

/** Calls `onChange` whenever the answer may have changed. */
export function watchVisibility(element: HTMLElement, onChange: () => void): Visibility {
  let onScreen = false;
  const observer = new IntersectionObserver((entries) => {
    onScreen = entries[entries.length - 1]!.isIntersecting;
    onChange();
  });
  observer.observe(element);
  document.addEventListener("visibilitychange", onChange);
  return {
    visible: () => onScreen && document.visibilityState === "visible",
    stop() {
      observer.disconnect();
      document.removeEventListener("visibilitychange", onChange);
    },
  };
}
