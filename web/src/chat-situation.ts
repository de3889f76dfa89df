// What the widget makes of a chat.state (docs/protocol.md): whether chat is possible (the
// launcher is green), whether "Activate chat" can work, and the lines the panel shows.

import type { ChatState } from "./protocol";

/** Enabled, and peers to talk to, an operator standing by, or one already attached. */
export function isPossible(s: ChatState): boolean {
  return s.enabled && (s.mode !== "help" || s.help > 0 || (s.active && s.operator !== null));
}

/** The server refuses activation in help mode while blocked or with nobody standing by. */
export function canActivate(s: ChatState): boolean {
  return s.enabled && (s.mode !== "help" || (!s.blocked && s.help > 0));
}

/** `operatorLeft`: the attached operator went away while chat was on. */
export function describe(s: ChatState, operatorLeft: boolean): string[] {
  if (!s.enabled) return ["Live help is not available right now"];
  const lines: string[] = [];
  if (s.mode !== "peer") lines.push(s.blocked ? "Chat with an operator is not available" : standingBy(s.help));
  if (s.mode !== "help") lines.push(othersHere(s.peer));
  if (s.active && s.operator) lines.push(`Chatting with ${s.operator.name || "an operator"}`);
  else if (s.active && s.queue_position !== null) lines.push(`You are number ${s.queue_position} in the queue`);
  if (operatorLeft) lines.push("Your operator left the chat");
  return lines;
}

function standingBy(help: number): string {
  if (help === 0) return "No operator is available right now";
  return help === 1 ? "1 operator standing by" : `${help} operators standing by`;
}

function othersHere(peer: number): string {
  if (peer === 0) return "No one else is here right now";
  return peer === 1 ? "1 other person here" : `${peer} other people here`;
}
