// What the screen mirror never sends (SPEC §7): masking happens here, in the user's browser,
// before an event leaves it. Masked: password inputs (also once a "show password" toggle
// made them text: rrweb marks those), inputs and text the host marks sensitive with the
// attribute data-livehelp-mask or the class livehelp-mask, card-number and one-time-code
// fields, and whatever matches the selectors the host lists in the widget script's
// data-mask-selectors attribute (comma-separated). Anything inside a matching element is
// masked too. A masked value becomes a mask of fixed length, so neither the value nor its
// length leaves the page; only whether the field is empty does.
//
// The widget's own elements (the chat panel, the launcher, the mirror notices) are left out
// of the recording altogether: the operator has the chat already, and must not see (or
// click) a consent prompt or the Stop button.

/** What a masked value or text becomes, whatever its length. */
export const MASK = "••••••";

const BUILT_IN = ["[data-livehelp-mask]", ".livehelp-mask", '[autocomplete^="cc-"]', '[autocomplete="one-time-code"]'];

/** The widget's own elements. */
export const WIDGET_SELECTOR = ".lh-launcher, .lh-panel, .lh-mirror";

/**
 * Input types whose values go through maskValue. maskValue passes on what is not sensitive;
 * select elements are not listed (rrweb would then drop every option's selection), sensitive
 * ones are blocked instead.
 */
const VALUE_TYPES = [
  "color",
  "date",
  "datetime-local",
  "email",
  "month",
  "number",
  "password",
  "range",
  "search",
  "tel",
  "text",
  "textarea",
  "time",
  "url",
  "week",
] as const;

export interface Privacy {
  /** Matches sensitive elements (and, with closest, what is inside them). */
  selector: string;
  /** A password field, or an element the host marked sensitive (or inside one). */
  isSensitive(element: Element | null): boolean;
  /** rrweb's record options that do the masking. */
  recordOptions: {
    maskInputOptions: Record<(typeof VALUE_TYPES)[number], boolean>;
    maskInputFn: (text: string, element: HTMLElement) => string;
    maskTextSelector: string;
    maskTextFn: (text: string, element: HTMLElement | null) => string;
    blockSelector: string;
  };
}

/** The host's extra selectors, comma-separated; ones the browser cannot parse are dropped. */
export function parseSelectors(list: string | undefined): string[] {
  if (!list) return [];
  const probe = document.createDocumentFragment();
  const out: string[] = [];
  // Split on commas outside brackets and parentheses, so `a:is(b, c)` stays whole.
  let depth = 0;
  let current = "";
  for (const c of list) {
    if (c === "(" || c === "[") depth++;
    if (c === ")" || c === "]") depth = Math.max(0, depth - 1);
    if (c === "," && depth === 0) {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out
    .map((s) => s.trim())
    .filter((s) => {
      if (s === "") return false;
      try {
        probe.querySelector(s);
        return true;
      } catch {
        console.warn(`livehelp: data-mask-selectors: ignoring ${JSON.stringify(s)}, not a CSS selector`);
        return false;
      }
    });
}

export function privacy(extraSelectors: string[]): Privacy {
  const sensitive = [...BUILT_IN, ...extraSelectors];
  const selector = sensitive.join(", ");
  const isSensitive = (element: Element | null): boolean => {
    if (!element) return false;
    if (element instanceof HTMLInputElement && (element.type === "password" || element.hasAttribute("data-rr-is-password")))
      return true;
    return element.closest(selector) !== null;
  };
  const maskInputOptions = Object.fromEntries(VALUE_TYPES.map((t) => [t, true])) as Privacy["recordOptions"]["maskInputOptions"];
  return {
    selector,
    isSensitive,
    recordOptions: {
      maskInputOptions,
      maskInputFn: (text, element) => (text !== "" && isSensitive(element) ? MASK : text),
      maskTextSelector: selector,
      maskTextFn: (text) => (text.trim() === "" ? text : MASK),
      // Sensitive selects cannot be masked option by option: they are left out, as is the widget.
      blockSelector: [WIDGET_SELECTOR, ...sensitive.map((s) => `select:is(${s}), :is(${s}) select`)].join(", "),
    },
  };
}
