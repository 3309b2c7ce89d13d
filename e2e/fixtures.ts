/**
 * Playwright fixtures: each test gets its own temp folder, a real sync server process seeded with
 * the e2e plant, and a factory for browser-hosted terminal processes (optionally behind a
 * loopback TCP proxy the test can cut). Everything started is stopped and deleted afterwards.
 */
import { test as base, expect, type Browser, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TcpProxy } from '../test/support/tcp-proxy.js';
import { PLANT, seedPlant, type KioskId } from './support/plant.js';
import { startServer, startTerminalHost, type RunningProcess } from './support/processes.js';
import { signInSupervisor } from './support/supervisor.js';

export { expect };

export interface TerminalHandle {
  id: KioskId | null;
  url: string;
  process: RunningProcess;
  /** Between this terminal and the server, when asked for. */
  proxy: TcpProxy | null;
  page: Page;
}

export interface TerminalRequest {
  id?: KioskId;
  /** Route the terminal's server link through a TCP proxy the test controls. */
  viaProxy?: boolean;
  /** Start unenrolled: the enrollment screen. */
  unenrolled?: boolean;
  idleSeconds?: number;
  locale?: 'en' | 'zh';
}

export type SupervisorId = keyof typeof PLANT.supervisors | 'ada';

export interface SupervisorRequest {
  as: SupervisorId;
  viewport?: { width: number; height: number };
  /** Open this query string of the overview (a shared view). */
  search?: string;
}

interface Fixtures {
  workDir: string;
  server: RunningProcess;
  startTerminal(request: TerminalRequest): Promise<TerminalHandle>;
  /** A browser page on the server's /supervisor/, signed in (own cookies). */
  openSupervisor(request: SupervisorRequest): Promise<Page>;
}

async function openScreen(browser: Browser, url: string, viewport?: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(url);
  return page;
}

/** Errors the page logged (CSP violations show up here too). */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern
  workDir: async ({}, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopfloor-e2e-'));
    await use(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  },

  server: async ({ workDir }, use, testInfo) => {
    const dataDir = path.join(workDir, 'server');
    fs.mkdirSync(dataDir, { recursive: true });
    await seedPlant(dataDir);
    const server = await startServer(dataDir);
    await use(server);
    await server.stop();
    if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach('server.log', { body: server.output(), contentType: 'text/plain' });
  },

  startTerminal: async ({ workDir, server, browser }, use, testInfo) => {
    const started: TerminalHandle[] = [];
    let n = 0;
    await use(async (request) => {
      const id = request.unenrolled ? null : (request.id ?? 'k1');
      const dataDir = path.join(workDir, `terminal-${++n}`);
      const proxy = request.viaProxy ? await TcpProxy.start(Number(new URL(server.url).port)) : null;
      const enrollment = id
        ? { serverUrl: proxy ? proxy.url : server.url, terminalId: id, token: PLANT.terminals[id].token }
        : undefined;
      const process = await startTerminalHost({
        dataDir,
        ...(enrollment ? { enrollment } : {}),
        ...(request.idleSeconds !== undefined ? { idleSeconds: request.idleSeconds } : {}),
        ...(request.locale ? { locale: request.locale } : {}),
      });
      const page = await openScreen(browser, process.url);
      const handle: TerminalHandle = { id, url: process.url, process, proxy, page };
      started.push(handle);
      return handle;
    });
    for (const t of started) {
      await t.page.context().close();
      await t.process.stop();
      await t.proxy?.close();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach(`${t.process.name}.log`, { body: t.process.output(), contentType: 'text/plain' });
      }
    }
  },

  openSupervisor: async ({ server, browser }, use) => {
    const pages: Page[] = [];
    await use(async (request) => {
      const page = await openScreen(browser, `${server.url}/supervisor/${request.search ?? ''}`, request.viewport);
      pages.push(page);
      await signInSupervisor(page, request.as);
      return page;
    });
    for (const p of pages) await p.context().close();
  },
});
