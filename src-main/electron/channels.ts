/**
 * The IPC channel table: one `invoke` channel per TerminalApi method, derived from
 * TERMINAL_METHODS (so a method added to the API gets its channel, its handler in main and its
 * function in the preload from this one list), and one channel for events to the renderer.
 */
import { TERMINAL_METHODS, type TerminalMethod } from '../../src-shared/terminal-api.js';

export type ApiChannel<K extends TerminalMethod = TerminalMethod> = `terminal-api:${K}`;

export const API_CHANNELS = Object.freeze(
  Object.fromEntries(TERMINAL_METHODS.map((method) => [method, `terminal-api:${method}`])),
) as { readonly [K in TerminalMethod]: ApiChannel<K> };

/** Main → renderer: every TerminalEvent of the core. */
export const EVENT_CHANNEL = 'terminal-api:event';
