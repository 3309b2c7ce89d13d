/**
 * The sandboxed preload: exposes exactly the TerminalApi (plus `subscribe`) on
 * `window.terminalApi`, one function per entry of the channel table, checked with `satisfies`.
 * It never exposes ipcRenderer or any Node/Electron object; calls go over `invoke`, answers come
 * back as `CallResult` data, and a refused call rejects with its error as data (RefusedCall).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EXPOSED_API_KEY, type ExposedTerminalApi, type RefusedCall } from '../../src-shared/exposed-api.js';
import type { CallResult, TerminalApi, TerminalEvent, TerminalMethod } from '../../src-shared/terminal-api.js';
import { API_CHANNELS, EVENT_CHANNEL } from './channels.js';

function call<K extends TerminalMethod>(method: K): TerminalApi[K] {
  const fn = async (input?: unknown): Promise<unknown> => {
    const result = (await ipcRenderer.invoke(API_CHANNELS[method], input)) as CallResult;
    if (result.ok) return result.value;
    const refused: RefusedCall = { terminalApiError: result.error };
    return Promise.reject(refused);
  };
  return fn as unknown as TerminalApi[K];
}

const terminalApi = {
  getSnapshot: call('getSnapshot'),
  signIn: call('signIn'),
  signOut: call('signOut'),
  listClaimable: call('listClaimable'),
  listMine: call('listMine'),
  findByCode: call('findByCode'),
  claim: call('claim'),
  accept: call('accept'),
  start: call('start'),
  complete: call('complete'),
  release: call('release'),
  reject: call('reject'),
  listConflicts: call('listConflicts'),
  acknowledgeConflict: call('acknowledgeConflict'),
  listNotifications: call('listNotifications'),
  markNotificationsRead: call('markNotificationsRead'),
  enroll: call('enroll'),
  setLocale: call('setLocale'),
  touch: call('touch'),
  subscribe(listener: (event: TerminalEvent) => void): () => void {
    const handler = (_e: IpcRendererEvent, event: TerminalEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  },
} satisfies ExposedTerminalApi;

contextBridge.exposeInMainWorld(EXPOSED_API_KEY, terminalApi);
