/**
 * HOST-1: `npm run terminal` as a real process: bad settings stop it with one clear line and exit
 * code 2; with --port 0 it logs `terminal listening` with its URL, serves the screen and the
 * bridge, and SIGTERM closes the core cleanly (exit 0), also when a Ctrl+C to its process group and
 * a forwarded SIGTERM arrive together. HOST-3: a database or data folder it cannot use (damaged,
 * not writable, on a read-only or full file system, a file in its way) stops it with one line that
 * names the file and says what to do, and leaves the file as it was. Runs the compiled out/node build.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
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

/** `detached`: in a process group of its own, as a command started from a terminal window is. `uid`/`gid`: as that user. */
function run(args: string[], env: Record<string, string> = {}, options: { detached?: boolean; nodeArgs?: string[]; uid?: number; gid?: number } = {}) {
  return watch(
    spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    }),
  );
}

function watch(child: ChildProcessByStdio<null, Readable, Readable>) {
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

  it('HOST-1 a promise that fails with nobody to handle it (a fault) is logged with its stack, and the kiosk goes on serving; also one rejected with a bare object, which has no text of its own', async () => {
    // The fault is planted from outside the product: a module loaded first rejects two promises
    // once the terminal runs (it has its signal handlers): with an Error, and with an object
    // without a prototype (String() of it throws).
    const fault =
      "data:text/javascript,const t = setInterval(() => { if (process.listenerCount('SIGTERM') > 0) { clearInterval(t); setTimeout(() => { Promise.reject(new Error('planted fault')); Promise.reject(Object.assign(Object.create(null), { planted: 'bare object' })); }, 200); } }, 10)";
    const p = run(['--data', dir, '--port', '0'], {}, { nodeArgs: ['--import', fault] });
    await until(() => p.out().includes('"msg":"terminal listening"'), 'the listening line');
    const { url } = JSON.parse(p.out().split('\n').find((l) => l.includes('"msg":"terminal listening"'))!) as { url: string };
    await until(() => p.out().includes('planted fault'), 'the logged fault');
    const line = p.out().split('\n').find((l) => l.includes('planted fault'))!;
    expect(JSON.parse(line)).toMatchObject({ level: expect.anything(), msg: expect.stringContaining('nobody to handle it') });
    expect(line).toContain('at ');
    // (The planted module's text is in the first one's stack too: look for the second by its message.)
    await until(() => p.out().includes('not with an Error'), 'the logged bare object');
    const bare = JSON.parse(p.out().split('\n').find((l) => l.includes('not with an Error'))!) as { level: number; msg: string; err: string };
    expect(bare).toMatchObject({ level: 50, msg: expect.stringContaining('nobody to handle it') });
    expect(bare.err).toContain('a promise was rejected with an object (keys: planted), not with an Error');
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

/** Whether this machine lets a process mount in a mount namespace of its own (util-linux `unshare`, user namespaces). */
const canUnshareMounts = spawnSync('unshare', ['-Urm', 'true'], { stdio: 'ignore' }).status === 0;
const NO_UNSHARE = 'needs `unshare -Urm` (util-linux, user namespaces on) to give the terminal a read-only or tiny file system of its own';

/**
 * The terminal in a mount namespace of its own, after the shell command `mount` (with the folder in
 * $AT) has mounted something there: a real read-only or full file system, for this process alone.
 */
function runMounted(mount: string, at: string, args: string[]) {
  return watch(spawn('unshare', ['-Urm', 'sh', '-c', `${mount} && exec "$0" "$@"`, process.execPath, CLI, ...args], { env: { ...process.env, AT: at }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Folder permissions stop this user; root ignores them, so as root the terminal runs as `nobody` (who must be able to run it from here). */
const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };
const nobodyCannotRun = asRoot && spawnSync(process.execPath, [CLI, '--help'], { ...NOBODY, stdio: 'ignore' }).status !== 0;

describe('HOST-3 a terminal database or data folder it cannot use', () => {
  /** One line saying what to do: no stack trace, nothing else on stderr. */
  const errLine = (err: string) => {
    expect(err).not.toMatch(/\n\s+at /);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    return err.trimEnd();
  };

  it('HOST-3 a damaged database (garbage bytes) stops the terminal with one line naming the file, "damaged", move it aside and do not delete it; the file is left exactly as it was', async () => {
    const db = path.join(dir, 'terminal.db');
    const garbage = Buffer.from(Array.from({ length: 16384 }, (_, i) => (i * 131 + 7) % 256));
    fs.writeFileSync(db, garbage, { mode: 0o600 });
    const p = run(['--data', dir, '--port', '0']);
    expect(await p.exited).toBe(1);
    const line = errLine(p.err());
    expect(line.startsWith(`error: the terminal's database ${db} is damaged (SQLITE_NOTADB: file is not a database)`), line).toBe(true);
    expect(line).toContain('Do not delete it');
    expect(line).toContain('move terminal.db and, if they are there, terminal.db-wal and terminal.db-shm');
    expect(line).toContain('fetches its data from the server');
    expect(p.out()).not.toContain('terminal listening');
    // Nothing lost: the damaged file is there, byte for byte, and nothing was renamed or removed.
    expect(fs.readFileSync(db).equals(garbage)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('terminal.db'))).toEqual(['terminal.db']);
  });

  it('HOST-3 a database damaged where only the first reads go (the session table) is told as damaged too, not as SQLite\'s words', async () => {
    const first = run(['--data', dir, '--port', '0']);
    await until(() => first.out().includes('"msg":"terminal listening"'), 'the listening line');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const db = path.join(dir, 'terminal.db');
    const sqlite = new Database(db);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const root = sqlite.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'session'").pluck().get() as number;
    const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
    sqlite.close();
    const bytes = fs.readFileSync(db);
    bytes.fill(0x5a, (root - 1) * pageSize, root * pageSize);
    fs.writeFileSync(db, bytes);
    const p = run(['--data', dir, '--port', '0']);
    expect(await p.exited).toBe(1);
    const line = errLine(p.err());
    expect(line.startsWith(`error: the terminal's database ${db} is damaged (SQLITE_CORRUPT: database disk image is malformed)`), line).toBe(true);
    expect(fs.readFileSync(db).equals(bytes)).toBe(true);
  });

  it.skipIf(nobodyCannotRun)(`HOST-3 a data folder its user may not write: one line naming the file refused, the folder, the user, and to fix the permissions${nobodyCannotRun ? ` (skipped: running as root, and the user nobody cannot run ${CLI})` : ''}`, async () => {
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    // Read and enter, no write: for this user (0500), or for `nobody` when the test runs as root (0555, owned by root).
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(data, asRoot ? 0o555 : 0o500);
    try {
      const p = run(['--data', data, '--port', '0'], {}, asRoot ? NOBODY : {});
      expect(await p.exited).toBe(1);
      const line = errLine(p.err());
      const user = asRoot ? 'nobody' : os.userInfo().username;
      expect(line.startsWith(`error: the terminal cannot write ${path.join(data, 'terminal.lock')} (EACCES: permission denied`), line).toBe(true);
      expect(line).toContain(`Its data folder ${data} and the files in it must be writable by the user the terminal runs as (${user}). Give the terminal a folder of its own`);
      expect(fs.readdirSync(data)).toEqual([]);
    } finally {
      fs.chmodSync(data, 0o700);
    }
  });

  it.skipIf(!canUnshareMounts)(`HOST-3 a data folder on a read-only file system (also as root): one line saying it is mounted read-only and what to do${canUnshareMounts ? '' : ` (skipped: ${NO_UNSHARE})`}`, async () => {
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const p = runMounted('mount --bind "$AT" "$AT" && mount -o remount,bind,ro "$AT"', dir, ['--data', data, '--port', '0']);
    expect(await p.exited).toBe(1);
    const line = errLine(p.err());
    expect(line.startsWith(`error: the terminal cannot write ${path.join(data, 'terminal.lock')}: the file system that holds it is mounted read-only (EROFS`), line).toBe(true);
    expect(line).toContain('Mount it read-write, or give the terminal a data folder on a writable disk');
  });

  it.skipIf(!canUnshareMounts)(`HOST-3 a full disk (a 64 KiB file system): one line saying the disk that holds the data folder is full${canUnshareMounts ? '' : ` (skipped: ${NO_UNSHARE})`}`, async () => {
    const data = path.join(dir, 'data');
    const p = runMounted('mount -t tmpfs -o size=64k tmpfs "$AT"', dir, ['--data', data, '--port', '0']);
    expect(await p.exited).toBe(1);
    const line = errLine(p.err());
    expect(line, line).toMatch(/^error: the disk that holds the terminal's data folder \S+ is full \((SQLITE_FULL|ENOSPC)\b/);
    expect(line).toContain(` ${data} is full`);
    expect(line).toContain('Free space on that disk');
  });

  it('HOST-3 a file where the data folder should be: one line naming that file, not a settings complaint about terminal.json', async () => {
    const file = path.join(dir, 'kiosk');
    fs.writeFileSync(file, 'not a folder');
    const p = run(['--data', path.join(file, 'data'), '--port', '0']);
    expect(await p.exited).toBe(1);
    const line = errLine(p.err());
    expect(line.startsWith(`error: the terminal's data folder ${path.join(file, 'data')} cannot be made or used: ${file} is a file, not a folder (ENOTDIR`), line).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
  });
});
