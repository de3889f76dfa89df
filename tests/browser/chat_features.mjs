// Browser test: the chat features of SPEC §5 and §6 through the real pages (the demo host's
// interview with the widget, and the monitor), each scenario in fresh browser contexts:
//
// 1. help chat: the launcher grey, then green with "1 operator standing by" once an
//    operator is available; typing indicators both ways; a message that looks like HTML
//    shown as text; the row highlighted until the operator goes to its box; read receipts
//    both ways; then the user reloads mid-conversation and finds the log once, chat still
//    on, and chats on; then turns chat off and keeps the log;
// 2. block and unblock from the monitor: the chat ends on both sides, and starts again;
// 3. peerhelp: two users of one multi-user interview (the second follows its invite link)
//    talk to each other, and the operator takes part in their group chat.
//
//     node tests/browser/chat_features.mjs <base-url>
//
// Exit code 0 and "chat features ok" mean every scenario passed. On failure it prints which
// step failed and what the pages showed, saves screenshots into $LIVEHELP_ARTIFACTS (when
// set), and exits 1. Every wait is bounded; the whole script stays under 150 s.
//
// Elements are found by role and accessible name. The CSS used: the launcher's green class
// (`lh-launcher--available`), the row's highlight (`lh-row--new`), and the chat bubbles
// (`.lh-msg`, `.lh-msg--own`, `.lh-msg--partner`), which have no role of their own.

import { Harness, StepFailure, STEP_MS, sleep } from './harness.mjs';
import {
  RUN,
  TITLE,
  activateChat,
  answerStepOne,
  becomeAvailable,
  launcher,
  openMonitor,
  openWidget,
  row,
  say,
  signIn,
  startInterview,
  waitLauncher,
} from './demo.mjs';

const h = new Harness('chat_features', { flowBudgetMs: 130_000, hardLimitMs: 148_000, okLine: 'chat features ok' });

const OPERATOR = 'Olivia Operator';
const XSS = '<img src=x onerror=alert(1)>';

/** What opened an alert, if anything did (script from a message would). */
let alerted;

function noAlerts(page, role) {
  page.on('dialog', (dialog) => {
    alerted = `${role} page opened a ${dialog.type()}: ${JSON.stringify(dialog.message())}`;
    void dialog.dismiss().catch(() => {});
  });
}

/** The lines saying how chat stands, in the widget's panel. */
const panelStatus = (dialog) => dialog.getByRole('status', { name: 'Chat status', exact: true });

/** The bubbles of `log` holding `text`. */
const bubbles = (log, text) => log.locator('.lh-msg').filter({ hasText: text });

/** A user who started the interview, and an operator on the monitor (not yet available). */
async function helpSetup(base, browser, userName) {
  h.step('user: interview step 1');
  const user = await h.newPage(browser, 'user');
  noAlerts(user, 'user');
  await startInterview(h, user, base, userName);

  h.step('operator: sign in and open the monitor');
  const op = await h.newPage(browser, 'operator');
  noAlerts(op, 'operator');
  await signIn(h, op, base, OPERATOR, 'advocate');
  await openMonitor(h, op);
  return { user, op };
}

async function helpChat(base, browser) {
  const ada = `Ada Lovelace ${RUN}-1`;
  const { user, op } = await helpSetup(base, browser, ada);

  h.step('user: the launcher is grey while no operator is available');
  await h.waitVisible(launcher(user), 'widget launcher button "Live help"');
  await h.poll(
    'the launcher\'s title "Live help (no one available)"',
    async () => {
      const title = await launcher(user).getAttribute('title', { timeout: 1_000 });
      return { ok: title === 'Live help (no one available)', seen: JSON.stringify(title) };
    },
    STEP_MS,
  );
  await waitLauncher(h, user, false);

  h.step('operator: available for chat as an advocate');
  await becomeAvailable(h, op, 'advocate');

  h.step('user: the launcher turns green, one operator standing by');
  await waitLauncher(h, user, true);
  const dialog = await openWidget(h, user);
  const status = panelStatus(dialog);
  await h.waitForText(status, '1 operator standing by', STEP_MS, { what: 'the panel\'s status' });

  h.step('user: activate chat; an operator is attached');
  const box = await activateChat(h, dialog);
  await h.waitForText(status, `Chatting with ${OPERATOR}`, STEP_MS, { what: 'the panel\'s status' });

  h.step('operator: the row shows the chat; the user types');
  const adaRow = row(op, ada);
  const opLog = adaRow.getByRole('log', { name: `Chat with ${ada}`, exact: true });
  await h.waitVisible(opLog, `log "Chat with ${ada}"`);
  // Key by key for a few seconds: typing goes out again every 2 s, as it does for a person,
  // so the indicator shows even if the first one went out before the row's chat was open.
  await h.act('type into "Chat message"', (o) => box.pressSequentially(XSS, { ...o, delay: 100 }));
  await h.waitVisible(adaRow.getByText(`${ada} is typing…`, { exact: true }), `"${ada} is typing…" in the row`);

  h.step('user: send a message that looks like HTML');
  await h.act('press Enter in "Chat message"', (o) => box.press('Enter', o));
  await h.waitForCount(adaRow.getByText(`${ada} is typing…`), 0, 'the typing indicator after the send');

  h.step('operator: the message shows as text, and highlights the row');
  await h.waitForCount(bubbles(opLog, XSS), 1, `bubbles holding ${XSS} in the operator's log`);
  const images = await h.act('count <img> elements in the log', () =>
    opLog.evaluate((el) => el.getElementsByTagName('img').length),
  );
  if (images !== 0) throw new StepFailure(`the message was rendered as HTML: the log holds ${images} <img> element(s)`);
  await h.waitForClass(adaRow, 'lh-row--new', true, 'the row');

  h.step('operator: looks at it; the user sees it was read');
  await h.act('scroll the operator\'s log into view', (o) => opLog.scrollIntoViewIfNeeded(o));
  const userLog = dialog.getByRole('log', { name: 'Chat messages', exact: true });
  await h.waitVisible(bubbles(userLog, XSS).getByText('Read', { exact: true }), '"Read" under the user\'s message');

  h.step('operator: goes to the box (the highlight ends) and types; the user sees it');
  const reply = adaRow.getByRole('textbox', { name: `Message to ${ada}`, exact: true });
  const replyText = `Hello ${ada}, Olivia here.`;
  await h.act(`type into "Message to ${ada}"`, (o) => reply.fill(replyText, o));
  await h.waitForClass(adaRow, 'lh-row--new', false, 'the row');
  await h.waitVisible(dialog.getByText(`${OPERATOR} is typing…`, { exact: true }), `"${OPERATOR} is typing…" in the panel`);

  h.step('operator: reply; the user sees it by name and reads it');
  await h.act(`press Enter in "Message to ${ada}"`, (o) => reply.press('Enter', o));
  await h.waitForText(bubbles(userLog, replyText), OPERATOR, STEP_MS, { what: 'the reply\'s bubble' });
  await h.waitVisible(bubbles(opLog, replyText).getByText('Read', { exact: true }), '"Read" under the operator\'s reply');
  if (alerted) throw new StepFailure(alerted);

  h.step('user: reload mid-conversation');
  await h.act('reload the interview page', (o) => user.reload(o));
  const again = await openWidget(h, user);
  await h.waitVisible(again.getByRole('button', { name: 'Turn off chat', exact: true }), 'button "Turn off chat" (chat still on)');
  await waitLauncher(h, user, true);
  const logAgain = again.getByRole('log', { name: 'Chat messages', exact: true });
  await h.waitForCount(bubbles(logAgain, replyText), 1, 'bubbles holding the reply after the reload');
  // Give a resumed history the time to (wrongly) repeat a message.
  await sleep(1_500);
  await h.waitForCount(logAgain.locator('.lh-msg'), 2, 'messages in the log after the reload (each once)');
  await h.waitForCount(bubbles(logAgain, XSS), 1, 'bubbles holding the user\'s message after the reload');

  h.step('user: a message after the reload reaches the operator');
  const after = `Still here after the reload, ${ada}.`;
  await say(h, again.getByRole('textbox', { name: 'Chat message', exact: true }), after, 'textbox "Chat message"');
  await h.waitForCount(bubbles(opLog, after), 1, 'the message after the reload in the operator\'s log');
  if (alerted) throw new StepFailure(alerted);

  h.step('user: Turn off chat; the log stays, the row\'s chat goes');
  await turnOff(again);
  await h.waitForCount(bubbles(logAgain, after), 1, 'the last message in the log after "Turn off chat"');
  await h.waitForCount(opLog, 0, `log "Chat with ${ada}" after "Turn off chat"`);
}

/** "Turn off chat": the box is disabled, and the queue keeps no chat of someone gone. */
async function turnOff(dialog) {
  await h.act('click "Turn off chat"', (o) => dialog.getByRole('button', { name: 'Turn off chat', exact: true }).click(o));
  await h.waitVisible(dialog.getByRole('button', { name: 'Activate chat', exact: true }), 'button "Activate chat"');
  const box = dialog.getByRole('textbox', { name: 'Chat message', exact: true });
  await h.poll('"Chat message" to be disabled', async () => ({ ok: await box.isDisabled(), seen: 'enabled' }), STEP_MS);
}

async function blockAndUnblock(base, browser) {
  const ada = `Ada Lovelace ${RUN}-2`;
  const { user, op } = await helpSetup(base, browser, ada);
  await becomeAvailable(h, op, 'advocate');

  h.step('user: chat on, a first message reaches the operator');
  const dialog = await openWidget(h, user);
  await say(h, await activateChat(h, dialog), 'Before the block', 'textbox "Chat message"');
  const adaRow = row(op, ada);
  const opLog = adaRow.getByRole('log', { name: `Chat with ${ada}`, exact: true });
  await h.waitForCount(bubbles(opLog, 'Before the block'), 1, 'the first message in the operator\'s log');

  h.step('operator: Block');
  await h.act('click "Block"', (o) => adaRow.getByRole('button', { name: 'Block', exact: true }).click(o));
  await h.waitVisible(adaRow.getByText('Blocked', { exact: true }), 'the "Blocked" marker in the row');
  await h.waitVisible(adaRow.getByRole('button', { name: 'Unblock', exact: true }), 'button "Unblock"');
  await h.waitVisible(adaRow.getByText('Chat ended: the session was blocked', { exact: true }), 'the chat area\'s end note');

  h.step('user: chat with an operator is not available');
  await h.waitForText(panelStatus(dialog), 'Chat with an operator is not available', STEP_MS, {
    what: 'the panel\'s status',
  });
  await waitLauncher(h, user, false);
  const activate = dialog.getByRole('button', { name: 'Activate chat', exact: true });
  await h.poll('"Activate chat" to be disabled', async () => ({ ok: await activate.isDisabled(), seen: 'enabled' }), STEP_MS);

  h.step('operator: Unblock');
  await h.act('click "Unblock"', (o) => adaRow.getByRole('button', { name: 'Unblock', exact: true }).click(o));
  await h.waitVisible(adaRow.getByRole('button', { name: 'Block', exact: true }), 'button "Block" again');
  await h.waitForCount(adaRow.getByText('Blocked', { exact: true }).filter({ visible: true }), 0, 'a visible "Blocked" marker');

  h.step('user: chat on again; a message reaches the operator');
  await waitLauncher(h, user, true);
  await say(h, await activateChat(h, dialog), 'After the unblock', 'textbox "Chat message"');
  await h.waitForCount(bubbles(opLog, 'After the unblock'), 1, 'the message after the unblock in the operator\'s log');
  await turnOff(dialog);
}

async function peerHelp(base, browser) {
  const bea = `Bea ${RUN}`;
  const cal = `Cal ${RUN}`;

  h.step('Bea: a multi-user interview; its invite link');
  const beaPage = await h.newPage(browser, 'bea');
  await startInterview(h, beaPage, base, bea, true);
  const invite = await h.act('read "Invite link"', (o) => beaPage.getByLabel('Invite link', { exact: true }).inputValue(o));

  h.step('Cal: follows the invite link');
  const calPage = await h.newPage(browser, 'cal');
  await h.act(`open ${invite}`, (o) => calPage.goto(new URL(invite, base).href, o));
  await answerStepOne(h, calPage, cal, true);

  h.step('operator: available as an advocate');
  const op = await h.newPage(browser, 'operator');
  await signIn(h, op, base, OPERATOR, 'advocate');
  await openMonitor(h, op);
  await becomeAvailable(h, op, 'advocate');

  h.step('Bea and Cal: one other person here; both turn chat on');
  const beaDialog = await openWidget(h, beaPage);
  await h.waitForText(panelStatus(beaDialog), '1 other person here', STEP_MS, { what: 'Bea\'s panel status' });
  const beaBox = await activateChat(h, beaDialog);
  const calDialog = await openWidget(h, calPage);
  const calBox = await activateChat(h, calDialog);

  h.step('Bea writes; Cal sees it by name and reads it');
  await say(h, beaBox, `Hello from ${bea}`, 'Bea\'s "Chat message"');
  const calLog = calDialog.getByRole('log', { name: 'Chat messages', exact: true });
  await h.waitForText(bubbles(calLog, `Hello from ${bea}`), bea, STEP_MS, { what: 'Bea\'s bubble in Cal\'s log' });
  const beaLog = beaDialog.getByRole('log', { name: 'Chat messages', exact: true });
  await h.waitVisible(bubbles(beaLog, `Hello from ${bea}`).getByText('Read', { exact: true }), '"Read" under Bea\'s message');

  h.step('Cal types and answers; Bea sees both');
  await h.act('type into Cal\'s "Chat message"', (o) => calBox.fill(`Hi ${bea}`, o));
  await h.waitVisible(beaDialog.getByText(`${cal} is typing…`, { exact: true }), `"${cal} is typing…" in Bea's panel`);
  await h.act('press Enter in Cal\'s "Chat message"', (o) => calBox.press('Enter', o));
  await h.waitForText(bubbles(beaLog, `Hi ${bea}`), cal, STEP_MS, { what: 'Cal\'s bubble in Bea\'s log' });

  h.step('operator: the group chat in the row; a message to the group');
  const groupRow = op
    .getByRole('list', { name: 'Sessions', exact: true })
    .getByRole('article', { name: new RegExp(`^${TITLE} \u2014 (${bea}|${cal})$`) });
  const groupLog = groupRow.getByRole('log', { name: 'Group chat', exact: true });
  await h.waitForCount(bubbles(groupLog, `Hi ${bea}`), 1, 'Cal\'s message in the operator\'s "Group chat"');
  await say(h, groupRow.getByRole('textbox', { name: 'Message to the group', exact: true }), 'Hello both', '"Message to the group"');
  await h.waitForText(bubbles(beaLog, 'Hello both'), OPERATOR, STEP_MS, { what: 'the operator\'s bubble in Bea\'s log' });
  await h.waitForText(bubbles(calLog, 'Hello both'), OPERATOR, STEP_MS, { what: 'the operator\'s bubble in Cal\'s log' });
}

h.main(async (base, browser) => {
  for (const scenario of [helpChat, blockAndUnblock, peerHelp]) {
    h.step(`scenario: ${scenario.name}`);
    await scenario(base, browser);
    await h.closeAll();
  }
});
