// The operator's own settings at the top of the monitor (SPEC §6): "Available for chat" and
// the partner roles served, one checkbox per role live sessions asked for. A change goes
// out as operator.status; operator.state, which every tab of the operator gets, sets them.

import { el } from "./dom";
import type { OperatorState, OperatorStatus } from "./protocol";

export interface OperatorControls {
  element: HTMLElement;
  update(state: OperatorState): void;
  /** Off while the monitor socket is down: a change could not go out. */
  setEnabled(enabled: boolean): void;
}

export function operatorControls(send: (frame: OperatorStatus) => boolean): OperatorControls {
  const available = el("input", { type: "checkbox", role: "switch", id: "lh-available", disabled: "" });
  const none = el("p", { class: "lh-roles__none" }, "No session has asked for a role yet.");
  const roles = el("fieldset", { class: "lh-roles", disabled: "" }, el("legend", {}, "Partner roles"), none);
  const boxes = new Map<string, HTMLInputElement>();
  const element = el(
    "section",
    { class: "lh-operator", "aria-label": "Your status" },
    el("p", { class: "lh-switch" }, available, el("label", { for: "lh-available" }, "Available for chat")),
    roles,
  );

  function changed(): void {
    const served = [...boxes].filter(([, box]) => box.checked).map(([role]) => role);
    send({ type: "operator.status", available: available.checked, roles: served });
  }
  available.addEventListener("change", changed);

  /** One checkbox per role, sorted; existing ones are not moved, so they keep focus. */
  function showRoles(known: string[]): void {
    for (const [role, box] of boxes) {
      if (known.includes(role)) continue;
      box.parentElement!.remove();
      boxes.delete(role);
    }
    let next: Element | null = null;
    for (const role of [...known].sort().reverse()) {
      let box = boxes.get(role);
      if (!box) {
        box = el("input", { type: "checkbox", value: role });
        box.addEventListener("change", changed);
        boxes.set(role, box);
        roles.insertBefore(el("label", { class: "lh-roles__role" }, box, role), next);
      }
      next = box.parentElement;
    }
    none.hidden = boxes.size > 0;
  }

  return {
    element,
    update(state) {
      available.checked = state.available;
      showRoles([...new Set([...state.known_roles, ...state.roles])]);
      for (const [role, box] of boxes) box.checked = state.roles.includes(role);
    },
    setEnabled(enabled) {
      available.disabled = !enabled;
      roles.disabled = !enabled;
    },
  };
}
