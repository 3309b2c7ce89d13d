/**
 * The npm scripts as a new user runs them, as real processes: `npm start` (scripts/start-demo.mjs:
 * the server and a browser-hosted kiosk on port 0 in a temp folder, on the out/node build that
 * test/global-setup.ts compiled) stopped by a Ctrl+C to its process group or by a SIGTERM to the
 * script alone (CLI-7, HOST-1, DEMO-1); `npm run app` (scripts/app.mjs) where Electron's binary is
 * missing; and the Electron version against the Node version package.json asks for. Every wait is
 * bounded; anything still running is killed in afterEach.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'out/node/src-server/cli.js');
const START_DEMO = path.join(ROOT, 'scripts/start-demo.mjs');
const APP = path.join(ROOT, 'scripts/app.mjs');

const dirs: string[] = [];
const groups: number[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** The command lines of the live processes of a process group (`ps`), or [] when none is left. */
function groupCommands(pgid: number): string[] {
  const r = spawnSync('ps', ['-o', 'args=', '-g', String(pgid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

interface Credentials {
  admin: { password: string; apiToken: string };
  terminals: Array<{ token: string }>;
  operators: Array<{ badge: string }>;
}

interface Demo {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  credentials: Credentials;
  credentialsFile: string;
}

/**
 * `npm start` in a process group of its own (as a terminal window runs it), on a small demo plant
 * seeded beforehand (the full one takes long to build), without rebuilding out/.
 */
async function startDemo(): Promise<Demo> {
  const demoDir = tempDir('start-demo-');
  const seeded = spawnSync(process.execPath, [CLI, 'seed-demo', '--quiet', '--data', path.join(demoDir, 'server'), '--work-orders', '20', '--operators', '30'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(seeded.status, seeded.stderr).toBe(0);
  const credentialsFile = path.join(demoDir, 'server', 'demo-credentials.json');
  const credentials = JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) as Credentials;

  const env: NodeJS.ProcessEnv = { ...process.env, SHOPFLOOR_DEMO_DIR: demoDir, PORT: '0', KIOSK_PORT: '0', HOST: '127.0.0.1', SHOPFLOOR_DEMO_SKIP_BUILD: '1' };
  delete env.SHOPFLOOR_TERMINAL_TOKEN;
  const child = spawn(process.execPath, [START_DEMO], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.push(child.pid!);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes('Press Ctrl+C to stop.')) {
          clearInterval(timer);
          resolve();
        }
      }, 25);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`npm start exited early with ${code}:\n${output}`));
      });
    }),
    30_000,
    'npm start to say it is running',
  );
  return { child, output: () => output, exited, credentials, credentialsFile };
}

describe('npm start (scripts/start-demo.mjs)', () => {
  it('DEMO-1 prints the addresses, a handful of badges and where the rest is, in a screenful; no token, also not in the process list', async () => {
    const demo = await startDemo();
    const out = demo.output();
    const kioskUrl = /Kiosk terminal .*:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const serverUrl = /Sync server .*:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(kioskUrl, out).toBeDefined();
    expect(serverUrl, out).toBeDefined();
    expect(out).toContain(`${serverUrl}/supervisor/`);
    expect(out).toContain(demo.credentialsFile);
    // What it prints, not counting warnings the processes may log ("[kiosk] ...").
    expect(out.trim().split('\n').filter((l) => !/^\[(server|kiosk)\] /.test(l)).length, out).toBeLessThanOrEqual(20);
    const badgesShown = demo.credentials.operators.filter((o) => out.includes(o.badge)).length;
    expect(badgesShown, out).toBeGreaterThanOrEqual(3);
    expect(badgesShown, out).toBeLessThanOrEqual(6);
    for (const secret of [demo.credentials.admin.apiToken, ...demo.credentials.terminals.map((t) => t.token)]) expect(out).not.toContain(secret);

    // The kiosk enrolled with its token from the environment, not from a command line anyone can read.
    const commands = groupCommands(demo.child.pid!);
    expect(commands.some((c) => c.includes('host-cli.js')), commands.join('\n')).toBe(true);
    for (const c of commands) for (const t of demo.credentials.terminals) expect(c).not.toContain(t.token);
    expect((await withTimeout(fetch(`${serverUrl}/healthz`), 5_000, '/healthz')).status).toBe(200);
    // The kiosk answers: with its screen when the renderer is built (npm start builds it; this test
    // skips the build, and the unit tests run before anything built it on a fresh clone), else with
    // the 503 that says to build it.
    const kiosk = await withTimeout(fetch(kioskUrl!), 5_000, 'the kiosk');
    const built = fs.existsSync(path.join(ROOT, 'out/renderer/index.html'));
    expect(kiosk.status, await kiosk.text()).toBe(built ? 200 : 503);

    process.kill(-demo.child.pid!, 'SIGTERM');
    const code = await withTimeout(demo.exited, 20_000, 'npm start to stop');
    expect(code, demo.output()).toBe(0);
  });

  it('CLI-7 HOST-1 one Ctrl+C (SIGINT to the whole process group) stops server and kiosk cleanly: exit 0, no "second signal"', async () => {
    const demo = await startDemo();
    process.kill(-demo.child.pid!, 'SIGINT');
    const code = await withTimeout(demo.exited, 20_000, 'npm start to stop');
    expect(demo.output()).not.toContain('second signal');
    expect(demo.output()).not.toMatch(/did not stop cleanly|stopped unexpectedly/);
    expect(code, demo.output()).toBe(0);
    expect(demo.output()).toContain('Demo stopped.');
    expect(groupCommands(demo.child.pid!)).toEqual([]);
  });

  it('CLI-7 HOST-1 a SIGTERM to the script alone (as a service manager sends) is passed on once: both stop cleanly, exit 0', async () => {
    const demo = await startDemo();
    demo.child.kill('SIGTERM');
    const code = await withTimeout(demo.exited, 20_000, 'npm start to stop');
    expect(code, demo.output()).toBe(0);
    expect(demo.output()).toContain('Demo stopped.');
    expect(demo.output()).not.toContain('second signal');
    expect(groupCommands(demo.child.pid!)).toEqual([]);
  });
});

describe('ELE-1 npm run app (scripts/app.mjs)', () => {
  it('package.json runs the app through the check', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.app).toBe('node scripts/app.mjs');
  });

  it('without the Electron binary: one line saying what is missing and what to do, exit 1', (ctx) => {
    const electronDir = path.join(ROOT, 'node_modules', 'electron');
    const pathFile = path.join(electronDir, 'path.txt');
    if (fs.existsSync(pathFile) && fs.existsSync(path.join(electronDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim()))) {
      ctx.skip('the Electron binary is installed here, so its absence cannot be shown');
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ELECTRON_EXEC_PATH;
    const r = spawnSync(process.execPath, [APP], { cwd: ROOT, env, encoding: 'utf8', timeout: 15_000 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^npm run app: Electron's binary is not installed \(node_modules\/electron\/dist\S* is missing\)/);
    expect(r.stderr).toContain('node node_modules/electron/install.js');
    expect(r.stderr).toContain('npm run terminal');
    expect(r.stdout).toBe('');
  });

  it('ELECTRON_EXEC_PATH pointing nowhere: one line naming it, exit 1', () => {
    const missing = path.join(tempDir('app-'), 'electron');
    const r = spawnSync(process.execPath, [APP], { cwd: ROOT, env: { ...process.env, ELECTRON_EXEC_PATH: missing }, encoding: 'utf8', timeout: 15_000 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`ELECTRON_EXEC_PATH is ${missing}, which does not exist`);
  });

  it("passes the app's options (--mode, --server) on to Electron, not to electron-vite", () => {
    // A stand-in for the Electron binary that writes down its arguments.
    const dir = tempDir('app-');
    const fake = path.join(dir, 'electron');
    const argsFile = path.join(dir, 'args.txt');
    fs.writeFileSync(fake, '#!/bin/sh\nprintf \'%s\\n\' "$@" > "$FAKE_ELECTRON_ARGS"\n', { mode: 0o755 });
    const r = spawnSync(process.execPath, [APP, '--mode', 'supervisor', '--server', 'http://server:8080'], {
      cwd: ROOT,
      env: { ...process.env, ELECTRON_EXEC_PATH: fake, ELECTRON_ENTRY: ROOT, SHOPFLOOR_APP_SKIP_BUILD: '1', FAKE_ELECTRON_ARGS: argsFile },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(fs.readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([ROOT, '--mode', 'supervisor', '--server', 'http://server:8080']);
  });
});

describe('ELE-1 Node version', () => {
  /** "20.19" -> [20, 19, 0] */
  const version = (v: string) => v.split('.').map(Number).concat(0, 0, 0).slice(0, 3);
  const atLeast = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

  it('the Electron package accepts the Node version package.json and README ask for, so `npm ci` does not warn', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const ours = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(pkg.engines.node)?.[1];
    expect(ours, 'package.json engines.node is ">=X.Y"').toBeDefined();
    expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain(`Node ${ours}+`);
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; engines?: { node?: string } }>;
    };
    const electron = lock.packages['node_modules/electron']!;
    const wanted = electron.engines?.node;
    if (wanted === undefined) return;
    const min = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(wanted)?.[1];
    expect(min, `electron@${electron.version} engines.node "${wanted}" is a plain minimum`).toBeDefined();
    expect(atLeast(version(ours!), version(min!)), `electron@${electron.version} wants Node ${wanted}, package.json says ${pkg.engines.node}`).toBeGreaterThanOrEqual(0);
  });
});
