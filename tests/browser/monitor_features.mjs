// Browser test: the session monitor of SPEC §6 through the real pages (the demo host's
// interview with the widget, and the monitor), each scenario in fresh browser contexts:
//
// 1. a row's life: waiting (no operator) → standby (an operator becomes available: the
//    user's launcher turns green, "1 operator standing by") → on (the user turns chat on) →
//    offline (the user closes the page); Dismiss hides the offline row. On the way, the
//    notifications: desktop notifications asked for on "Available for chat", a new
//    conversation and a new message highlight the row ("New message" for screen readers,
//    the tab title counts it, a desktop notification names the user), "New message below"
//    takes the operator to the row when it is off screen, and going into the row's message
//    box ends it all;
// 2. two operators in two windows see each other's Block and Unblock; Join opens the
//    user's interview in a new tab as the operator; the phone number box refuses 555-1234
//    next to the box, keeps +12025550123 over a reload, and clears.
//
//     node tests/browser/monitor_features.mjs <base-url>
//
// Exit code 0 and "monitor features ok" mean every scenario passed. On failure it prints
// which step failed and what the pages showed, saves screenshots into $LIVEHELP_ARTIFACTS
// (when set), and exits 1. Every wait is bounded; the whole script stays under 140 s.
//
// Elements are found by role and accessible name. The CSS used: the launcher's green class
// (`lh-launcher--available`), the row's status label (`.lh-status`) and highlight
// (`lh-row--new`), which have no role of their own.

import { Harness, StepFailure, STEP_MS } from './harness.mjs';
import {
  RUN,
  activateChat,
  answerStepOne,
  becomeAvailable,
  launcher,
  openMonitor,
  openWidget,
  row,
  say,
  signIn,
  waitLauncher,
} from './demo.mjs';

const h = new Harness('monitor_features', { flowBudgetMs: 120_000, hardLimitMs: 138_000, okLine: 'monitor features ok' });

const OLIVIA = 'Olivia Operator';
const OSCAR = 'Oscar Operator';
const MONITOR_TITLE = 'Live help monitor';

/**
 * Desktop notifications, recorded: `Notification` is replaced before the page's scripts
 * run; permission is "default" until the page asks, then "granted".
 */
async function recordNotifications(page) {
  await page.context().addInitScript(() => {
    const seen = { asked: 0, shown: [] };
    let permission = 'default';
    class RecordedNotification {
      static get permission() {
        return permission;
      }
      static requestPermission() {
        seen.asked += 1;
        permission = 'granted';
        return Promise.resolve(permission);
      }
      constructor(title, options = {}) {
        seen.shown.push({ title, body: options.body ?? '' });
      }
      close() {}
    }
    Object.defineProperty(window, 'Notification', { value: RecordedNotification, configurable: true, writable: true });
    Object.defineProperty(window, '__notifications', { value: seen });
  });
}

/**
 * Step 1 of the interview as `name`, once the widget there is connected (its launcher
 * shows), as a person would take it. Answering before that can leave the monitor's row
 * with no name: the step-1 socket, still opening on the server, records the user as
 * anonymous after the step-2 socket recorded the name, and a name change alone does not
 * update the monitor.
 */
async function interview(page, base, name) {
  await h.act(`open ${base}/interview`, (o) => page.goto(`${base}/interview`, o));
  await h.waitVisible(launcher(page), 'widget launcher button "Live help" on step 1');
  await answerStepOne(h, page, name, false);
}

const notifications = (page) => page.evaluate(() => window.__notifications);

async function waitStatus(r, want) {
  await h.waitForText(r.locator('.lh-status'), want, STEP_MS, {
    exact: true,
    normalize: (s) => s.toLowerCase(),
    what: "the row's status label (.lh-status)",
  });
}

async function waitTitle(page, want) {
  await h.poll(
    `the tab title ${JSON.stringify(want)}`,
    async () => {
      const t = await page.title();
      return { ok: t === want, seen: JSON.stringify(t) };
    },
    STEP_MS,
  );
}

/** Waits until a desktop notification whose title contains `text` was shown. */
async function waitNotification(page, text) {
  await h.poll(
    `a desktop notification naming ${JSON.stringify(text)}`,
    async () => {
      const { shown } = await notifications(page);
      return { ok: shown.some((n) => n.title.includes(text)), seen: JSON.stringify(shown) };
    },
    STEP_MS,
  );
}

/** The row is highlighted (or not): its class, "New message" for screen readers, the title. */
async function waitHighlight(page, r, on) {
  await h.waitForClass(r, 'lh-row--new', on, 'the row');
  await h.waitForCount(r.getByText('New message', { exact: true }), on ? 1 : 0, '"New message" in the row');
  await waitTitle(page, on ? `(1) ${MONITOR_TITLE}` : MONITOR_TITLE);
}

/** Whether any part of the element is inside the window. */
const onScreen = (locator) =>
  locator.evaluate((e) => {
    const box = e.getBoundingClientRect();
    return box.bottom > 0 && box.top < innerHeight;
  });

async function rowLife(base, browser) {
  const ada = `Ada Lovelace ${RUN}-1`;

  h.step('user: interview step 1, nobody available');
  const user = await h.newPage(browser, 'user');
  await interview(user, base, ada);

  h.step('operator: sign in and open the monitor (not available)');
  const op = await h.newPage(browser, 'operator');
  await recordNotifications(op);
  await signIn(h, op, base, OLIVIA, 'advocate');
  await openMonitor(h, op);
  const adaRow = row(op, ada);
  await h.waitVisible(adaRow, `session row for ${ada}`);

  h.step('operator: the row is "waiting"; no Dismiss while the user is here');
  await waitStatus(adaRow, 'waiting');
  await h.waitVisible(adaRow.getByRole('button', { name: 'Join', exact: true }), 'button "Join" in the row');
  await h.waitForCount(adaRow.getByRole('button', { name: 'Dismiss', exact: true }), 0, 'button "Dismiss" in the row');
  await h.waitForCount(adaRow.getByRole('switch', { name: 'Forward calls' }), 0, 'switch "Forward calls" (no phone number)');
  await waitLauncher(h, user, false);

  h.step('operator: available as an advocate; notifications are asked for');
  await becomeAvailable(h, op, 'advocate');
  const { asked } = await notifications(op);
  if (asked < 1) throw new StepFailure('turning "Available for chat" on did not ask for notification permission');

  h.step('user: the launcher turns green, "1 operator standing by"; the row is "standby"');
  await waitLauncher(h, user, true);
  const dialog = await openWidget(h, user);
  await h.waitForText(dialog.getByRole('status', { name: 'Chat status', exact: true }), '1 operator standing by', STEP_MS, {
    what: "the panel's status",
  });
  await waitStatus(adaRow, 'standby');
  await waitHighlight(op, adaRow, false);

  h.step('user: activate chat; the row is "on" and highlighted as a new conversation');
  const box = await activateChat(h, dialog);
  await waitStatus(adaRow, 'on');
  await waitHighlight(op, adaRow, true);
  await waitNotification(op, ada);

  h.step('operator: goes into the row\'s message box; the highlight ends');
  const reply = adaRow.getByRole('textbox', { name: `Message to ${ada}`, exact: true });
  await h.act(`click "Message to ${ada}"`, (o) => reply.click(o));
  await waitHighlight(op, adaRow, false);
  await h.act(`leave "Message to ${ada}"`, () => reply.evaluate((e) => e.blur()));

  h.step('operator: a window that ends above the row');
  await h.act('make the window narrower', () => op.setViewportSize({ width: 1000, height: 720 }));
  const top = await h.act("read the row's position", () =>
    adaRow.evaluate((e) => e.getBoundingClientRect().top + scrollY),
  );
  const height = Math.floor(top) - 40;
  if (height < 80) throw new StepFailure(`the row starts ${top}px down the page: too high to put it below a window`);
  await h.act(`make the window ${height}px high`, () => op.setViewportSize({ width: 1000, height }));
  await h.act('scroll to the top', () => op.evaluate(() => scrollTo(0, 0)));
  if (await onScreen(adaRow)) throw new StepFailure('the row is still on screen in the small window');

  h.step('user: a message; the row is highlighted, the title says (1), a notification names the user');
  await say(h, box, `A question from ${ada}`, 'textbox "Chat message"');
  await waitHighlight(op, adaRow, true);
  await h.poll(
    `a notification "New message from ${ada}"`,
    async () => {
      const { shown } = await notifications(op);
      return { ok: shown.some((n) => n.title === `New message from ${ada}`), seen: JSON.stringify(shown) };
    },
    STEP_MS,
  );

  h.step('operator: "New message below" takes the operator to the row');
  const below = op.getByRole('button', { name: 'New message below', exact: true });
  await h.waitVisible(below, 'button "New message below"');
  await h.waitForCount(op.getByRole('button', { name: 'New message above', exact: true }), 0, 'button "New message above"');
  await h.act('click "New message below"', (o) => below.click(o));
  await h.poll('the row to be on screen', async () => ({ ok: await onScreen(adaRow), seen: 'off screen' }), STEP_MS);
  await h.waitForCount(below, 0, 'button "New message below" once the row is on screen');
  await waitHighlight(op, adaRow, true);

  h.step('operator: goes into the row\'s message box; the highlight and the count end');
  await h.act(`click "Message to ${ada}"`, (o) => reply.click(o));
  await waitHighlight(op, adaRow, false);
  await h.act('make the window large again', () => op.setViewportSize({ width: 1280, height: 720 }));

  h.step('user: closes the page; the row is "offline" with Dismiss');
  await h.act('close the user\'s page', () => user.close());
  await waitStatus(adaRow, 'offline');
  const dismiss = adaRow.getByRole('button', { name: 'Dismiss', exact: true });
  await h.waitVisible(dismiss, 'button "Dismiss" in the offline row');

  h.step('operator: Dismiss hides the row');
  await h.act('click "Dismiss"', (o) => dismiss.click(o));
  await h.waitForCount(adaRow, 0, `session row for ${ada} after Dismiss`);
}

async function staffWithoutOperatorPrivilege(base, browser) {
  h.step('staff without admin or advocate: the monitor asks for an operator sign-in');
  const clerk = await h.newPage(browser, 'clerk');
  await signIn(h, clerk, base, `Clerk ${RUN}`, 'developer');
  await h.act('open the monitor', (o) => clerk.goto(`${base}/monitor/`, o));
  await h.waitVisible(
    clerk.getByRole('link', { name: 'Sign in as an operator first' }),
    'the "Sign in as an operator first" link',
  );
}

async function twoOperators(base, browser) {
  const bea = `Bea Baker ${RUN}-2`;

  h.step('user: interview step 1');
  const user = await h.newPage(browser, 'user');
  await interview(user, base, bea);

  h.step('Olivia and Oscar: two monitors in two windows');
  const olivia = await h.newPage(browser, 'olivia');
  await signIn(h, olivia, base, OLIVIA, 'advocate');
  await openMonitor(h, olivia);
  const oscar = await h.newPage(browser, 'oscar');
  await signIn(h, oscar, base, OSCAR, 'admin');
  await openMonitor(h, oscar);
  const oliviaRow = row(olivia, bea);
  const oscarRow = row(oscar, bea);
  await h.waitVisible(oliviaRow, `Olivia's row for ${bea}`);
  await h.waitVisible(oscarRow, `Oscar's row for ${bea}`);

  h.step('Olivia: Block; Oscar sees it');
  await h.act('Olivia clicks "Block"', (o) => oliviaRow.getByRole('button', { name: 'Block', exact: true }).click(o));
  await h.waitVisible(oliviaRow.getByRole('button', { name: 'Unblock', exact: true }), 'button "Unblock" in Olivia\'s row');
  await h.waitVisible(oscarRow.getByText('Blocked', { exact: true }), 'the "Blocked" marker in Oscar\'s row');
  const unblock = oscarRow.getByRole('button', { name: 'Unblock', exact: true });
  await h.waitVisible(unblock, 'button "Unblock" in Oscar\'s row');

  h.step('Oscar: Unblock; Olivia sees it');
  await h.act('Oscar clicks "Unblock"', (o) => unblock.click(o));
  await h.waitVisible(oliviaRow.getByRole('button', { name: 'Block', exact: true }), 'button "Block" in Olivia\'s row');
  await h.waitForCount(
    oliviaRow.getByText('Blocked', { exact: true }).filter({ visible: true }),
    0,
    'a visible "Blocked" marker in Olivia\'s row',
  );

  h.step('Olivia: Join opens the interview in a new tab as Olivia');
  const [tab] = await h.act('click "Join" and wait for the new tab', (o) =>
    Promise.all([
      olivia.context().waitForEvent('page', o),
      oliviaRow.getByRole('button', { name: 'Join', exact: true }).click(o),
    ]),
  );
  h.pages.set('joined', tab);
  h.watch('joined', tab);
  await h.act('the tab lands on /interview', (o) => tab.waitForURL((u) => u.pathname === '/interview', o));
  await h.waitVisible(
    tab.getByText(`You joined this interview as ${OLIVIA} (advocate).`, { exact: false }),
    `"You joined this interview as ${OLIVIA}" on the joined page`,
  );
  await h.poll(
    `the joined interview's "Your name" to hold the user's answer ${JSON.stringify(bea)}`,
    async () => {
      const name = await tab.getByLabel('Your name', { exact: true }).inputValue({ timeout: 1_000 });
      return { ok: name === bea, seen: JSON.stringify(name) };
    },
    STEP_MS,
  );

  h.step('Olivia: phone number 555-1234 is refused next to the box');
  const phone = olivia.getByRole('textbox', { name: 'Phone number', exact: true });
  const save = olivia.getByRole('button', { name: 'Save', exact: true });
  await h.waitEnabled(phone, 'textbox "Phone number"');
  await h.act('fill "Phone number" with 555-1234', (o) => phone.fill('555-1234', o));
  await h.act('click "Save"', (o) => save.click(o));
  await waitDescription(phone, 'must be in E.164 form');
  await waitAttribute(phone, 'aria-invalid', 'true');

  h.step('Olivia: +12025550123 is accepted, and kept over a reload');
  await h.act('fill "Phone number" with +12025550123', (o) => phone.fill('+12025550123', o));
  await h.act('click "Save"', (o) => save.click(o));
  await h.waitVisible(olivia.getByText('Saved.', { exact: true }), '"Saved." next to the box');
  await waitAttribute(phone, 'aria-invalid', 'false');
  await h.poll(
    'the error next to the box to be gone',
    async () => {
      const d = await description(phone);
      return { ok: !d.includes('must be in E.164 form'), seen: JSON.stringify(d) };
    },
    STEP_MS,
  );
  await h.act('reload the monitor', (o) => olivia.reload(o));
  await openMonitor(h, olivia);
  await waitValue(phone, '+12025550123');

  h.step('Olivia: clearing the box clears the number');
  await h.act('clear "Phone number"', (o) => phone.fill('', o));
  await h.act('click "Save"', (o) => save.click(o));
  await h.waitVisible(olivia.getByText('No phone number.', { exact: true }), '"No phone number." next to the box');
  await h.act('reload the monitor', (o) => olivia.reload(o));
  await openMonitor(h, olivia);
  await h.waitEnabled(phone, 'textbox "Phone number"');
  await waitValue(phone, '');
}

/** The text of the elements that describe `locator` (aria-describedby). */
const description = (locator) =>
  locator.evaluate((e) =>
    (e.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );

async function waitDescription(locator, text) {
  await h.poll(
    `the phone box's description (aria-describedby) to contain ${JSON.stringify(text)}`,
    async () => {
      const d = await description(locator);
      return { ok: d.includes(text), seen: JSON.stringify(d) };
    },
    STEP_MS,
  );
}

async function waitAttribute(locator, name, value) {
  await h.poll(
    `${name}=${JSON.stringify(value)} on the phone box`,
    async () => {
      const v = await locator.getAttribute(name, { timeout: 1_000 });
      return { ok: v === value, seen: JSON.stringify(v) };
    },
    STEP_MS,
  );
}

async function waitValue(locator, value) {
  await h.poll(
    `the phone box to hold ${JSON.stringify(value)}`,
    async () => {
      const v = await locator.inputValue({ timeout: 1_000 });
      return { ok: v === value, seen: JSON.stringify(v) };
    },
    STEP_MS,
  );
}

h.main(async (base, browser) => {
  for (const scenario of [staffWithoutOperatorPrivilege, rowLife, twoOperators]) {
    h.step(`scenario: ${scenario.name}`);
    await scenario(base, browser);
    await h.closeAll();
  }
});
