// How people are named on screen when the server knows no name for them.

import type { Party } from "./protocol";

export function displayName(party: Party): string {
  return party.name || (party.kind === "operator" ? "Operator" : "Anonymous user");
}
