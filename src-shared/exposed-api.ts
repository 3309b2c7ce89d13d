/**
 * The shape of the TerminalApi as the Electron preload exposes it on `window.terminalApi`: the
 * API itself plus one event subscription. A refused call rejects with its error as data
 * (`RefusedCall`), because an Error loses its fields crossing the context bridge; the renderer's
 * api client turns it back into a DomainError.
 */
import type { ErrorData } from './domain/errors.js';
import type { TerminalApi, TerminalEvent } from './terminal-api.js';

export const EXPOSED_API_KEY = 'terminalApi';

export interface ExposedTerminalApi extends TerminalApi {
  /** Receive every terminal event; returns the unsubscribe function. */
  subscribe(listener: (event: TerminalEvent) => void): () => void;
}

export interface RefusedCall {
  terminalApiError: ErrorData;
}

export function isRefusedCall(value: unknown): value is RefusedCall {
  if (!value || typeof value !== 'object') return false;
  const e = (value as { terminalApiError?: unknown }).terminalApiError;
  return Boolean(e) && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string';
}
