/**
 * ELE-3: the Electron IPC path without Electron: the real preload (with `electron` replaced by a
 * fake contextBridge / ipcRenderer) talks to the real main-side handlers (registered on a fake
 * ipcMain from the channel table) in front of a real terminal core. The preload exposes exactly
 * the TerminalApi plus `subscribe`; inputs are validated in main; errors cross as data.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isRefusedCall, type ExposedTerminalApi } from '../../src-shared/exposed-api.js';
import { TERMINAL_METHODS, type TerminalEvent } from '../../src-shared/terminal-api.js';
import { ApiDispatcher } from '../core/api-dispatch.js';
import { openTerminalCore } from '../core/open-core.js';
import { loadSettings } from '../core/settings.js';
import type { TerminalCore } from '../core/terminal.js';
import { EVENT_CHANNEL } from './channels.js';
import { forwardEvents, registerApiHandlers } from './ipc.js';

type Handler = (event: { senderFrame: { url: string } | null }, input: unknown) => unknown;
const handlers = new Map<string, Handler>();
const rendererEvents = new EventEmitter();
let senderUrl = 'file:///app/out/renderer/index.html';
const exposed: Record<string, unknown> = {};

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: {
    invoke: async (channel: string, input: unknown) => handlers.get(channel)!({ senderFrame: { url: senderUrl } }, input),
    on: (channel: string, fn: (...args: unknown[]) => void) => rendererEvents.on(channel, fn),
    removeListener: (channel: string, fn: (...args: unknown[]) => void) => rendererEvents.removeListener(channel, fn),
  },
}));

let dir: string;
let core: TerminalCore;
let api: ExposedTerminalApi;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-'));
  core = openTerminalCore(loadSettings({ defaults: { dataDir: dir } }), { appVersion: 'test' });
  const ipcMain = {
    handle: (channel: string, fn: Handler) => handlers.set(channel, fn),
    removeHandler: (channel: string) => handlers.delete(channel),
  };
  registerApiHandlers(ipcMain as never, new ApiDispatcher(core, 'en'), (event) => event.senderFrame?.url === 'file:///app/out/renderer/index.html');
  forwardEvents(
    (l) => core.subscribe(l),
    () => ({ isDestroyed: () => false, send: (channel: string, e: unknown) => rendererEvents.emit(channel, {}, e) }) as never,
  );
  await import('./preload.js');
  api = exposed.terminalApi as ExposedTerminalApi;
});

afterAll(() => {
  core.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isRefusedCall(e)) return e.terminalApiError;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('ELE-3 preload and IPC handlers', () => {
  it('exposes exactly the TerminalApi plus subscribe on window.terminalApi, nothing else', () => {
    expect(Object.keys(exposed)).toEqual(['terminalApi']);
    expect(Object.keys(api).sort()).toEqual([...TERMINAL_METHODS, 'subscribe'].sort());
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
  });

  it('answers calls; invalid input and refusals come back as error data', async () => {
    expect((await api.getSnapshot()).identity.terminalId).toBeNull();
    expect(await refusal(api.claim({ taskId: '' }))).toMatchObject({ code: 'invalid_input', details: { field: 'input.taskId' } });
    expect(await refusal(api.claim({ taskId: 't1', extra: 1 } as never))).toMatchObject({ code: 'invalid_input' });
    expect(await refusal(api.listMine())).toMatchObject({ code: 'not_signed_in' });
  });

  it('SEC-7 ELE-3 input that refers to itself, or shares one object down 40 levels (IPC keeps both), is refused at once; main keeps answering', async () => {
    const loop: Record<string, unknown> = { taskId: 't1' };
    loop.self = loop;
    expect(await refusal(api.claim(loop as never))).toMatchObject({ code: 'invalid_input' });
    let shared: Record<string, unknown> = { reason: 'x' };
    for (let i = 0; i < 40; i++) shared = { a: shared, b: shared };
    expect(await refusal(api.reject({ taskId: 't1', reason: shared } as never))).toMatchObject({ code: 'invalid_input', details: { field: 'input.reason' } });
    expect((await api.getSnapshot()).identity.terminalId).toBeNull();
  });

  it('refuses calls from any page but the terminal screen', async () => {
    senderUrl = 'https://evil.example/';
    try {
      expect(await refusal(api.getSnapshot())).toMatchObject({ code: 'permission_denied' });
    } finally {
      senderUrl = 'file:///app/out/renderer/index.html';
    }
  });

  it('core events reach subscribers on the one event channel; unsubscribe stops them', async () => {
    const seen: TerminalEvent[] = [];
    const off = api.subscribe((e) => seen.push(e));
    await api.enroll({ serverUrl: 'http://127.0.0.1:9', terminalId: 'k3', token: 'some-long-token' });
    expect(seen.some((e) => e.type === 'identity')).toBe(true);
    off();
    const n = seen.length;
    await api.setLocale({ locale: 'zh' });
    core.kick();
    rendererEvents.emit(EVENT_CHANNEL, {}, { type: 'tasks' });
    expect(seen.length).toBe(n);
    core.stopSyncing();
  });
});
