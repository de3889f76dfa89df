// The replayed page's styles under the monitor page's Content-Security-Policy. The replay's
// iframe inherits the monitor's policy, which allows no inline styles, so the <style>
// elements and style attributes rrweb rebuilds would not apply and the user's page would
// show unstyled. The CSS object model is not subject to that policy: a blocked <style>'s
// text is adopted as a constructed stylesheet instead, and a blocked style attribute is set
// again through element.style. Where the policy allows inline styles nothing is blocked and
// this does nothing but add the viewer's own rules.

export class ReplayStyles {
  private observer: MutationObserver | undefined;
  private doc: Document | undefined;
  /** The sheets made for blocked <style> elements, and the text each was made from. */
  private sheets = new Map<HTMLStyleElement, { text: string; sheet: CSSStyleSheet }>();
  /** The viewer's own rules (the replayer's would be blocked too), first of all. */
  private base: CSSStyleSheet | undefined;

  constructor(private readonly rules: string) {}

  /** A full snapshot was (re)built into `doc`: style it, and follow its changes. */
  attach(doc: Document | null): void {
    this.detach();
    if (!doc) return;
    this.doc = doc;
    this.observer = new MutationObserver((records) => this.changed(records));
    this.observer.observe(doc, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["style"],
    });
    this.base = undefined;
    if (doc.defaultView) {
      this.base = new doc.defaultView.CSSStyleSheet();
      this.base.replaceSync(this.rules);
    }
    this.restyle(doc);
    this.adopt();
  }

  detach(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    this.doc = undefined;
    this.sheets = new Map();
  }

  private changed(records: MutationRecord[]): void {
    let sheetsChanged = false;
    for (const record of records) {
      if (record.type === "attributes") {
        this.restyleOne(record.target as Element);
        continue;
      }
      const target = record.type === "characterData" ? record.target.parentNode : record.target;
      if (target && (target as Element).tagName === "STYLE") sheetsChanged = true;
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        const element = node as Element;
        if (element.tagName === "STYLE" || element.querySelector("style")) sheetsChanged = true;
        this.restyle(element);
      }
      for (const node of record.removedNodes) {
        if ((node as Element).tagName === "STYLE" || (node as Element).querySelector?.("style")) sheetsChanged = true;
      }
    }
    if (sheetsChanged) this.adopt();
  }

  /** Style attributes the policy blocked, under `root`, set again through the CSSOM. */
  private restyle(root: ParentNode & Node): void {
    if (root.nodeType === Node.ELEMENT_NODE) this.restyleOne(root as Element);
    for (const element of root.querySelectorAll("[style]")) this.restyleOne(element);
  }

  private restyleOne(element: Element): void {
    const style = (element as HTMLElement).style;
    const text = element.getAttribute("style");
    // Blocked: the attribute is there, its declarations are not.
    if (!style || !text || style.length > 0) return;
    style.cssText = text;
  }

  /** Blocked <style> elements become constructed sheets, in document order. */
  private adopt(): void {
    const doc = this.doc;
    const win = doc?.defaultView;
    if (!doc || !win) return;
    const mine = new Set<CSSStyleSheet>(this.base ? [this.base] : []);
    const next = new Map<HTMLStyleElement, { text: string; sheet: CSSStyleSheet }>();
    for (const element of doc.querySelectorAll("style")) {
      if (element.sheet) continue;
      const text = element.textContent ?? "";
      if (text === "") continue;
      let entry = this.sheets.get(element);
      if (!entry) entry = { text: "", sheet: new win.CSSStyleSheet() };
      if (entry.text !== text) {
        try {
          entry.sheet.replaceSync(text);
        } catch {
          continue;
        }
        entry.text = text;
      }
      next.set(element, entry);
      mine.add(entry.sheet);
    }
    const previous = new Set([...this.sheets.values()].map((e) => e.sheet));
    this.sheets = next;
    // Sheets the replayer adopted itself (the page's constructed ones) stay, after these.
    const others = doc.adoptedStyleSheets.filter((s) => !previous.has(s) && !mine.has(s));
    doc.adoptedStyleSheets = [...mine, ...others];
  }
}
