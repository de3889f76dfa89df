// The buttons of a monitor row that are not about chat (SPEC §6, §8): Join opens the host's
// interview for the session in a new tab as the operator, through a single-use join link
// (POST /monitor/api/sessions/{session}/join); Dismiss hides an offline row until its user
// comes back; and "Forward calls" (forward-toggle.ts).

import { el } from "./dom";
import { ForwardToggle } from "./forward-toggle";
import { ApiFailure, callApi } from "./operator-api";
import type { ClientFrame, SessionSummary } from "./protocol";

export interface RowActionLinks {
  /** A fresh token for HTTP calls as the operator. */
  token(): Promise<string>;
  /** Sends on the monitor socket if it is ready. */
  monitor(frame: ClientFrame): boolean;
}

export class RowActions {
  readonly element: HTMLElement;
  private summary: SessionSummary;
  private readonly join = el("button", { class: "lh-row__join", type: "button" }, "Join");
  private readonly dismiss = el("button", { class: "lh-row__dismiss", type: "button", hidden: "" }, "Dismiss");
  /** Why Join did not work. */
  private readonly problem = el("span", { class: "lh-row__problem", role: "alert" });
  private readonly forward: ForwardToggle;

  constructor(summary: SessionSummary, private readonly links: RowActionLinks) {
    this.summary = summary;
    this.forward = new ForwardToggle(summary.session, links.token);
    this.element = el("div", { class: "lh-row__actions" }, this.join, this.dismiss, this.forward.element, this.problem);
    this.join.addEventListener("click", () => void this.openJoin());
    this.dismiss.addEventListener("click", () => {
      if (!links.monitor({ type: "session.dismiss", session: this.summary.session })) {
        this.problem.textContent = "Not dismissed: no connection.";
      }
    });
    this.update(summary);
  }

  update(next: SessionSummary): void {
    this.summary = next;
    this.dismiss.hidden = next.status !== "offline";
  }

  drop(): void {
    this.forward.drop();
  }

  /**
   * The tab opens at once, while the click still counts as the operator's (a popup blocker
   * would stop one opened after the request); the link goes into it when it arrives.
   */
  private async openJoin(): Promise<void> {
    this.problem.textContent = "";
    this.join.disabled = true;
    const tab = window.open("", "_blank");
    try {
      const path = `/monitor/api/sessions/${encodeURIComponent(this.summary.session)}/join`;
      const answer = (await callApi("POST", path, this.links.token)) as { url?: unknown };
      if (typeof answer?.url !== "string") throw new ApiFailure("the answer has no link", 500);
      const url = new URL(answer.url, location.href).href;
      if (tab) {
        // The interview gets no handle on the monitor.
        tab.opener = null;
        tab.location.href = url;
      } else if (!window.open(url, "_blank")) {
        this.problem.textContent = "Could not open a tab: allow pop-ups for this page.";
      }
    } catch (e) {
      tab?.close();
      this.problem.textContent = `Could not join: ${e instanceof ApiFailure ? e.message : String(e)}`;
    } finally {
      this.join.disabled = false;
    }
  }
}
