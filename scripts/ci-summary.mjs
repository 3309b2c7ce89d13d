// Adds up what `npm test` did and ends with one line: "N passed, N failed".
//
//   node scripts/ci-summary.mjs [--status N] [--log FILE] [--dir DIR]
//
// --status is `npm test`'s exit status, --log its output (`.ci/run` passes both), --dir where the
// runners wrote their JSON reports (test-results). Counted as failed, besides failed tests:
//   - a step that failed before the test runners (lint, typecheck: named from the log);
//   - a runner-level error: a vitest file that did not load or failed outside its tests (a hook),
//     a vitest run that failed with no failing test (its global setup, an unhandled error), each of
//     Playwright's `errors` (its global setup, a spec file that does not load);
//   - a report that is missing although its runner should have run (nothing earlier failed);
//   - a non-zero exit status that nothing above explains.
// Skipped tests are listed, each with its reason (Playwright's skip annotations), before the last
// line, so a test that never runs here is never silent.
import fs from 'node:fs';
import path from 'node:path';

const STEPS = ['lint', 'typecheck', 'test:unit', 'test:e2e'];

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : null;
}

const dir = option('--dir') ?? 'test-results';
const statusArg = option('--status');
const status = statusArg === null ? null : Number(statusArg);
const logFile = option('--log');

function readJson(file) {
  try {
    return { value: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), problem: null };
  } catch (err) {
    return { value: null, problem: err.code === 'ENOENT' ? 'missing' : `unreadable (${err.message})` };
  }
}

function firstLine(text) {
  return (
    String(text ?? '')
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

/** The npm scripts `npm test` started, in order, from npm's "> pkg@version script" banners. */
function stepsStarted() {
  if (!logFile) return null;
  let text;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return null;
  }
  const started = [];
  // eslint-disable-next-line no-control-regex
  for (const line of text.replace(/\u001b\[[0-9;]*m/g, '').split('\n')) {
    const m = /^> \S+@\S+ (\S+)\s*$/.exec(line.trim());
    if (m && STEPS.includes(m[1]) && !started.includes(m[1])) started.push(m[1]);
  }
  return started;
}

let passed = 0;
let failed = 0;
/** Why the run is red, one line each; and which tests failed (listed, already counted). */
const failures = [];
const failedTests = [];
const skipped = [];

function fail(count, what) {
  failed += count;
  failures.push(count > 1 ? `${what} (${count})` : what);
}

// The step that stopped `npm test` (it runs its steps with &&, so the last one started).
const started = stepsStarted();
const red = status !== null && status !== 0;
const stoppedAt = red && started && started.length ? started[started.length - 1] : null;
if (stoppedAt === 'lint' || stoppedAt === 'typecheck') {
  fail(1, `npm run ${stoppedAt} failed (npm test exited ${status}); the steps after it did not run`);
}
const earlyStop = stoppedAt === 'lint' || stoppedAt === 'typecheck';

// ---- Vitest
const vitest = readJson('vitest.json');
let unitFailed = false;
if (vitest.value) {
  const v = vitest.value;
  const before = failed;
  passed += v.numPassedTests ?? 0;
  if (v.numFailedTests) fail(v.numFailedTests, 'vitest: failed tests');
  for (const file of v.testResults ?? []) {
    const name = path.relative(process.cwd(), file.name ?? '') || file.name;
    const tests = file.assertionResults ?? [];
    for (const t of tests) {
      if (t.status === 'failed') failedTests.push(`vitest ${name} › ${t.fullName ?? t.title}`);
    }
    const fileFailed = file.status === 'failed' && !tests.some((t) => t.status === 'failed');
    if (fileFailed) {
      fail(1, tests.length === 0 ? `vitest: ${name} did not load: ${firstLine(file.message) || 'no message'}` : `vitest: ${name} failed outside its tests (a hook)${file.message ? `: ${firstLine(file.message)}` : ''}`);
    }
    for (const t of tests) {
      if (t.status !== 'skipped' && t.status !== 'pending' && t.status !== 'todo') continue;
      const reason = t.status === 'todo' ? 'todo' : fileFailed ? 'did not run: its file or suite failed' : 'skipped in code (vitest reports no reason)';
      skipped.push({ where: `vitest ${name} › ${t.fullName ?? t.title}`, reason });
    }
  }
  if (v.success === false && failed === before) {
    fail(1, 'vitest: the run failed outside any test file (its global setup, or an unhandled error)');
  }
  unitFailed = failed > before;
} else if (!earlyStop) {
  fail(1, `vitest: no report (${path.join(dir, 'vitest.json')} ${vitest.problem}): the unit tests did not run or did not finish`);
  unitFailed = true;
}

// ---- Playwright
const pw = readJson('playwright.json');
if (pw.value) {
  const p = pw.value;
  passed += (p.stats?.expected ?? 0) + (p.stats?.flaky ?? 0);
  if (p.stats?.unexpected) fail(p.stats.unexpected, 'playwright: failed tests');
  for (const e of p.errors ?? []) fail(1, `playwright: ${firstLine(e.message) || 'an error outside any test'}`);
  const walk = (suite, file) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const where = `playwright ${spec.file ?? file} › ${spec.title}`;
        if (t.status === 'unexpected') failedTests.push(where);
        if (t.status !== 'skipped') continue;
        const notes = [...(t.annotations ?? []), ...(t.results ?? []).flatMap((r) => r.annotations ?? [])]
          .filter((a) => a.type === 'skip' || a.type === 'fixme')
          .map((a) => a.description || a.type);
        skipped.push({ where, reason: [...new Set(notes)].join('; ') || 'no reason given' });
      }
    }
    for (const child of suite.suites ?? []) walk(child, child.file ?? file);
  };
  for (const s of p.suites ?? []) walk(s, s.file);
} else if (!earlyStop && !unitFailed) {
  fail(1, `playwright: no report (${path.join(dir, 'playwright.json')} ${pw.problem}): the browser tests did not run or did not finish`);
}

// ---- A red run is never "0 failed".
if (red && failed === 0) fail(1, `npm test exited ${status} though no runner reported a failure${stoppedAt ? ` (it stopped in ${stoppedAt})` : ''}`);

if (skipped.length) {
  for (const s of skipped) console.log(`skipped: ${s.where} — ${s.reason}`);
  const reasons = new Map();
  for (const s of skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  console.log(`${skipped.length} skipped (reasons: ${[...reasons].map(([r, n]) => (n > 1 ? `${r} ×${n}` : r)).join('; ')})`);
}
const SHOWN = 40;
for (const t of failedTests.slice(0, SHOWN)) console.log(`failed test: ${t}`);
if (failedTests.length > SHOWN) console.log(`failed test: … and ${failedTests.length - SHOWN} more`);
for (const f of failures) console.log(`failed: ${f}`);
console.log(`${passed} passed, ${failed} failed`);
