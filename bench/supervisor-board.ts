/**
 * The supervisors' overview in Chromium on a plant's shape (issue 7): 5 departments, 50,000 tasks,
 * 500 operators, 60 terminals; 60 simulated kiosks over WebSocket make 100 changes per second
 * (each operator claims a task, then releases it). An administrator (who sees all 50,000 tasks)
 * signs in to the real server's /supervisor/ page.
 *
 * Figures:
 * - first render: from the sign-in (the form's submit) to the frame that paints the live board with
 *   its floor summary (timed in the page, with the phases in between), and to the first rows of
 *   the 50,000-row task table;
 * - commit to visible: the bench assigns and unassigns tasks of one work order over HTTP (the
 *   answer comes once the change is durable) while the kiosks' load runs, and the page records
 *   when each change's row shows the new version (a MutationObserver, then the next frame);
 *   p50/p99 over every change;
 * - scrolling the 50,000-row table: frame times while it scrolls;
 * - the page's JS heap (after GC) at the start and after BENCH_MINUTES (default 10) of changes.
 *
 * Targets: first render < 1.5 s; commit to visible p99 < 250 ms.
 */
import { chromium, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { badgeHash, hashSecret, tokenHash } from '../src-shared/crypto/hash.js';
import { PROTOCOL_VERSION } from '../src-shared/protocol/terminal.js';
import { SqliteServerStore } from '../src-server/store/sqlite/store.js';
import type { ImportTaskRow, NewUser } from '../src-server/store/types.js';
import { report, round, rssMiB, startServerProcess, summarize, tempDir } from './lib.js';

const DEPARTMENTS = ['assembly', 'cutting', 'painting', 'quality', 'welding'];
const TASKS = Number(process.env.BENCH_TASKS ?? 50_000);
const OPERATORS = 500;
const TERMINALS = 60;
const CHANGES_PER_SEC = 100;
const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const MEASURED_PER_SEC = 4;
const ADMIN_PASSWORD = 'bench-admin-password';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// ---------------------------------------------------------------------------------------------
// The plant

export async function seed(dataDir: string, now: number): Promise<{ terminalTasks: string[][]; measured: string[] }> {
  const store = new SqliteServerStore(path.join(dataDir, 'claims.db'), { synchronous: 'OFF' });
  const salt = await store.siteSalt();
  for (const d of DEPARTMENTS) await store.upsertDepartment({ id: d, name: d[0]!.toUpperCase() + d.slice(1), taskLimit: null }, now);
  const user = (id: string, over: Partial<NewUser>): NewUser => ({
    id,
    displayName: id,
    roles: ['operator'],
    departmentIds: [],
    badgeHash: null,
    pinHash: null,
    passwordHash: null,
    active: true,
    taskLimit: null,
    skills: [],
    qualityScore: 0.8,
    ...over,
  });
  await store.createUser(user('admin', { displayName: 'Bench admin', roles: ['admin'], passwordHash: hashSecret(ADMIN_PASSWORD) }), now);
  for (let i = 0; i < OPERATORS; i++) {
    const d = DEPARTMENTS[i % DEPARTMENTS.length]!;
    await store.createUser(user(`op${String(i).padStart(3, '0')}`, { displayName: `Operator ${i}`, departmentIds: [d], badgeHash: badgeHash(salt, `B${i}`) }), now);
  }
  for (let i = 0; i < TERMINALS; i++) {
    const d = DEPARTMENTS[i % DEPARTMENTS.length]!;
    await store.createTerminal({ id: `k${String(i).padStart(2, '0')}`, name: `Kiosk ${i}`, departments: [d], tokenHash: tokenHash(`token-k${i}`) }, now);
  }
  // The measured work order: 20 Cutting tasks the bench assigns and unassigns.
  const isMeasured = (i: number) => i < 100 && i % DEPARTMENTS.length === 1;
  const rows: ImportTaskRow[] = [];
  for (let i = 0; i < TASKS; i++) {
    const d = DEPARTMENTS[i % DEPARTMENTS.length]!;
    rows.push({
      taskId: `T${String(i).padStart(6, '0')}`,
      workOrderNumber: isMeasured(i) ? 'WO-BENCH' : `WO-${String(Math.floor(i / 8)).padStart(5, '0')}`,
      workOrderTitle: '',
      step: i % 3 === 0 ? 'inspect' : 'cut',
      workContent: `Work item ${i} of the bench plant`,
      departmentId: d,
      status: 'pending',
      priority: i % 4,
      dueAt: now + ((i % 48) - 8) * 3600_000,
      requiredSkills: [],
    });
  }
  for (let i = 0; i < rows.length; i += 5000) {
    const r = await store.importTasks(rows.slice(i, i + 5000), now);
    if (!r.ok) throw new Error(`seeding failed: ${JSON.stringify(r.errors.slice(0, 3))}`);
  }
  await store.close();
  // Each kiosk works through its own tasks of its department (not the measured work order's).
  const terminalTasks: string[][] = Array.from({ length: TERMINALS }, () => []);
  for (let i = 0; i < TASKS; i++) {
    if (isMeasured(i)) continue;
    const d = i % DEPARTMENTS.length;
    const terminals = Array.from({ length: TERMINALS }, (_, k) => k).filter((k) => k % DEPARTMENTS.length === d);
    terminalTasks[terminals[Math.floor(i / DEPARTMENTS.length) % terminals.length]!]!.push(rows[i]!.taskId);
  }
  return { terminalTasks, measured: rows.filter((_r, i) => isMeasured(i)).map((r) => r.taskId) };
}

// ---------------------------------------------------------------------------------------------
// Kiosks: claim, then release, one change at a time

class Kiosk {
  private ws!: WebSocket;
  private nextId = 1;
  private next = 0;
  private held: string | null = null;
  changes = 0;
  /** When (performance.now()) this kiosk had the last page of its first snapshot. */
  snapshotDoneAt: number | null = null;

  constructor(
    readonly id: string,
    readonly operator: string,
    readonly tasks: string[],
  ) {}

  async connect(wsUrl: string, k: number): Promise<void> {
    this.ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    let welcomed!: () => void;
    const welcome = new Promise<void>((r) => (welcomed = r));
    this.ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"changes"')) {
        const m = /"cursor":(\d+|null)/.exec(text);
        if (this.snapshotDoneAt === null && text.includes('"more":false')) this.snapshotDoneAt = performance.now();
        this.ws.send(`{"type":"ack","cursor":${m && m[1] !== 'null' ? m[1] : 0}}`);
      } else if (text.startsWith('{"type":"welcome"')) welcomed();
      else if (text.startsWith('{"type":"results"')) this.changes += (text.match(/"status":"applied"/g) ?? []).length;
    });
    this.ws.send(
      JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, terminalId: this.id, token: `token-k${k}`, cursor: null, lastAckedMutationId: 0, clientTime: Date.now(), appVersion: 'bench', outbox: 0 }),
    );
    await welcome;
    this.push('signIn', { method: 'badge' });
  }

  private push(name: string, args: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ type: 'push', mutations: [{ id: this.nextId++, name, args, operatorId: this.operator, clientTime: Date.now() }] }));
  }

  /** One change: claim the next task, or release the one held. */
  step(): void {
    if (this.held) {
      this.push('release', { taskId: this.held });
      this.held = null;
    } else {
      const t = this.tasks[this.next++ % this.tasks.length]!;
      this.push('claim', { taskId: t });
      this.held = t;
    }
  }

  close(): void {
    this.ws.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The page

async function api(url: string, token: string, p: string, body: unknown): Promise<{ task?: { id: string; version: number } }> {
  const r = await fetch(`${url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { task?: { id: string; version: number } };
}

/** Record, in the page, when each task row first shows each version (the frame after the DOM change). */
async function watchRows(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __seen: Record<string, number> };
    w.__seen = {};
    const note = (el: Element) => {
      const id = el.getAttribute('data-task-id');
      const v = el.getAttribute('data-version');
      if (!id || !v) return;
      const key = `${id}@${v}`;
      if (w.__seen[key] !== undefined) return;
      w.__seen[key] = -1;
      requestAnimationFrame(() => (w.__seen[key] = Date.now()));
    };
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes') note(r.target as Element);
        for (const n of r.addedNodes) if (n instanceof Element) [n, ...n.querySelectorAll('[data-task-id]')].forEach(note);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-version'] });
    document.querySelectorAll('[data-task-id]').forEach(note);
  });
}

async function heapMiB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return round(usedSize / 1024 / 1024, 1);
}

/** Frame times while a scroll box moves `step` px every frame (120: a fast wheel; 2400: a fling). */
async function scrollFrames(page: Page, selector: string, step: number): Promise<{ p50: number; p99: number }> {
  const deltas = await page.evaluate(
    ({ selector, step }) =>
      new Promise<number[]>((resolve) => {
        const box = document.querySelector(selector) as HTMLElement;
        box.scrollTop = 0;
        const out: number[] = [];
        let last = performance.now();
        let n = 0;
        const tick = () => {
          const t = performance.now();
          if (n > 0) out.push(t - last);
          last = t;
          box.scrollTop += step;
          if (++n < 120 && box.scrollTop + box.clientHeight < box.scrollHeight) requestAnimationFrame(tick);
          else resolve(out);
        };
        requestAnimationFrame(tick);
      }),
    { selector, step },
  );
  const s = summarize(deltas);
  return { p50: s.p50, p99: s.p99 };
}

export async function run(): Promise<void> {
  const dir = tempDir('supervisor');
  const now = Date.now();
  const { terminalTasks, measured } = await seed(dir, now);
  const server = await startServerProcess(dir);
  const wsUrl = server.url.replace(/^http/, 'ws') + '/sync';
  const kiosks: Kiosk[] = [];
  const kiosksStart = performance.now();
  for (let k = 0; k < TERMINALS; k++) {
    // Kiosk k serves DEPARTMENTS[k % 5]; its operator is one of that department's.
    const kiosk = new Kiosk(`k${String(k).padStart(2, '0')}`, `op${String(k).padStart(3, '0')}`, terminalTasks[k]!);
    await kiosk.connect(wsUrl, k);
    kiosks.push(kiosk);
  }
  const token = (
    (await (
      await fetch(`${server.url}/api/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'admin', password: ADMIN_PASSWORD }) })
    ).json()) as { token: string }
  ).token;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));

  // First render.
  await page.goto(`${server.url}/supervisor/`);
  await page.getByTestId('sv-signin-user').fill('admin');
  await page.getByTestId('sv-signin-password').fill(ADMIN_PASSWORD);
  // Timed in the page, from the sign-in (the form's submit: the page's own mark) to the frame that
  // paints the floor summary; Playwright's click and polling are not in it.
  await page.evaluate(() => {
    const w = window as unknown as { __boardPainted?: number };
    new MutationObserver((_r, obs) => {
      if (!document.querySelector('[data-testid="sv-sum-all-pending"]')) return;
      obs.disconnect();
      requestAnimationFrame(() => (w.__boardPainted = performance.now()));
    }).observe(document.body, { subtree: true, childList: true });
  });
  const signInAt = performance.now();
  await page.getByTestId('sv-signin-submit').click();
  await page.locator('[data-testid="sv-live"][data-state="live"]').waitFor({ timeout: 60_000 });
  await page.getByTestId('sv-sum-all-pending').waitFor();
  await page.waitForFunction(() => (window as unknown as { __boardPainted?: number }).__boardPainted !== undefined);
  const phases = await page.evaluate(() => {
    const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
    const start = at('sv:signin');
    const signIn = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/auth/sign-in')) as PerformanceResourceTiming | undefined;
    return {
      signedIn: Math.round((signIn ? signIn.responseEnd : NaN) - start),
      socketOpen: Math.round(at('sv:open') - start),
      welcome: Math.round(at('sv:welcome') - start),
      snapshotApplied: Math.round(at('sv:live') - start),
      boardPainted: Math.round((window as unknown as { __boardPainted: number }).__boardPainted - start),
    };
  });
  const boardMs = phases.boardPainted;
  const t1 = Date.now();
  await page.keyboard.press('2');
  await page.locator('[data-task-id]').first().waitFor();
  const tableMs = Date.now() - t1;
  const rowsShown = Number(await page.getByTestId('sv-tasks-count').getAttribute('data-count'));
  const table = '[data-testid="sv-task-table"]';
  const scroll = { wheel: await scrollFrames(page, table, 120), fling: await scrollFrames(page, table, 2400), baseline: { wheel: { p50: NaN, p99: NaN } } };
  // The same page's People view, a plain (not virtualised) table of 500 rows, scrolled the same way:
  // the frame time this machine's headless Chromium gives any scrolling table.
  await page.keyboard.press('3');
  await page.locator('[data-testid^="sv-person-"]').first().waitFor();
  scroll.baseline.wheel = await scrollFrames(page, '.sv-scroll', 120);
  await page.keyboard.press('2');
  await page.locator('[data-task-id]').first().waitFor();
  const heapStart = await heapMiB(page);

  // Show only the measured work order, then let the floor run.
  await page.getByTestId('sv-filter-wo').fill('WO-BENCH');
  await page.locator('[data-task-id]').first().waitFor();
  await page.mouse.move(5, 1075);
  await watchRows(page);
  let stop = false;
  const tick = 1000 / CHANGES_PER_SEC;
  let k = 0;
  const load = setInterval(() => {
    if (!stop) kiosks[k++ % kiosks.length]!.step();
  }, tick);
  const commits: Array<{ key: string; at: number }> = [];
  const endAt = Date.now() + MINUTES * 60_000;
  let i = 0;
  while (Date.now() < endAt) {
    const taskId = measured[i % measured.length]!;
    const op = Math.floor(i / measured.length) % 2 === 0 ? 'assign' : 'unassign';
    const body = op === 'assign' ? { userId: `op${String(1 + 5 * (i % 20)).padStart(3, '0')}` } : {};
    try {
      const r = await api(server.url, token, `/api/tasks/${taskId}/${op}`, body);
      if (r.task) commits.push({ key: `${r.task.id}@${r.task.version}`, at: Date.now() });
    } catch (e) {
      problems.push(String(e));
    }
    i++;
    await new Promise((r) => setTimeout(r, 1000 / MEASURED_PER_SEC));
  }
  stop = true;
  clearInterval(load);
  await new Promise((r) => setTimeout(r, 1000));
  const seen = (await page.evaluate(() => (window as unknown as { __seen: Record<string, number> }).__seen)) as Record<string, number>;
  const latencies: number[] = [];
  let missed = 0;
  for (const c of commits) {
    const t = seen[c.key];
    if (t === undefined || t < 0) missed++;
    else latencies.push(Math.max(0, t - c.at));
  }
  const heapEnd = await heapMiB(page);
  const lat = summarize(latencies);
  const applied = kiosks.reduce((n, x) => n + x.changes, 0);
  await browser.close();
  for (const x of kiosks) x.close();
  const serverRss = rssMiB(server.child.pid!);
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  report({
    bench: 'supervisor-board',
    figures: {
      shape: `${DEPARTMENTS.length} departments, ${TASKS} tasks, ${OPERATORS} operators, ${TERMINALS} terminals; ${CHANGES_PER_SEC} changes/s from the kiosks`,
      firstRenderBoardMs: boardMs,
      firstRenderPhasesMs: phases,
      firstRenderTableMs: tableMs,
      // The kiosks' snapshots (each of its department's 10,000 tasks) began as they connected,
      // before the browser started: when the last one was done, and how many were not at sign-in.
      kiosksSnapshotsDoneMs: kiosks.every((x) => x.snapshotDoneAt !== null)
        ? Math.round(Math.max(...kiosks.map((x) => x.snapshotDoneAt!)) - kiosksStart)
        : `${kiosks.filter((x) => x.snapshotDoneAt === null).length} kiosks never got their snapshot`,
      kiosksInSnapshotAtSignIn: kiosks.filter((x) => x.snapshotDoneAt === null || x.snapshotDoneAt > signInAt).length,
      rowsInTable: rowsShown,
      scrollFrameMs: scroll,
      scrollWheelRatioToPlainTable: round(scroll.wheel.p50 / scroll.baseline.wheel.p50, 2),
      minutes: MINUTES,
      kioskChangesApplied: applied,
      kioskChangesPerSec: round(applied / (MINUTES * 60), 1),
      measuredChanges: commits.length,
      commitToVisibleMs: lat,
      missed,
      pageHeapMiB: { start: heapStart, end: heapEnd },
      serverRssMiB: serverRss,
      problems: problems.slice(0, 5),
    },
    targets: {
      firstRender: { target: '< 1500 ms', met: boardMs < 1500 },
      commitToVisibleP99: { target: '< 250 ms', met: lat.p99 < 250 && missed === 0 },
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
