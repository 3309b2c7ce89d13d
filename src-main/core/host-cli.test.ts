/**
 * HOST-1: `npm run terminal` as a real process: bad settings stop it with one clear line and exit
 * code 2; with --port 0 it logs `terminal listening` with its URL, serves the screen and the
 * bridge, and SIGTERM closes the core cleanly (exit 0), also when a Ctrl+C to its process group and
 * a forwarded SIGTERM arrive together. Runs the compiled out/node build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const CLI = path.resolve('out/node/src-main/core/host-cli.js');
let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-cli-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** `detached`: in a process group of its own, as a command started from a terminal window is. */
function run(args: string[], env: Record<string, string> = {}, options: { detached?: boolean; nodeArgs?: string[] } = {}) {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HOST-1 the browser-hosted terminal process', () => {
  it('bad settings: one message naming each bad setting, exit code 2, no stack trace', async () => {
    const p = run(['--data', dir, '--idle-seconds', 'abc'], { SHOPFLOOR_LOCALE: 'fr' });
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/^error: terminal settings:\n {2}- --idle-seconds = "abc": must be a number of seconds/);
    expect(p.err()).toContain('environment variable SHOPFLOOR_LOCALE = "fr"');
    expect(p.err()).not.toMatch(/\n\s+at /);
  });

  it('starts unenrolled on port 0, says where it listens, bridges the API, and stops cleanly on SIGTERM', async () => {
    const p = run(['--data', dir, '--port', '0']);
    await until(() => p.out().includes('"msg":"terminal listening"'), 'the listening line');
    const line = p.out().split('\n').find((l) => l.includes('"msg":"terminal listening"'))!;
    const { url, enrolled } = JSON.parse(line) as { url: string; enrolled: boolean };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(enrolled).toBe(false);
    expect(line).not.toContain('token":"');

    const ws = new WebSocket(url.replace('http', 'ws') + '/api');
    const answer = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ id: 1, method: 'getSnapshot', input: {} }));
    expect(JSON.parse(await answer)).toMatchObject({ kind: 'result', id: 1, ok: true, value: { identity: { terminalId: null }, idleTimeoutSeconds: 120 } });
    ws.close();

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('"msg":"terminal stopped"');
    expect(fs.existsSync(path.join(dir, 'terminal.db'))).toBe(true);
  });

  it('HOST-1 a promise that fails with nobody to handle it (a fault) is logged with its stack, and the kiosk goes on serving', async () => {
    // The fault is planted from outside the product: a module loaded first rejects a promise once
    // the terminal runs (it has its signal handlers).
    const fault =
      "data:text/javascript,const t = setInterval(() => { if (process.listenerCount('SIGTERM') > 0) { clearInterval(t); setTimeout(() => Promise.reject(new Error('planted fault')), 200); } }, 10)";
    const p = run(['--data', dir, '--port', '0'], {}, { nodeArgs: ['--import', fault] });
    await until(() => p.out().includes('"msg":"terminal listening"'), 'the listening line');
    const { url } = JSON.parse(p.out().split('\n').find((l) => l.includes('"msg":"terminal listening"'))!) as { url: string };
    await until(() => p.out().includes('planted fault'), 'the logged fault');
    const line = p.out().split('\n').find((l) => l.includes('planted fault'))!;
    expect(JSON.parse(line)).toMatchObject({ level: expect.anything(), msg: expect.stringContaining('nobody to handle it') });
    expect(line).toContain('at ');
    // Still serving: the screen's API answers.
    const ws = new WebSocket(url.replace('http', 'ws') + '/api');
    const answer = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ id: 1, method: 'getSnapshot', input: {} }));
    expect(JSON.parse(await answer)).toMatchObject({ kind: 'result', id: 1, ok: true });
    ws.close();
    expect(p.child.exitCode).toBeNull();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('a Ctrl+C to the process group followed at once by a SIGTERM from a supervising script (npm start) is one clean shutdown, exit 0', async () => {
    const p = run(['--data', dir, '--port', '0'], {}, { detached: true });
    await until(() => p.out().includes('"msg":"terminal listening"'), 'the listening line');
    // What a terminal window does on Ctrl+C: SIGINT to every process of the foreground group, and
    // what a parent that passes the signal on as well adds (here at once, the worst case).
    process.kill(-p.child.pid!, 'SIGINT');
    expect(p.child.kill('SIGTERM')).toBe(true);
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('"msg":"terminal stopped"');
    expect(p.out()).not.toContain('second signal');
    // Whichever of the two is handled second is taken as the same request.
    expect(p.out()).toMatch(/"signal":"SIG(INT|TERM)".*"msg":"already shutting down"/);
  });
});
