// Browser test: one chat round trip between a user on the demo host's interview and an
// operator on the session monitor, driven through the real pages with Playwright.
//
// Spawned by the Rust tests once the whole cluster is up:
//
//     node tests/browser/chat_round_trip.mjs <base-url>
//
// Exit code 0 means the round trip worked. On failure it prints which step failed and what
// was seen to stderr, saves a screenshot of each page into $LIVEHELP_ARTIFACTS (when set),
// and exits 1. Every wait is bounded; the whole script stays under 60 s.
//
// Elements are found by role and accessible name, as a user would find them. The only CSS
// used is for the monitor row's status label (`.lh-status`) and the chat bubbles
// (`.lh-msg`, `.lh-msg--partner`), which have no role of their own.

import { Harness, StepFailure, STEP_MS } from './harness.mjs';
import { RUN, activateChat, becomeAvailable, openMonitor, openWidget, row, say, signIn, startInterview } from './demo.mjs';

const h = new Harness('chat_round_trip', { flowBudgetMs: 40_000, hardLimitMs: 57_000, okLine: 'chat round trip ok' });

const OPERATOR_NAME = 'Olivia Operator';
const USER_NAME = `Ada Lovelace ${RUN}`;
const USER_TEXT = 'Hello from Ada <b>bold?</b>';
const OPERATOR_TEXT = 'Hi Ada, Olivia here.';

h.main(async (base, browser) => {
  // --- 1. The user starts the interview: the session asks for an "advocate". -------------
  h.step('user: interview step 1');
  const user = await h.newPage(browser, 'user');
  await startInterview(h, user, base, USER_NAME);

  // --- 2. Operator signs in, opens the monitor and becomes available as an advocate. ----
  h.step('operator: sign in');
  const op = await h.newPage(browser, 'operator');
  await signIn(h, op, base, OPERATOR_NAME, 'advocate');
  h.step('operator: monitor loads');
  await openMonitor(h, op);
  h.step('operator: available for chat as an advocate');
  await becomeAvailable(h, op, 'advocate');

  // --- 3. The user opens the widget, turns chat on and says hello. -----------------------
  h.step('user: open the widget');
  const dialog = await openWidget(h, user);
  h.step('user: activate chat');
  const message = await activateChat(h, dialog);
  h.step('user: send a message');
  await say(h, message, USER_TEXT, 'textbox "Chat message"');

  // --- 4. Operator sees the session, the chat turned on and the message; replies. --------
  h.step('operator: session row appears');
  const adaRow = row(op, USER_NAME);
  await h.waitVisible(adaRow, `session row for ${USER_NAME}`);

  h.step('operator: chat status is "on"');
  await h.waitForText(adaRow.locator('.lh-status'), 'on', STEP_MS, {
    exact: true,
    normalize: (s) => s.toLowerCase(),
    what: "the row's status label (.lh-status)",
  });

  h.step('operator: the user message arrives as text');
  const opLog = adaRow.getByRole('log', { name: `Chat with ${USER_NAME}`, exact: true });
  await h.waitVisible(opLog, `log "Chat with ${USER_NAME}"`);
  await h.waitForText(opLog, USER_TEXT, STEP_MS, { what: `log "Chat with ${USER_NAME}"` });
  const bolds = await h.act('count <b> elements in the log', () =>
    opLog.evaluate((el) => el.getElementsByTagName('b').length),
  );
  if (bolds !== 0) {
    throw new StepFailure(`the user's message was rendered as HTML: the operator's log holds ${bolds} <b> element(s)`);
  }

  h.step('operator: reply');
  const reply = adaRow.getByRole('textbox', { name: `Message to ${USER_NAME}`, exact: true });
  await h.waitEnabled(reply, `textbox "Message to ${USER_NAME}"`);
  await say(h, reply, OPERATOR_TEXT, `textbox "Message to ${USER_NAME}"`);

  // --- 5. User sees the reply, from the operator by name. --------------------------------
  h.step('user: the reply arrives');
  const userLog = dialog.getByRole('log', { name: 'Chat messages', exact: true });
  await h.waitVisible(userLog, 'log "Chat messages"');
  await h.waitForText(userLog, OPERATOR_TEXT, STEP_MS, { what: 'log "Chat messages"' });
  const bubble = userLog.locator('.lh-msg.lh-msg--partner').filter({ hasText: OPERATOR_TEXT });
  await h.waitForText(bubble, OPERATOR_NAME, STEP_MS, {
    what: 'the partner bubble (.lh-msg--partner) holding the reply',
  });
  await h.waitVisible(
    bubble.getByText(OPERATOR_NAME, { exact: true }),
    `sender name ${JSON.stringify(OPERATOR_NAME)} in the reply's bubble`,
  );
});
