// Steps through the demo host's pages (examples/demo-host) and the operators' monitor, as a
// person would take them; shared by the browser tests.

import { STEP_MS } from './harness.mjs';

/**
 * Tells this run's people apart from earlier runs' on a cluster that is reused (its Redis
 * keeps sessions, and the monitor lists offline ones for an hour).
 */
export const RUN = Date.now().toString(36).slice(-5);

/** The demo host's interview title, shown on the monitor's rows. */
export const TITLE = 'Demo interview';

/** Signs in with the dev login as `name` with `role` (user, advocate, admin, developer). */
export async function signIn(h, page, base, name, role) {
  await h.act(`open ${base}/login`, (o) => page.goto(`${base}/login`, o));
  await h.act('fill "Name"', (o) => page.getByLabel('Name', { exact: true }).fill(name, o));
  await h.act(`select "Role" = ${role}`, (o) => page.getByLabel('Role', { exact: true }).selectOption(role, o));
  await h.act('click "Sign in"', (o) => page.getByRole('button', { name: 'Sign in' }).click(o));
}

/** An operator lands on the monitor, whose connection status says "Connected.". */
export async function openMonitor(h, op) {
  await h.act('land on /monitor/', (o) => op.waitForURL((u) => u.pathname === '/monitor/', o));
  // The title may already count unread news: a message sent under 15 s before the page
  // opened counts as new on it (web/src/row-attention.ts, HISTORY_SLACK_MS).
  await h.poll(
    'monitor page title "Live help monitor" (with any unread count)',
    async () => {
      const t = await op.title();
      return { ok: /^(\(\d+\) )?Live help monitor$/.test(t), seen: JSON.stringify(t) };
    },
    STEP_MS,
  );
  await h.waitForText(op.getByRole('status', { name: 'Connection', exact: true }), 'Connected.', STEP_MS, {
    exact: true,
    what: 'monitor status line "Connection"',
  });
}

/** Checks "Available for chat" and the partner role `role` on the monitor. */
export async function becomeAvailable(h, op, role) {
  const available = op.getByRole('switch', { name: 'Available for chat', exact: true });
  await h.waitEnabled(available, 'switch "Available for chat"');
  await h.act('check "Available for chat"', (o) => available.check(o));
  const roles = op.getByRole('group', { name: 'Partner roles', exact: true });
  const box = roles.getByRole('checkbox', { name: role, exact: true });
  await h.waitEnabled(box, `checkbox "${role}" in group "Partner roles" (a known role once a session asked for it)`);
  await h.act(`check "${role}"`, (o) => box.check(o));
}

/** Step 1 of the interview as `name`; `multi` ticks "Several people will fill in…". */
export async function startInterview(h, user, base, name, multi = false) {
  await h.act(`open ${base}/interview`, (o) => user.goto(`${base}/interview`, o));
  await answerStepOne(h, user, name, multi);
}

/** Answers step 1 on the page shown and waits for step 2. */
export async function answerStepOne(h, user, name, multi) {
  await h.act('fill "Your name"', (o) => user.getByLabel('Your name', { exact: true }).fill(name, o));
  const several = user.getByLabel('Several people will fill in this interview together', { exact: true });
  await h.act(`${multi ? 'check' : 'uncheck'} "Several people…"`, (o) => several.setChecked(multi, o));
  await h.act('click "Continue"', (o) => user.getByRole('button', { name: 'Continue' }).click(o));
  await h.waitVisible(user.getByLabel('Topic', { exact: true }), 'step 2 ("Topic" field)');
}

/** The widget's launcher button. */
export function launcher(user) {
  return user.getByRole('button', { name: 'Live help', exact: true });
}

/** Opens the widget's panel (once the launcher shows) and returns the dialog. */
export async function openWidget(h, user) {
  await h.waitVisible(launcher(user), 'widget launcher button "Live help"');
  await h.act('click "Live help"', (o) => launcher(user).click(o));
  const dialog = user.getByRole('dialog', { name: 'Live help', exact: true });
  await h.waitVisible(dialog, 'dialog "Live help"');
  return dialog;
}

/** Waits until the launcher is green (chat possible) or, with `green` false, not green. */
export async function waitLauncher(h, user, green) {
  await h.waitForClass(launcher(user), 'lh-launcher--available', green, 'the launcher "Live help"');
}

/** Clicks "Activate chat" and waits for the message box to be enabled; returns the box. */
export async function activateChat(h, dialog) {
  const activate = dialog.getByRole('button', { name: 'Activate chat', exact: true });
  await h.waitEnabled(activate, 'button "Activate chat"');
  await h.act('click "Activate chat"', (o) => activate.click(o));
  const box = dialog.getByRole('textbox', { name: 'Chat message', exact: true });
  await h.waitEnabled(box, 'textbox "Chat message"');
  return box;
}

/** Types `text` into `box` and presses Enter. */
export async function say(h, box, text, what) {
  await h.act(`type into ${what}`, (o) => box.fill(text, o));
  await h.act(`press Enter in ${what}`, (o) => box.press('Enter', o));
}

/** The monitor row of a session, by its accessible name "<title> — <user>". */
export function row(op, userName) {
  const name = `${TITLE} \u2014 ${userName}`;
  return op.getByRole('list', { name: 'Sessions', exact: true }).getByRole('article', { name, exact: true });
}
