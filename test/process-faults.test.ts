/**
 * CLI-7, HOST-1, ELE-4: the one function with which the server, the browser-hosted terminal and the
 * Electron main process survive a promise that fails with nobody to handle it. Run in real Node
 * processes (the compiled out/node build), since what is at stake is whether the process lives on.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = pathToFileURL(path.resolve('out/node/src-shared/process-faults.js')).href;

/**
 * A Node process that (when `install`) reports unhandled rejections as JSON lines, then runs
 * `faults` (script text), and prints "still running" and exits 0 a moment later if it is alive.
 */
function runScript(faults: string, install = true) {
  const script = `
    import { reportUnhandledRejections } from ${JSON.stringify(MODULE)};
    const stop = ${install ? `reportUnhandledRejections(process, 'kiosk', (message, err) => console.log(JSON.stringify({ message, stack: err.stack })))` : '() => {}'};
    ${faults}
    setTimeout(() => { console.log('still running'); process.exit(0); }, 300);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  const reports = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { message: string; stack: string });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, reports };
}

describe('CLI-7 HOST-1 ELE-4 a promise that fails with nobody to handle it', () => {
  it('CLI-7 HOST-1 ELE-4 without the handler the process dies of it; with it, the fault is reported with its stack and the process goes on', () => {
    const fault = "Promise.reject(new Error('planted fault'));";
    const bare = runScript(fault, false);
    expect(bare.status).not.toBe(0);
    expect(bare.stdout).not.toContain('still running');

    const r = runScript(fault);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('still running');
    expect(r.reports).toHaveLength(1);
    expect(r.reports[0]!.message).toBe('a promise failed with nobody to handle it (a fault: please report this line); the kiosk goes on');
    expect(r.reports[0]!.stack).toMatch(/^Error: planted fault\n\s+at /);
  });

  it('CLI-7 HOST-1 ELE-4 a rejection with something other than an Error, even a value that cannot be turned into text, is reported by what it is (an object by its keys, never its values) and the process goes on', () => {
    const r = runScript(`
      Promise.reject(Object.assign(Object.create(null), { planted: 'bare object' }));
      Promise.reject('a string');
      Promise.reject(undefined);
      const cyclic = {}; cyclic.self = cyclic; Promise.reject(cyclic);
      Promise.reject({ user: 'ann', password: 'secret-pass', rows: Array.from({ length: 20000 }, (_, i) => i) });
      Promise.reject(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => ['key' + i, i])));
      Promise.reject((await import('node:vm')).runInNewContext("new Error('from another context')"));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('still running');
    expect(r.reports.map((x) => x.stack.split('\n')[0])).toEqual([
      'Error: a promise was rejected with an object (keys: planted), not with an Error',
      'Error: a promise was rejected with a string of 8 characters, not with an Error',
      'Error: a promise was rejected with undefined, not with an Error',
      'Error: a promise was rejected with an object (keys: self), not with an Error',
      'Error: a promise was rejected with an object (keys: user, password, rows), not with an Error',
      expect.stringMatching(/^Error: a promise was rejected with an object \(keys: key0, key1, .{900,}…, not with an Error$/),
      'Error: from another context',
    ]);
    expect(JSON.stringify(r.reports)).not.toContain('secret-pass');
    expect(r.reports[6]!.stack).toMatch(/^Error: from another context\n\s+at /);
  });

  it('CLI-7 HOST-1 ELE-4 once stopped (the process is shutting down), a rejection is Node\'s again: it ends the process', () => {
    const r = runScript("stop(); Promise.reject(new Error('after the stop'));");
    expect(r.status).not.toBe(0);
    expect(r.reports).toEqual([]);
    expect(r.stderr).toContain('after the stop');
  });
});
