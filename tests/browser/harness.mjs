// What the browser tests share: bounded waits that say what they last saw, Playwright
// actions named in their failures, pages watched for errors, and the run itself (Chromium
// launch, failure report, screenshots into $LIVEHELP_ARTIFACTS, exit code).
//
// Elements are found by role and accessible name, as a user would find them.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const POLL_MS = 100;
/** Default bound for a single step's wait. */
export const STEP_MS = 15_000;

export class StepFailure extends Error {}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim();

const firstLine = (e) => String(e?.message ?? e).split('\n')[0];

/** Runs `p`, but gives up after `ms` (for cleanup that must not hang). */
function within(ms, p) {
  return Promise.race([p, sleep(ms)]);
}

export class Harness {
  /**
   * `name` prefixes log lines and screenshots; the flow must be done within `flowBudgetMs`
   * and the process exits after `hardLimitMs` whatever happens; `okLine` is printed on
   * success.
   */
  constructor(name, { flowBudgetMs, hardLimitMs, okLine }) {
    this.name = name;
    this.flowBudgetMs = flowBudgetMs;
    this.hardLimitMs = hardLimitMs;
    this.okLine = okLine;
    this.start = Date.now();
    this.currentStep = 'start';
    /** Pages by role, for screenshots and diagnostics. */
    this.pages = new Map();
    /** Recent console errors, page errors and failed requests, per role. */
    this.events = new Map();
    this.contexts = [];
  }

  step(name) {
    this.currentStep = name;
    const secs = ((Date.now() - this.start) / 1000).toFixed(1);
    process.stderr.write(`[${this.name} +${secs}s] ${name}\n`);
  }

  /** How long a wait may take: its own bound, cut short by the flow's overall budget. */
  bound(timeout = STEP_MS) {
    const left = this.start + this.flowBudgetMs - Date.now();
    return Math.max(1, Math.min(timeout, left));
  }

  /**
   * Polls `probe` until it returns `{ ok: true }` or the time is up. `probe` returns
   * `{ ok, seen }`; `seen` describes what was last observed, for the failure message.
   */
  async poll(what, probe, timeout) {
    const until = Date.now() + this.bound(timeout);
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
  async waitForText(locator, text, timeout = STEP_MS, opts = {}) {
    const { exact = false, normalize = (s) => s, what = String(locator) } = opts;
    const want = normalize(oneLine(text));
    const r = await this.poll(
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

  /** Waits until `locator` matches exactly `count` elements (0: it is gone). */
  async waitForCount(locator, count, what, timeout = STEP_MS) {
    await this.poll(
      `${what}: ${count} element(s)`,
      async () => {
        const n = await locator.count();
        return { ok: n === count, seen: `${n} element(s)` };
      },
      timeout,
    );
  }

  async waitVisible(locator, what, timeout = STEP_MS) {
    try {
      await locator.waitFor({ state: 'visible', timeout: this.bound(timeout) });
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

  async waitEnabled(locator, what, timeout = STEP_MS) {
    await this.waitVisible(locator, what, timeout);
    await this.poll(
      `${what} to be enabled`,
      async () => ({ ok: await locator.isEnabled({ timeout: 1_000 }), seen: 'disabled' }),
      timeout,
    );
  }

  /** Waits until an element's class list has (or, with `present` false, lacks) `name`. */
  async waitForClass(locator, name, present, what, timeout = STEP_MS) {
    await this.poll(
      `${what} to ${present ? 'have' : 'lack'} class ${name}`,
      async () => {
        const classes = (await locator.getAttribute('class', { timeout: 1_000 })) ?? '';
        return { ok: classes.split(/\s+/).includes(name) === present, seen: JSON.stringify(classes) };
      },
      timeout,
    );
  }

  /** Runs a Playwright action with a bounded timeout, naming it in the failure. */
  async act(what, fn) {
    try {
      return await fn({ timeout: this.bound() });
    } catch (e) {
      if (e instanceof StepFailure) throw e;
      throw new StepFailure(`${what} failed: ${firstLine(e)}`);
    }
  }

  /** A page in a fresh browser context, watched for errors under `role`. */
  async newPage(browser, role) {
    const context = await browser.newContext();
    context.setDefaultTimeout(STEP_MS);
    this.contexts.push(context);
    const page = await context.newPage();
    this.pages.set(role, page);
    this.watch(role, page);
    return page;
  }

  /** Closes every context opened so far: the next scenario starts with none. */
  async closeAll() {
    for (const context of this.contexts.splice(0)) await within(4_000, context.close().catch(() => {}));
    this.pages.clear();
    this.events.clear();
  }

  watch(role, page) {
    const list = [];
    this.events.set(role, list);
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

  async reportPages() {
    for (const [role, page] of this.pages) {
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
      for (const ev of this.events.get(role) ?? []) process.stderr.write(`    ${ev}\n`);
    }
  }

  async screenshots() {
    const dir = process.env.LIVEHELP_ARTIFACTS;
    if (!dir) return;
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      process.stderr.write(`  could not create artifacts dir ${dir}: ${firstLine(e)}\n`);
      return;
    }
    for (const [role, page] of this.pages) {
      const file = path.join(dir, `${this.name}-${role}.png`);
      try {
        await within(3_500, page.screenshot({ path: file, fullPage: true, timeout: 3_000 }));
        process.stderr.write(`  screenshot: ${file}\n`);
      } catch (e) {
        process.stderr.write(`  screenshot of ${role} page failed: ${firstLine(e)}\n`);
      }
    }
  }

  /**
   * The whole script: reads the base URL from the command line, launches Chromium, runs
   * `flow(base, browser)`, and exits 0 (printing the ok line) or 1 (with the failed step,
   * what the pages showed, and screenshots).
   */
  main(flow) {
    this.run(flow).then(
      (code) => process.exit(code),
      (e) => {
        process.stderr.write(`${this.name} FAILED: ${e?.stack ?? e}\n`);
        process.exit(1);
      },
    );
  }

  async run(flow) {
    const arg = process.argv[2];
    if (!arg) {
      process.stderr.write(`usage: node tests/browser/${this.name}.mjs <base-url>\n`);
      return 1;
    }
    let base;
    try {
      base = new URL(arg).href.replace(/\/+$/, '');
    } catch {
      process.stderr.write(`${this.name}: not a URL: ${JSON.stringify(arg)}\n`);
      return 1;
    }

    let failed = false;
    let browser;
    const hard = setTimeout(() => {
      process.stderr.write(
        `${this.name} FAILED: hard time limit (${this.hardLimitMs / 1000} s) reached during step: ${this.currentStep}\n`,
      );
      process.exit(1);
    }, this.hardLimitMs - (Date.now() - this.start));

    try {
      this.step('launch chromium');
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
        timeout: this.bound(20_000),
      });
      await flow(base, browser);
    } catch (e) {
      failed = true;
      const msg = e instanceof StepFailure ? e.message : (e?.stack ?? String(e));
      process.stderr.write(`${this.name} FAILED at step [${this.currentStep}]: ${msg}\n`);
      await within(4_000, this.reportPages());
      await within(7_000, this.screenshots());
    } finally {
      if (browser) await within(4_000, browser.close().catch(() => {}));
      clearTimeout(hard);
    }

    if (failed) return 1;
    process.stdout.write(`${this.okLine}\n`);
    return 0;
  }
}
