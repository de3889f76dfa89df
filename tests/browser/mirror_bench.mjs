// Benchmark (not a test): how fast the screen mirror is in real Chromium, through nginx,
// screen-mirror and Redis (SPEC §7, issue 5's targets: p95 under 50 ms from a change to the
// operator's paint, under 250 ms for a late observer to see the page).
//
//     node tests/browser/mirror_bench.mjs <base-url> [samples]
//
// One browser, two contexts (the user's page and the operator's monitor, each its own window
// so neither is throttled); both pages read the same clock (performance.timeOrigin + now).
//
// (a) change to paint: a change on the user's page (its time taken in the page when it
//     happens) until the operator's replay has it and the next frame is drawn. Two kinds:
//     a keystroke in "Your name" (the user's input event → the replayed field's value set),
//     and a DOM text change (→ a MutationObserver in the replay's document). `samples`
//     of each (default 200), one every 80 ms.
// (b) late observer: from pressing "Observe" to the first frame on which the replay shows
//     the user's current page (a marker the user's page changed just before); 30 samples.
//
// Prints a markdown table and writes it into docs/benchmarks.md under "Screen mirror".

import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Harness, sleep } from './harness.mjs';
import { RUN, openMonitor, row, signIn } from './demo.mjs';

const samples = Number(process.argv[3] ?? 200);
const LATE_SAMPLES = 30;
const GAP_MS = 80;
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const h = new Harness('mirror_bench', { flowBudgetMs: 15 * 60_000, hardLimitMs: 16 * 60_000, okLine: 'mirror bench done' });

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] };
}

const ms = (v) => `${v.toFixed(1)} ms`;

/** In the operator's page: times when the replay applies a value or a text change, and the frame after. */
function instrumentReplay() {
  const frame = document.querySelector('.lh-mirror-view iframe');
  const win = frame.contentWindow;
  const doc = frame.contentDocument;
  const now = () => performance.timeOrigin + performance.now();
  window.__bench = { values: new Map(), texts: new Map() };
  const proto = win.HTMLInputElement.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, 'value');
  Object.defineProperty(proto, 'value', {
    configurable: true,
    get() {
      return own.get.call(this);
    },
    set(v) {
      own.set.call(this, v);
      if (this.id !== 'name' || window.__bench.values.has(v)) return;
      const entry = { applied: now(), painted: NaN };
      window.__bench.values.set(v, entry);
      requestAnimationFrame(() => (entry.painted = now()));
    },
  });
  new MutationObserver(() => {
    const text = doc.getElementById('lh-bench')?.textContent;
    if (!text || window.__bench.texts.has(text)) return;
    const entry = { applied: now(), painted: NaN };
    window.__bench.texts.set(text, entry);
    requestAnimationFrame(() => (entry.painted = now()));
  }).observe(doc, { subtree: true, childList: true, characterData: true });
}

async function changeToPaint(user, op, nameField) {
  await user.evaluate(() => {
    const now = () => performance.timeOrigin + performance.now();
    window.__bench = { inputs: new Map(), texts: new Map() };
    document.addEventListener('input', (e) => window.__bench.inputs.set(e.target.value, now()), true);
    window.__benchText = (text) => {
      window.__bench.texts.set(text, now());
      document.getElementById('lh-bench').textContent = text;
    };
  });
  await op.evaluate(instrumentReplay);
  await nameField.fill('');
  await nameField.focus();
  h.step(`(a) ${samples} keystrokes`);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < samples; i++) {
    if (i > 0 && i % 60 === 0) {
      await nameField.fill('');
      await sleep(GAP_MS);
    }
    await user.keyboard.press(alphabet[i % alphabet.length]);
    await sleep(GAP_MS);
  }
  h.step(`(a) ${samples} DOM text changes`);
  for (let i = 0; i < samples; i++) {
    await user.evaluate((t) => window.__benchText(t), `change ${i}`);
    await sleep(GAP_MS);
  }
  await sleep(500);
  const sent = await user.evaluate(() => ({ inputs: [...window.__bench.inputs], texts: [...window.__bench.texts] }));
  const seen = await op.evaluate(() => ({ values: [...window.__bench.values], texts: [...window.__bench.texts] }));
  const match = (from, to) => {
    const got = new Map(to);
    const applied = [];
    const painted = [];
    let missed = 0;
    for (const [key, t0] of from) {
      const e = got.get(key);
      if (!e || key === '') {
        if (key !== '') missed++;
        continue;
      }
      applied.push(e.applied - t0);
      painted.push(e.painted - t0);
    }
    return { applied: stats(applied), painted: stats(painted), missed };
  };
  return { keys: match(sent.inputs, seen.values), texts: match(sent.texts, seen.texts) };
}

async function lateObserver(user, op, adaRow, name) {
  h.step(`(b) ${LATE_SAMPLES} late observers`);
  const times = [];
  for (let i = 0; i < LATE_SAMPLES; i++) {
    await adaRow.getByRole('button', { name: 'Stop observing', exact: true }).click();
    await adaRow.getByRole('button', { name: 'Observe', exact: true }).waitFor();
    await sleep(300);
    const marker = `late ${RUN} ${i}`;
    await user.evaluate((t) => (document.getElementById('lh-bench').textContent = t), marker);
    await sleep(100);
    const t = await op.evaluate(
      ({ name, marker }) =>
        new Promise((resolve, reject) => {
          const article = [...document.querySelectorAll('article')].find((a) => a.getAttribute('aria-label')?.endsWith(name));
          const button = [...article.querySelectorAll('button')].find((b) => b.textContent === 'Observe');
          const now = () => performance.timeOrigin + performance.now();
          const t0 = now();
          button.click();
          const until = t0 + 10_000;
          const check = () => {
            const doc = article.querySelector('.lh-mirror-view iframe')?.contentDocument;
            if (doc?.getElementById('lh-bench')?.textContent === marker) return resolve(now() - t0);
            if (now() > until) return reject(new Error('the replay never showed the page'));
            requestAnimationFrame(check);
          };
          requestAnimationFrame(check);
        }),
      { name, marker },
    );
    times.push(t);
  }
  return stats(times);
}

function machine() {
  let model = '?';
  try {
    model = /model name\s*:\s*(.*)/.exec(execFileSync('cat', ['/proc/cpuinfo'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {}
  return `${os.cpus().length} × ${model.trim()} (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()})`;
}

/** The machine's load average when the run started, and when it ended. */
const loadAtStart = os.loadavg()[0];

async function report(browser, a, late) {
  const web = JSON.parse(await readFile(path.join(repo, 'web/package.json'), 'utf8'));
  const pw = JSON.parse(await readFile(path.join(here, 'node_modules/playwright-core/package.json'), 'utf8'));
  const row = (what, s, missed) => `| ${what} | ${s.n}${missed ? ` (${missed} missed)` : ''} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.max)} |`;
  const lines = [
    '## Screen mirror',
    '',
    `Machine: ${machine()}. Chromium ${browser.version()} (headless, one browser, the user's page and the operator's monitor each in its own context and window), Node ${process.version}, playwright-core ${pw.version}, @rrweb/record ${web.dependencies['@rrweb/record']}, @rrweb/replay ${web.dependencies['@rrweb/replay']}. The cluster of \`deploy/local/up\` (debug builds of the services, nginx, one Redis). Measured ${new Date().toISOString().slice(0, 10)}; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (other work on the machine adds to the tails).`,
    '',
    'Change to paint: from the change on the user\'s page (the time taken in the page when it happens) to the replay on the operator\'s monitor having it ("applied") and the first animation frame after that ("painted": headless Chromium draws without waiting for a screen refresh; a 60 Hz display adds up to 17 ms); both pages read one clock. A keystroke is a key pressed in "Your name" (its input event → the replayed field\'s value); a text change sets a paragraph\'s text (→ a MutationObserver in the replay). Late observer: from pressing "Observe" (the monitor\'s mirror socket already open) to the first frame on which the replay shows the user\'s current page (the user\'s page records nothing while nobody observes; the server asks it for a full snapshot).',
    '',
    '| what | samples | p50 | p95 | max |',
    '|---|---|---|---|---|',
    row('keystroke → applied in the replay', a.keys.applied, a.keys.missed),
    row('keystroke → painted', a.keys.painted, 0),
    row('text change → applied in the replay', a.texts.applied, a.texts.missed),
    row('text change → painted', a.texts.painted, 0),
    row('late observer: Observe → current page painted', late, 0),
    '',
    `Targets (issue 5): change to paint under 50 ms at p95; a late observer under 250 ms at p95.`,
    '',
    `Rerun (with the cluster up: \`LIVEHELP_PORT=48080 deploy/local/up\`): \`cd tests/browser && node mirror_bench.mjs http://127.0.0.1:48080 ${samples}\``,
    '',
  ];
  const section = lines.join('\n');
  process.stdout.write(`${section}\n`);
  const file = path.join(repo, 'docs/benchmarks.md');
  let doc;
  try {
    doc = await readFile(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n\nFigures are measured, not promised: each section says how to rerun it.\n';
  }
  const start = doc.indexOf('\n## Screen mirror\n');
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 1);
    doc = doc.slice(0, start + 1) + section + (next >= 0 ? doc.slice(next + 1) : '');
  } else {
    doc = `${doc.replace(/\n*$/, '\n')}\n${section}`;
  }
  await writeFile(file, doc);
}

h.main(async (base, browser) => {
  const name = `Bench Mirror ${RUN}`;
  h.step('operator: monitor');
  const op = await h.newPage(browser, 'operator');
  await signIn(h, op, base, 'Olivia Operator', 'advocate');
  await openMonitor(h, op);
  h.step('user: interview step 1, with a paragraph to change');
  const user = await h.newPage(browser, 'user');
  await signIn(h, user, base, name, 'user');
  await user.goto(`${base}/interview`);
  await user.evaluate(() => {
    const p = document.createElement('p');
    p.id = 'lh-bench';
    p.textContent = 'start';
    document.querySelector('main').append(p);
  });
  const nameField = user.getByLabel('Your name', { exact: true });
  await nameField.waitFor();
  h.step('operator: Observe');
  const adaRow = row(op, name);
  await adaRow.getByRole('button', { name: 'Observe', exact: true }).click();
  await row(op, name).frameLocator('iframe').getByLabel('Your name', { exact: true }).waitFor();
  await sleep(500);
  const a = await changeToPaint(user, op, nameField);
  const late = await lateObserver(user, op, adaRow, name);
  await report(browser, a, late);
});
