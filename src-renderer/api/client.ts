/**
 * The renderer's one way to the terminal. In Electron it uses `window.terminalApi` (the preload);
 * in a plain browser it uses the browser-hosted terminal's `/api` WebSocket. Both give the same
 * TerminalApi promises, and both reject with a DomainError, so nothing above this module knows
 * which transport it has.
 */
import { EXPOSED_API_KEY, type ExposedTerminalApi } from '../../src-shared/exposed-api.js';
import { TERMINAL_METHODS, type TerminalApi, type TerminalEvent, type TerminalMethod } from '../../src-shared/terminal-api.js';
import { toDomainError } from './errors.js';
import { bridgeUrl, connectBridge, type BridgeOptions } from './ws-bridge.js';

export interface TerminalClient extends TerminalApi {
  readonly transport: 'electron' | 'bridge';
  subscribe(listener: (event: TerminalEvent) => void): () => void;
  /** The link to the terminal process: always up in Electron; the WebSocket in a browser. */
  onLink(listener: (up: boolean) => void): () => void;
  close(): void;
}

type Caller = (method: TerminalMethod, input: unknown) => Promise<unknown>;

/** The TerminalApi methods, each a call through `caller` with errors as DomainErrors. */
function apiFrom(caller: Caller): TerminalApi {
  const api: Partial<Record<TerminalMethod, (input?: unknown) => Promise<unknown>>> = {};
  for (const method of TERMINAL_METHODS) {
    api[method] = (input?: unknown) =>
      caller(method, input).catch((e: unknown) => {
        throw toDomainError(e);
      });
  }
  return api as unknown as TerminalApi;
}

/** Electron: wrap the preload's object. */
export function clientFromExposed(exposed: ExposedTerminalApi): TerminalClient {
  const call: Caller = (method, input) => (exposed[method] as (input?: unknown) => Promise<unknown>)(input);
  return {
    ...apiFrom(call),
    transport: 'electron',
    subscribe: (listener) => exposed.subscribe(listener),
    onLink(listener) {
      listener(true);
      return () => undefined;
    },
    close: () => undefined,
  };
}

/** Browser: the local WebSocket bridge. */
export function clientFromBridge(options: BridgeOptions): TerminalClient {
  const link = connectBridge(options);
  return {
    ...apiFrom((method, input) => link.call(method, input)),
    transport: 'bridge',
    subscribe: (listener) => link.subscribe(listener),
    onLink: (listener) => link.onLink(listener),
    close: () => link.close(),
  };
}

export function createTerminalClient(win: Window = window): TerminalClient {
  const exposed = (win as unknown as Record<string, ExposedTerminalApi | undefined>)[EXPOSED_API_KEY];
  return exposed ? clientFromExposed(exposed) : clientFromBridge({ url: bridgeUrl(win.location) });
}
