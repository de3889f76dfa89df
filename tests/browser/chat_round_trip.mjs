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

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SCRIPT_START = Date.now();
/** The test flow must be done by then, leaving time for screenshots and closing. */
const FLOW_BUDGET_MS = 40_000;
/** Last resort: exit no matter what once this much time has passed. */
const HARD_LIMIT_MS = 57_000;
/** Default bound for a single step's wait. */
const STEP_MS = 15_000;
const POLL_MS = 100;

const OPERATOR_NAME = 'Olivia Operator';
const USER_NAME = 'Ada Lovelace';
const USER_TEXT = 'Hello from Ada <b>bold?</b>';
const OPERATOR_TEXT = 'Hi Ada, Olivia here.';
const ROW_NAME = `Demo interview \u2014 ${USER_NAME}`;

class StepFailure extends Error {}

let currentStep = 'start';
/** Pages by role ("operator", "user"), for screenshots and diagnostics. */
const pages = new Map();
/** Recent console errors, page errors and failed requests, per role. */
const events = new Map();

function step(name) {
  currentStep = name;
  const secs = ((Date.now() - SCRIPT_START) / 1000).toFixed(1);
  process.stderr.write(`[chat_round_trip +${secs}s] ${name}\n`);
}

/** How long a wait may take: its own bound, cut short by the flow's overall budget. */
function bound(timeout = STEP_MS) {
  const left = SCRIPT_START + FLOW_BUDGET_MS - Date.now();
  return Math.max(1, Math.min(timeout, left));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim();

const firstLine = (e) => String(e?.message ?? e).split('\n')[0];

/**
 * Polls `probe` until it returns `{ ok: true }` or the time is up. `probe` returns
 * `{ ok, seen }`; `seen` describes what was last observed, for the failure message.
 */
async function poll(what, probe, timeout) {
  const until = Date.now() + bound(timeout);
  let seen = '(nothing observed yet)';
  for (;;) {
    try {
      const r = await probe();
      if (r.ok) return r;
      seen = r.seen;
    } catch (e) {
      seen = `(error: ${firstLine(e)})`;
    }
    if (Date.now() >= until) {
      throw new StepFailure(`timed out waiting for ${what}; last seen: ${seen}`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Waits until the single element matched by `locator` has text containing `text`
 * (whitespace-normalized textContent), or exactly equal to it with `{ exact: true }`.
 * `normalize` can further transform the observed text (e.g. lowercase). Returns the text.
 */
async function waitForText(locator, text, timeout = STEP_MS, opts = {}) {
  const { exact = false, normalize = (s) => s, what = String(locator) } = opts;
  const want = normalize(oneLine(text));
  const r = await poll(
    `${what} to ${exact ? 'read' : 'contain'} ${JSON.stringify(text)}`,
    async () => {
      const n = await locator.count();
      if (n === 0) return { ok: false, seen: '(no matching element)' };
      if (n > 1) return { ok: false, seen: `(${n} elements match; expected one)` };
      const got = normalize(oneLine((await locator.textContent({ timeout: 1_000 })) ?? ''));
      const ok = exact ? got === want : got.includes(want);
      return { ok, seen: JSON.stringify(got.length > 400 ? `${got.slice(0, 400)}…` : got), text: got };
    },
    timeout,
  );
  return r.text;
}

async function waitVisible(locator, what, timeout = STEP_MS) {
  try {
    await locator.waitFor({ state: 'visible', timeout: bound(timeout) });
  } catch (e) {
    let seen;
    try {
      const n = await locator.count();
      seen = n === 0 ? 'no matching element' : `${n} matching element(s), none visible`;
    } catch {
      seen = 'could not inspect';
    }
    throw new StepFailure(`${what} did not become visible (${seen}): ${firstLine(e)}`);
  }
}

async function waitEnabled(locator, what, timeout = STEP_MS) {
  await waitVisible(locator, what, timeout);
  await poll(
    `${what} to be enabled`,
    async () => ({ ok: await locator.isEnabled({ timeout: 1_000 }), seen: 'disabled' }),
    timeout,
  );
}

/** Runs a Playwright action with a bounded timeout, naming it in the failure. */
async function act(what, fn) {
  try {
    return await fn({ timeout: bound() });
  } catch (e) {
    if (e instanceof StepFailure) throw e;
    throw new StepFailure(`${what} failed: ${firstLine(e)}`);
  }
}

function watch(role, page) {
  const list = [];
  events.set(role, list);
  const push = (s) => {
    list.push(s);
    if (list.length > 30) list.shift();
  };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') push(`console.${m.type()}: ${m.text()} (${m.location()?.url ?? '?'})`);
  });
  page.on('pageerror', (e) => push(`pageerror: ${firstLine(e)}`));
  page.on('requestfailed', (r) => push(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
}

/** Runs `p`, but gives up after `ms` (for cleanup that must not hang). */
function within(ms, p) {
  return Promise.race([p, sleep(ms)]);
}

async function reportPages() {
  for (const [role, page] of pages) {
    let url = '?';
    let title = '?';
    let body = '?';
    try {
      url = page.url();
      title = await within(1_000, page.title());
      body = oneLine(await within(1_000, page.locator('body').innerText({ timeout: 800 })));
    } catch (e) {
      body = `(could not read: ${firstLine(e)})`;
    }
    process.stderr.write(`  ${role} page: ${url} — title ${JSON.stringify(title)}\n`);
    process.stderr.write(`    text: ${String(body).slice(0, 1_500)}\n`);
    for (const ev of events.get(role) ?? []) process.stderr.write(`    ${ev}\n`);
  }
}

async function screenshots() {
  const dir = process.env.LIVEHELP_ARTIFACTS;
  if (!dir) return;
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    process.stderr.write(`  could not create artifacts dir ${dir}: ${firstLine(e)}\n`);
    return;
  }
  for (const [role, page] of pages) {
    const file = path.join(dir, `chat_round_trip-${role}.png`);
    try {
      await within(3_500, page.screenshot({ path: file, fullPage: true, timeout: 3_000 }));
      process.stderr.write(`  screenshot: ${file}\n`);
    } catch (e) {
      process.stderr.write(`  screenshot of ${role} page failed: ${firstLine(e)}\n`);
    }
  }
}

async function run(base, browser) {
  // --- 1. Operator signs in and opens the monitor. ---------------------------------------
  step('operator: sign in');
  const operatorContext = await browser.newContext();
  operatorContext.setDefaultTimeout(STEP_MS);
  const op = await operatorContext.newPage();
  pages.set('operator', op);
  watch('operator', op);

  await act(`open ${base}/login`, (o) => op.goto(`${base}/login`, o));
  await act('fill "Name"', (o) => op.getByLabel('Name', { exact: true }).fill(OPERATOR_NAME, o));
  await act('select "Role" = advocate', (o) =>
    op.getByLabel('Role', { exact: true }).selectOption('advocate', o),
  );
  await act('click "Sign in"', (o) => op.getByRole('button', { name: 'Sign in' }).click(o));

  step('operator: monitor loads');
  await act('land on /monitor/', (o) =>
    op.waitForURL((u) => u.pathname === '/monitor/', o),
  );
  await poll(
    'monitor page title "Live help monitor"',
    async () => {
      const t = await op.title();
      return { ok: t === 'Live help monitor', seen: JSON.stringify(t) };
    },
    STEP_MS,
  );
  await waitForText(op.getByRole('status'), 'Connected.', STEP_MS, {
    exact: true,
    what: 'monitor status line',
  });

  // --- 2. User starts the interview, opens the widget and says hello. --------------------
  step('user: interview step 1');
  const userContext = await browser.newContext();
  userContext.setDefaultTimeout(STEP_MS);
  const user = await userContext.newPage();
  pages.set('user', user);
  watch('user', user);

  await act(`open ${base}/interview`, (o) => user.goto(`${base}/interview`, o));
  await act('fill "Your name"', (o) =>
    user.getByLabel('Your name', { exact: true }).fill(USER_NAME, o),
  );
  await act('click "Continue"', (o) => user.getByRole('button', { name: 'Continue' }).click(o));
  step('user: interview step 2');
  await waitVisible(user.getByLabel('Topic', { exact: true }), 'step 2 ("Topic" field)');

  step('user: open the widget');
  const launcher = user.getByRole('button', { name: 'Live help', exact: true });
  await waitVisible(launcher, 'widget launcher button "Live help"');
  await act('click "Live help"', (o) => launcher.click(o));
  const dialog = user.getByRole('dialog', { name: 'Live help', exact: true });
  await waitVisible(dialog, 'dialog "Live help"');

  step('user: activate chat');
  const activate = dialog.getByRole('button', { name: 'Activate chat', exact: true });
  await waitEnabled(activate, 'button "Activate chat" (enabled once the widget socket is open)');
  await act('click "Activate chat"', (o) => activate.click(o));
  const message = dialog.getByRole('textbox', { name: 'Message', exact: true });
  await waitEnabled(message, 'textbox "Message"');

  step('user: send a message');
  await act('type the user message', (o) => message.fill(USER_TEXT, o));
  await act('press Enter in "Message"', (o) => message.press('Enter', o));

  // --- 3. Operator sees the session, the chat turned on and the message; replies. --------
  step('operator: session row appears');
  const sessions = op.getByRole('list', { name: 'Sessions', exact: true });
  await waitVisible(sessions, 'list "Sessions"');
  const row = sessions.getByRole('article', { name: ROW_NAME, exact: true });
  await waitVisible(row, `session row ${JSON.stringify(ROW_NAME)}`);

  step('operator: chat status is "on"');
  await waitForText(row.locator('.lh-status'), 'on', STEP_MS, {
    exact: true,
    normalize: (s) => s.toLowerCase(),
    what: 'the row\'s status label (.lh-status)',
  });

  step('operator: the user message arrives as text');
  const opLog = row.getByRole('log', { name: `Chat with ${USER_NAME}`, exact: true });
  await waitVisible(opLog, `log "Chat with ${USER_NAME}"`);
  await waitForText(opLog, USER_TEXT, STEP_MS, { what: `log "Chat with ${USER_NAME}"` });
  const bolds = await act('count <b> elements in the log', () =>
    opLog.evaluate((el) => el.getElementsByTagName('b').length),
  );
  if (bolds !== 0) {
    throw new StepFailure(
      `the user's message was rendered as HTML: the operator's log holds ${bolds} <b> element(s)`,
    );
  }

  step('operator: reply');
  const reply = row.getByRole('textbox', { name: `Message to ${USER_NAME}`, exact: true });
  await waitEnabled(reply, `textbox "Message to ${USER_NAME}"`);
  await act('type the operator reply', (o) => reply.fill(OPERATOR_TEXT, o));
  await act(`press Enter in "Message to ${USER_NAME}"`, (o) => reply.press('Enter', o));

  // --- 4. User sees the reply, from the operator by name. --------------------------------
  step('user: the reply arrives');
  const userLog = dialog.getByRole('log', { name: 'Chat messages', exact: true });
  await waitVisible(userLog, 'log "Chat messages"');
  await waitForText(userLog, OPERATOR_TEXT, STEP_MS, { what: 'log "Chat messages"' });
  const bubble = userLog.locator('.lh-msg.lh-msg--partner').filter({ hasText: OPERATOR_TEXT });
  await waitForText(bubble, OPERATOR_NAME, STEP_MS, {
    what: 'the partner bubble (.lh-msg--partner) holding the reply',
  });
  await waitVisible(
    bubble.getByText(OPERATOR_NAME, { exact: true }),
    `sender name ${JSON.stringify(OPERATOR_NAME)} in the reply's bubble`,
  );
}

async function main() {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write('usage: node tests/browser/chat_round_trip.mjs <base-url>\n');
    return 1;
  }
  let base;
  try {
    base = new URL(arg).href.replace(/\/+$/, '');
  } catch {
    process.stderr.write(`chat_round_trip: not a URL: ${JSON.stringify(arg)}\n`);
    return 1;
  }

  let failed = false;
  let browser;
  const hard = setTimeout(() => {
    process.stderr.write(
      `chat_round_trip FAILED: hard time limit (${HARD_LIMIT_MS / 1000} s) reached during step: ${currentStep}\n`,
    );
    process.exit(1);
  }, HARD_LIMIT_MS - (Date.now() - SCRIPT_START));

  try {
    step('launch chromium');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: bound(20_000),
    });
    await run(base, browser);
  } catch (e) {
    failed = true;
    const msg = e instanceof StepFailure ? e.message : (e?.stack ?? String(e));
    process.stderr.write(`chat_round_trip FAILED at step [${currentStep}]: ${msg}\n`);
    await within(4_000, reportPages());
    await within(7_000, screenshots());
  } finally {
    if (browser) await within(4_000, browser.close().catch(() => {}));
    clearTimeout(hard);
  }

  if (failed) return 1;
  process.stdout.write('chat round trip ok\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`chat_round_trip FAILED: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
