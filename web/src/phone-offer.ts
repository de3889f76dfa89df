// The telephone offer in the widget's panel (SPEC §8): while chat.state has `phone`, a phone
// icon and "Call <number> and enter the code <code>", where the number is the service's
// (never the operator's). It goes when a chat.state has none (the code was used, cancelled
// or lapsed) or at `expires_at`, without waiting for that state.

import { el } from "./dom";
import type { PhoneOffer } from "./protocol";

const SVG = "http://www.w3.org/2000/svg";

export class PhoneOfferView {
  /** A live region: always in the panel, empty (and not shown) without an offer. */
  readonly element = el("div", { class: "lh-phone-offer", role: "status", "aria-label": "Call an operator" });
  private lapse: ReturnType<typeof setTimeout> | undefined;
  private offer: PhoneOffer | null = null;

  /** `onChange`: the offer appeared or went. */
  constructor(private readonly onChange: () => void) {}

  get shown(): boolean {
    return this.offer !== null;
  }

  show(offer: PhoneOffer | null | undefined): void {
    const next = offer ?? null;
    if (same(next, this.offer)) return;
    clearTimeout(this.lapse);
    this.lapse = undefined;
    const left = next ? Date.parse(next.expires_at) - Date.now() : NaN;
    if (!next || left <= 0) return this.set(null);
    // An unreadable expiry: shown until a chat.state says otherwise.
    if (!Number.isNaN(left)) this.lapse = setTimeout(() => this.set(null), Math.min(left, 2 ** 31 - 1));
    this.set(next);
  }

  private set(offer: PhoneOffer | null): void {
    const was = this.offer !== null;
    this.offer = offer;
    if (!offer) this.element.replaceChildren();
    else {
      this.element.replaceChildren(
        phoneIcon(),
        el(
          "p",
          { class: "lh-phone-offer__text" },
          "Call ",
          el("strong", { class: "lh-phone-offer__number" }, offer.number),
          " and enter the code ",
          el("strong", { class: "lh-phone-offer__code" }, offer.code),
        ),
      );
    }
    if (was !== (offer !== null)) this.onChange();
  }
}

function same(a: PhoneOffer | null, b: PhoneOffer | null): boolean {
  return a === b || (a !== null && b !== null && a.number === b.number && a.code === b.code && a.expires_at === b.expires_at);
}

/** A telephone handset. */
function phoneIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "lh-phone-offer__icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute(
    "d",
    "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
  );
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}
