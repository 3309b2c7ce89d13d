/**
 * UI-API-1: the renderer's one api client. Over Electron's preload object and over the browser
 * host's real /api WebSocket (an in-process host with a real terminal core), a refused call
 * rejects with a DomainError rebuilt from the error data, events arrive, and a dropped link fails
 * nothing: calls made meanwhile wait, and the client reconnects by itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DomainError } from '../../src-shared/domain/errors.js';
import type { ExposedTerminalApi, RefusedCall } from '../../src-shared/exposed-api.js';
import type { TerminalEvent } from '../../src-shared/terminal-api.js';
import { startBrowserHost, type RunningHost } from '../../src-main/core/browser-host.js';
import { openTerminalCore } from '../../src-main/core/open-core.js';
import { loadSettings } from '../../src-main/core/settings.js';
import type { TerminalCore } from '../../src-main/core/terminal.js';
import { clientFromBridge, clientFromExposed, type TerminalClient } from './client.js';

async function caught(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('ELE-3 BRG-1 the client over the Electron preload object', () => {
  it('passes calls through and turns a RefusedCall into a DomainError', async () => {
    const refused: RefusedCall = {
      terminalApiError: new DomainError('task_conflict', { taskId: 't1', currentOwner: { id: 'bob', name: 'Bob' } }).toData('zh'),
    };
    const listeners: Array<(e: TerminalEvent) => void> = [];
    const exposed = {
      claim: (input: unknown) => (input ? Promise.reject(refused) : Promise.resolve()),
      touch: () => Promise.resolve(),
      subscribe: (l: (e: TerminalEvent) => void) => {
        listeners.push(l);
        return () => undefined;
      },
    } as unknown as ExposedTerminalApi;
    const client = clientFromExposed(exposed);
    const e = await caught(client.claim({ taskId: 't1' }));
    expect(e.code).toBe('task_conflict');
    expect(e.details.currentOwner).toEqual({ id: 'bob', name: 'Bob' });
    await expect(client.touch()).resolves.toBeUndefined();
    const seen: TerminalEvent[] = [];
    client.subscribe((ev) => seen.push(ev));
    listeners[0]!({ type: 'tasks' });
    expect(seen).toEqual([{ type: 'tasks' }]);
    let up: boolean | null = null;
    client.onLink((u) => (up = u));
    expect(up).toBe(true);
  });
});

describe('BRG-1 UI-13 the client over the browser host\'s WebSocket bridge', () => {
  let dir: string;
  let core: TerminalCore;
  let host: RunningHost;
  let client: TerminalClient | null = null;

  const start = async (port = 0) =>
    startBrowserHost({ api: core, rendererDir: null, port, host: '127.0.0.1', locale: 'en', log: () => undefined });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-'));
    core = openTerminalCore(loadSettings({ defaults: { dataDir: dir } }), { appVersion: 'test' });
    host = await start();
  });
  afterEach(async () => {
    client?.close();
    client = null;
    await host.close();
    core.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = () => {
    client = clientFromBridge({
      url: host.url.replace('http', 'ws') + '/api',
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      callTimeoutMs: 5000,
    });
    return client;
  };

  it('answers calls made before the link is open, rebuilds refusals as DomainErrors, and delivers events', async () => {
    const c = connect();
    const snap = await c.getSnapshot();
    expect(snap.identity.terminalId).toBeNull();
    expect((await caught(c.listMine())).code).toBe('not_signed_in');
    expect((await caught(c.claim({ taskId: '' }))).code).toBe('invalid_input');
    const events: TerminalEvent[] = [];
    c.subscribe((e) => events.push(e));
    await c.enroll({ serverUrl: 'http://127.0.0.1:9', terminalId: 'k5', token: 'some-long-token' });
    await expect.poll(() => events.some((e) => e.type === 'identity')).toBe(true);
  });

  it('a dropped link is reported; a call made meanwhile waits, and is answered once the client has reconnected by itself', async () => {
    const c = connect();
    const links: boolean[] = [];
    c.onLink((up) => links.push(up));
    await c.getSnapshot();
    const port = Number(new URL(host.url).port);
    await host.close();
    await expect.poll(() => links.at(-1)).toBe(false);
    const waiting = c.getSnapshot();
    host = await start(port);
    await expect.poll(() => links.at(-1), { timeout: 5000 }).toBe(true);
    await expect(waiting).resolves.toMatchObject({ identity: { terminalId: null } });
  });
});
