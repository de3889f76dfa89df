// Browser test: screen mirroring, Observe and Control (SPEC §7), through the real pages (the
// demo host's interview with the widget, and the monitor), each page in its own browser
// context (and so its own window: a background page would be throttled):
//
// 1. the operator presses "Observe" on the user's row; the user sees that an operator views
//    the screen; the user types their name and the replay in the row shows it;
// 2. a password field and a field the host marks sensitive (data-livehelp-mask), injected
//    into the demo host's form (which has neither), get secrets: the replay shows a mask of
//    fixed length, and neither the replay's DOM nor any WebSocket frame the user's page
//    sends ever holds a secret or a mask of its length;
// 3. "Control": the user sees "An operator is controlling your screen" and their Continue
//    button is disabled; the operator fills "Your name" and presses Continue in the replay,
//    and the user's page moves on to step 2, which the replay follows;
// 4. "Stop controlling": the user sees "You have control again", Continue works again;
//    "Stop observing" ends the user's "viewing" notice.
//
//     node tests/browser/screen_mirror.mjs <base-url>
//
// Exit code 0 and "screen mirror ok" mean it passed. On failure it prints which step failed
// and what the pages showed, saves screenshots into $LIVEHELP_ARTIFACTS (when set), and
// exits 1. Every wait is bounded; the whole script stays under 60 s.

import { Harness, StepFailure, STEP_MS } from './harness.mjs';
import { RUN, openMonitor, row, signIn } from './demo.mjs';

const h = new Harness('screen_mirror', { flowBudgetMs: 50_000, hardLimitMs: 58_000, okLine: 'screen mirror ok' });

const OPERATOR = 'Olivia Operator';
const SECRET = 'hunter2-secret';
const CARD = '4111111111111111';
const SECRETS = [SECRET, CARD];
/** What the widget shows for any masked value (mirror-privacy.ts). */
const MASK = '••••••';
/** A mask as long as a secret would leak its length. */
const LEAKS = SECRETS.flatMap((s) => ['•'.repeat(s.length), '*'.repeat(s.length)]);

/** What the user's page sent on its WebSockets, every frame. */
const sent = [];

function watchFrames(page) {
  page.on('websocket', (ws) => {
    ws.on('framesent', (frame) => sent.push(typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('utf8')));
  });
}

function checkFrames(when) {
  for (const payload of sent) {
    for (const secret of SECRETS) {
      if (payload.includes(secret)) throw new StepFailure(`${when}: the user's page sent a secret: ${payload.slice(0, 300)}`);
    }
    for (const leak of LEAKS) {
      if (payload.includes(leak)) throw new StepFailure(`${when}: the user's page sent a mask as long as the secret`);
    }
  }
}

/** Everything the replay's document holds: its markup and the values of its fields. */
async function replayContents(op) {
  return op.evaluate(() => {
    const frame = document.querySelector('.lh-mirror-view iframe');
    const doc = frame?.contentDocument;
    if (!doc) return null;
    const values = Array.from(doc.querySelectorAll('input, textarea'), (f) => f.value);
    return { html: doc.documentElement?.outerHTML ?? '', values };
  });
}

function checkReplay(contents, when) {
  if (!contents) return;
  const all = [contents.html, ...contents.values];
  for (const text of all) {
    for (const secret of SECRETS) {
      if (text.includes(secret)) throw new StepFailure(`${when}: the operator's replay holds a secret`);
    }
    for (const leak of LEAKS) if (text.includes(leak)) throw new StepFailure(`${when}: the replay holds a mask as long as the secret`);
  }
}

h.main(async (base, browser) => {
  const name = `Ada Mirror ${RUN}`;

  h.step('operator: sign in and open the monitor');
  const op = await h.newPage(browser, 'operator');
  await signIn(h, op, base, OPERATOR, 'advocate');
  await openMonitor(h, op);

  h.step('user: sign in and open the interview (step 1)');
  const user = await h.newPage(browser, 'user');
  watchFrames(user);
  await signIn(h, user, base, name, 'user');
  await h.act(`open ${base}/interview`, (o) => user.goto(`${base}/interview`, o));
  const nameField = user.getByLabel('Your name', { exact: true });
  await h.waitVisible(nameField, 'field "Your name"');

  h.step('operator: Observe the user\'s row');
  const adaRow = row(op, name);
  await h.waitVisible(adaRow, `the row of ${name}`);
  await h.act('click "Observe"', (o) => adaRow.getByRole('button', { name: 'Observe', exact: true }).click(o));
  await h.waitVisible(adaRow.getByRole('button', { name: 'Stop observing', exact: true }), 'button "Stop observing"');

  h.step('user: told an operator views the screen');
  const notices = user.getByRole('status', { name: 'Screen sharing', exact: true });
  await h.waitForText(notices, 'An operator is viewing your screen', STEP_MS, { what: 'the screen sharing notice' });
  await h.waitVisible(user.getByRole('button', { name: 'Stop', exact: true }), 'button "Stop"');

  h.step('operator: the replay shows the user\'s page');
  const replay = adaRow.frameLocator('iframe');
  const replayName = replay.getByLabel('Your name', { exact: true });
  await h.waitVisible(replayName, '"Your name" in the replay');

  h.step('user: types a name; the replay shows it');
  const typed = `Typed by Ada ${RUN}`;
  await h.act('clear "Your name"', (o) => nameField.fill('', o));
  await h.act('type into "Your name"', (o) => nameField.pressSequentially(typed, { ...o, delay: 20 }));
  await h.poll(
    `"Your name" in the replay to read ${JSON.stringify(typed)}`,
    async () => {
      const v = await replayName.inputValue({ timeout: 1_000 });
      return { ok: v === typed, seen: JSON.stringify(v) };
    },
    STEP_MS,
  );

  h.step('user: types secrets into a password field and a sensitive one; the replay shows only a fixed mask');
  await h.act('add a password field and a field marked sensitive to the form', () =>
    user.evaluate(() => {
      const p = document.createElement('p');
      p.innerHTML =
        '<label for="lh-test-password">Password</label> <input type="password" id="lh-test-password" name="password">' +
        '<label for="lh-test-card">Card number</label> <input type="text" id="lh-test-card" name="card" data-livehelp-mask>';
      document.querySelector('form').append(p);
    }),
  );
  const card = user.getByLabel('Card number', { exact: true });
  const replayCard = replay.getByLabel('Card number', { exact: true });
  const password = user.getByLabel('Password', { exact: true });
  const replayPassword = replay.getByLabel('Password', { exact: true });
  await h.waitVisible(replayPassword, '"Password" in the replay');
  await h.act('type the secret', (o) => password.pressSequentially(SECRET, { ...o, delay: 15 }));
  await h.act('type the card number', (o) => card.pressSequentially(CARD, { ...o, delay: 15 }));
  await h.poll(
    `the replay's password and card fields to show the mask ${JSON.stringify(MASK)}`,
    async () => {
      const contents = await replayContents(op);
      checkReplay(contents, 'while typing the secrets');
      const v = await replayPassword.inputValue({ timeout: 1_000 });
      const c = await replayCard.inputValue({ timeout: 1_000 });
      return { ok: v === MASK && c === MASK, seen: `password ${JSON.stringify(v)}, card ${JSON.stringify(c)}` };
    },
    STEP_MS,
  );
  checkReplay(await replayContents(op), 'after typing the secret');
  checkFrames('after typing the secret');

  h.step('operator: Control; the user is told and their Continue is disabled');
  await h.act('click "Control"', (o) => adaRow.getByRole('button', { name: 'Control', exact: true }).click(o));
  await h.waitVisible(adaRow.getByRole('button', { name: 'Stop controlling', exact: true }), 'button "Stop controlling"');
  await h.waitForText(notices, 'An operator is controlling your screen', STEP_MS, { what: 'the screen sharing notice' });
  const userContinue = user.getByRole('button', { name: 'Continue', exact: true });
  await h.poll('the user\'s "Continue" to be disabled', async () => ({ ok: await userContinue.isDisabled(), seen: 'enabled' }), STEP_MS);

  h.step('operator: fills "Your name" and presses Continue in the replay');
  await h.act('fill "Your name" in the replay', (o) => replayName.fill(name, o));
  await h.poll(
    `the user's "Your name" to read ${JSON.stringify(name)}`,
    async () => {
      const v = await nameField.inputValue({ timeout: 1_000 });
      return { ok: v === name, seen: JSON.stringify(v) };
    },
    STEP_MS,
  );
  await h.act('click "Continue" in the replay', (o) => replay.getByRole('button', { name: 'Continue', exact: true }).click(o));

  h.step('user: the page moved on to step 2, still controlled; the replay follows');
  await h.waitVisible(user.getByRole('heading', { name: 'What do you need help with?' }), 'step 2 on the user\'s page');
  await h.waitForText(notices, 'An operator is controlling your screen', STEP_MS, { what: 'the screen sharing notice on step 2' });
  await h.waitVisible(replay.getByRole('heading', { name: 'What do you need help with?' }), 'step 2 in the replay');

  h.step('operator: Stop controlling; the user has control again');
  await h.act('click "Stop controlling"', (o) => adaRow.getByRole('button', { name: 'Stop controlling', exact: true }).click(o));
  await h.waitForText(notices, 'You have control again', STEP_MS, { what: 'the screen sharing notice' });
  await h.waitEnabled(userContinue, 'the user\'s "Continue"');

  h.step('operator: Stop observing; the user\'s notice goes');
  await h.act('click "Stop observing"', (o) => adaRow.getByRole('button', { name: 'Stop observing', exact: true }).click(o));
  await h.waitVisible(adaRow.getByRole('button', { name: 'Observe', exact: true }), 'button "Observe"');
  await h.poll(
    'the "viewing" notice to go',
    async () => {
      const text = (await notices.textContent({ timeout: 1_000 })) ?? '';
      const viewing = (await user.getByText('An operator is viewing your screen').count()) > 0 &&
        (await user.getByText('An operator is viewing your screen').isVisible());
      return { ok: !viewing, seen: JSON.stringify(text) };
    },
    STEP_MS,
  );
  checkFrames('at the end');
});
