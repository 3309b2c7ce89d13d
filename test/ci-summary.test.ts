/**
 * CI-1, CI-2: CI's summary (scripts/ci-summary.mjs, run by .ci/run after `npm test`) against small fixture
 * reports shaped like the ones vitest 4 and Playwright 1.65 write: it never says "0 failed" for a
 * red run, and it lists every skipped test with its reason.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve('scripts/ci-summary.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Fixture {
  vitest?: unknown;
  playwright?: unknown;
  /** npm test's output, as .ci/run keeps it. */
  log?: string;
  status?: number;
}

/** Run the summary in a temp folder holding the fixture reports; its output lines. */
function summary(f: Fixture): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-summary-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'test-results'));
  // Vitest names files by absolute path; the summary shows them relative to where it runs.
  if (f.vitest !== undefined) fs.writeFileSync(path.join(dir, 'test-results', 'vitest.json'), JSON.stringify(f.vitest).replaceAll('@ROOT@', dir));
  if (f.playwright !== undefined) fs.writeFileSync(path.join(dir, 'test-results', 'playwright.json'), JSON.stringify(f.playwright));
  const args = [SCRIPT];
  if (f.log !== undefined) {
    fs.writeFileSync(path.join(dir, 'test-results', 'npm-test.log'), f.log);
    args.push('--log', 'test-results/npm-test.log');
  }
  if (f.status !== undefined) args.push('--status', String(f.status));
  const out = execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  return out.trimEnd().split('\n');
}

type Assertion = { fullName: string; status: 'passed' | 'failed' | 'skipped' | 'todo' };
const file = (name: string, tests: Assertion[], over: Record<string, unknown> = {}) => ({
  name: `@ROOT@/${name}`,
  status: tests.some((t) => t.status === 'failed') ? 'failed' : 'passed',
  message: '',
  assertionResults: tests.map((t) => ({ ancestorTitles: [], title: t.fullName, failureMessages: [], meta: {}, tags: [], ...t })),
  ...over,
});

function vitestReport(files: ReturnType<typeof file>[], over: Record<string, unknown> = {}) {
  const all = files.flatMap((f) => f.assertionResults);
  const count = (s: string) => all.filter((t) => t.status === s).length;
  return {
    numTotalTestSuites: files.length,
    numFailedTestSuites: files.filter((f) => f.status === 'failed').length,
    numTotalTests: all.length,
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numPendingTests: count('skipped'),
    numTodoTests: count('todo'),
    success: files.every((f) => f.status === 'passed'),
    testResults: files,
    ...over,
  };
}

type PwTest = { title: string; status: 'expected' | 'unexpected' | 'skipped' | 'flaky'; skip?: string[] };
function playwrightReport(specs: Record<string, PwTest[]>, errors: Array<{ message: string }> = []) {
  const tests = Object.values(specs).flat();
  const annotations = (t: PwTest) => (t.skip ?? []).map((description) => ({ type: 'skip', description, location: { file: 'x', line: 1, column: 1 } }));
  return {
    config: {},
    suites: Object.entries(specs).map(([name, list]) => ({
      title: name,
      file: name,
      specs: list.map((t) => ({
        title: t.title,
        file: name,
        ok: t.status !== 'unexpected',
        tests: [{ annotations: annotations(t), status: t.status, results: [{ status: t.status === 'skipped' ? 'skipped' : 'passed', annotations: annotations(t) }] }],
      })),
      suites: [],
    })),
    errors,
    stats: {
      expected: tests.filter((t) => t.status === 'expected').length,
      unexpected: tests.filter((t) => t.status === 'unexpected').length,
      skipped: tests.filter((t) => t.status === 'skipped').length,
      flaky: tests.filter((t) => t.status === 'flaky').length,
    },
  };
}

const npmLog = (...steps: string[]) => steps.map((s) => `\n> shopfloor-claims@0.1.0 ${s}\n> something\n`).join('');
const ELECTRON_SKIP = 'Electron binary not installed (node_modules/electron/dist is missing): see README, "The Electron app test"';
const green = () => ({
  vitest: vitestReport([file('test/a.test.ts', [{ fullName: 'CLM-1 a', status: 'passed' }, { fullName: 'CLM-2 b', status: 'passed' }])]),
  playwright: playwrightReport({ 'shift.spec.ts': [{ title: 'a shift', status: 'expected' }] }),
  log: npmLog('test', 'lint', 'typecheck', 'test:unit', 'test:e2e'),
  status: 0,
});

describe('CI summary', () => {
  it('CI-1 all green: the runners\' counts added up, nothing failed, nothing skipped', () => {
    const lines = summary(green());
    expect(lines).toEqual(['3 passed, 0 failed']);
  });

  it('CI-1 a failing vitest global setup is a failure, though no test ran', () => {
    // What vitest writes when its global setup throws: success false and no test at all.
    const lines = summary({ vitest: vitestReport([], { success: false }), log: npmLog('test', 'lint', 'typecheck', 'test:unit'), status: 1 });
    expect(lines.at(-1)).toBe('0 passed, 1 failed');
    expect(lines.join('\n')).toMatch(/failed: vitest: the run failed outside any test file \(its global setup/);
  });

  it('CI-1 a failing Playwright global setup (its report\'s errors) is a failure', () => {
    const lines = summary({ ...green(), playwright: playwrightReport({}, [{ message: 'Error: tsc failed\n    at globalSetup' }]), status: 1 });
    expect(lines.at(-1)).toBe('2 passed, 1 failed');
    expect(lines).toContain('failed: playwright: Error: tsc failed');
  });

  it('CI-1 a test file that does not load is a failure, in vitest and in Playwright', () => {
    const broken = file('test/broken.test.ts', [], { status: 'failed', message: "Cannot find module './nope.js' imported from @ROOT@/test/broken.test.ts" });
    const v = vitestReport([file('test/a.test.ts', [{ fullName: 'a', status: 'passed' }]), broken]);
    expect(v.numFailedTests).toBe(0);
    let lines = summary({ vitest: v, log: npmLog('test', 'lint', 'typecheck', 'test:unit'), status: 1 });
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    expect(lines.join('\n')).toContain("did not load: Cannot find module './nope.js'");

    lines = summary({ ...green(), playwright: playwrightReport({}, [{ message: "Error: Cannot find module '/work/x/e2e/missing.js' imported from /work/x/e2e/c.spec.ts" }]), status: 1 });
    expect(lines.at(-1)).toBe('2 passed, 1 failed');
  });

  it('CI-1 CI-2 a hook that fails outside the tests fails its file, and its tests are listed as not run', () => {
    const v = vitestReport([
      file('test/hooks.test.ts', [
        { fullName: 'suite a', status: 'skipped' },
        { fullName: 'suite b', status: 'passed' },
      ], { status: 'failed' }),
    ]);
    const lines = summary({ vitest: v, log: npmLog('test', 'lint', 'typecheck', 'test:unit'), status: 1 });
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    expect(lines).toContain('skipped: vitest test/hooks.test.ts › suite a — did not run: its file or suite failed');
  });

  it.each(['lint', 'typecheck'])('CI-1 a %s failure is a failure, with the reports the runners never wrote missing', (step) => {
    const steps = ['test', 'lint', 'typecheck'].slice(0, step === 'lint' ? 2 : 3);
    const lines = summary({ log: `${npmLog(...steps)}\n/work/x/src/a.ts\n  1:1  error  no\n`, status: 1 });
    expect(lines.at(-1)).toBe('0 passed, 1 failed');
    expect(lines.join('\n')).toContain(`npm run ${step} failed`);
  });

  it('CI-1 a missing report counts as a failure even without the log or the exit status', () => {
    expect(summary({}).at(-1)).toBe('0 passed, 1 failed');
    const lines = summary({ vitest: green().vitest });
    expect(lines.at(-1)).toBe('2 passed, 1 failed');
    expect(lines.join('\n')).toMatch(/playwright: no report/);
  });

  it('CI-1 a red exit status that no report explains is still a failure', () => {
    expect(summary({ ...green(), status: 2 }).at(-1)).toBe('3 passed, 1 failed');
  });

  it('CI-1 failed tests are counted and named', () => {
    const v = vitestReport([file('test/a.test.ts', [{ fullName: 'CLM-7 names the holder', status: 'failed' }, { fullName: 'ok', status: 'passed' }])]);
    const lines = summary({ vitest: v, log: npmLog('test', 'lint', 'typecheck', 'test:unit'), status: 1 });
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
    expect(lines).toContain('failed test: vitest test/a.test.ts › CLM-7 names the holder');
  });

  it('CI-2 skipped tests are listed, each with its reason (Playwright\'s skip annotations), before the last line', () => {
    const f = green();
    const lines = summary({
      ...f,
      vitest: vitestReport([file('test/a.test.ts', [{ fullName: 'a', status: 'passed' }, { fullName: 'later', status: 'todo' }, { fullName: 'off here', status: 'skipped' }])]),
      playwright: playwrightReport({
        'shift.spec.ts': [{ title: 'a shift', status: 'expected' }],
        'electron.spec.ts': [{ title: 'ELE-1 the Electron app starts', status: 'skipped', skip: [ELECTRON_SKIP] }],
      }),
    });
    expect(lines.at(-1)).toBe('2 passed, 0 failed');
    expect(lines).toContain(`skipped: playwright electron.spec.ts › ELE-1 the Electron app starts — ${ELECTRON_SKIP}`);
    expect(lines).toContain('skipped: vitest test/a.test.ts › later — todo');
    expect(lines.find((l) => /^\d+ skipped/.test(l))).toBe(`3 skipped (reasons: todo; skipped in code (vitest reports no reason); ${ELECTRON_SKIP})`);
  });
});
