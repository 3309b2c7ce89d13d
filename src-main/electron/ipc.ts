/**
 * Main-process IPC: one `handle` per entry of the channel table, each validating its input with
 * the method's zod schema (ApiDispatcher) and answering with data (`{ ok, value | error }`).
 * Only the terminal's own screen may call; core events go to it on the one event channel.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { DomainError } from '../../src-shared/domain/errors.js';
import { TERMINAL_METHODS, type CallResult, type TerminalEvent } from '../../src-shared/terminal-api.js';
import type { ApiDispatcher } from '../core/api-dispatch.js';
import { API_CHANNELS, EVENT_CHANNEL } from './channels.js';

export function registerApiHandlers(ipcMain: IpcMain, dispatcher: ApiDispatcher, isTrustedSender: (event: IpcMainInvokeEvent) => boolean): () => void {
  for (const method of TERMINAL_METHODS) {
    ipcMain.handle(API_CHANNELS[method], (event, input: unknown): Promise<CallResult> | CallResult => {
      if (!isTrustedSender(event)) {
        return { ok: false, error: new DomainError('permission_denied', { problem: 'only the terminal screen may call the terminal API' }).toData(dispatcher.locale) };
      }
      return dispatcher.call(method, input);
    });
  }
  return () => {
    for (const method of TERMINAL_METHODS) ipcMain.removeHandler(API_CHANNELS[method]);
  };
}

/** Forward core events to the screen (if it is alive). */
export function forwardEvents(subscribe: (listener: (e: TerminalEvent) => void) => () => void, target: () => WebContents | null): () => void {
  return subscribe((event) => {
    const wc = target();
    if (wc && !wc.isDestroyed()) wc.send(EVENT_CHANNEL, event);
  });
}
