// One conversation in a monitor row: its log, who is typing, and the operator's message
// box. A help chat is with one user; in peerhelp mode the group chat is with all of them.

import { composer, type Composer } from "./composer";
import { Conversation } from "./conversation";
import { el } from "./dom";
import type { ChatMessage, ChatTyping, ClientFrame, ConversationId, Party } from "./protocol";
import { TypingIndicator } from "./typing-indicator";
import { TypingSender } from "./typing-sender";

export interface ChatAreaOptions {
  id: ConversationId;
  isOwn(from: Party): boolean;
  /** Sends on the chat socket if it is ready. */
  transmit(frame: ClientFrame): boolean;
  /** A partner's message arrived while the operator was not in this box. */
  onNewMessage(message: ChatMessage): void;
}

export class ChatArea {
  readonly element: HTMLElement;
  readonly conversation: Conversation;
  /** The operator may no longer take part (chat.closed); the log stays readable. */
  ended = false;
  private readonly log: HTMLElement;
  private readonly box: Composer;
  private readonly typists = new TypingIndicator();
  private readonly typing: TypingSender;
  private readonly endNote = el("p", { class: "lh-chat__ended", hidden: "" });

  constructor(private readonly options: ChatAreaOptions) {
    const id = options.id;
    // Once ended, the server would refuse anything about this conversation.
    const transmit = (frame: ClientFrame) => !this.ended && options.transmit(frame);
    this.log = el("div", { class: "lh-log", role: "log", "aria-live": "polite", tabindex: "0" });
    this.conversation = new Conversation({
      log: this.log,
      id,
      storageKey: `livehelp.monitor.${id}`,
      isOwn: options.isOwn,
      isReader: (by) => by.kind === "user",
      transmit,
    });
    this.typing = new TypingSender((typing) => transmit({ type: "chat.typing", typing, conversation: id }));
    this.box = composer("", this.typing, (text) => this.conversation.send(text)); // labelled by setName()
    this.element = el("div", { class: "lh-chat" }, this.log, this.typists.element, this.endNote, this.box.form);
  }

  /** The user's name (null: anonymous); group chats are named for the group. */
  setName(userName: string | null): void {
    const group = !this.options.id.includes("/");
    const who = userName ?? "Anonymous user";
    this.log.setAttribute("aria-label", group ? "Group chat" : `Chat with ${who}`);
    this.box.textarea.setAttribute("aria-label", group ? "Message to the group" : `Message to ${who}`);
  }

  receive(message: ChatMessage): void {
    if (!this.conversation.receive(message)) return;
    this.typists.stopped(message.from);
    if (document.activeElement !== this.box.textarea) this.options.onNewMessage(message);
  }

  showTyping(frame: ChatTyping): void {
    this.typists.update(frame.from, frame.typing);
  }

  end(why: string): void {
    this.ended = true;
    this.endNote.textContent = why;
    this.endNote.hidden = false;
    this.box.setEnabled(false);
    this.typists.reset();
  }

  /** Taking part again (unblocked): the caller reopens the conversation. */
  resume(): void {
    this.ended = false;
    this.endNote.hidden = true;
    this.box.setEnabled(true);
  }

  /** Gone from the row: forget it. */
  discard(): void {
    this.typing.stop();
    this.conversation.discard();
    this.element.remove();
  }
}
