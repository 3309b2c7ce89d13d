/**
 * The overview's app for store tests: a feed link that never opens (nothing comes), no URL, English;
 * `over` replaces any of it (a fake fetch, an injected clock).
 */
import { createSupervisorApp, type SupervisorApp, type SupervisorAppOptions } from '../supervisor/stores/app.js';

export function testSupervisorApp(over: Partial<SupervisorAppOptions> = {}): SupervisorApp {
  return createSupervisorApp({
    feedUrl: 'ws://server/supervise',
    openSocket: () => ({ readyState: 0, send: () => undefined, close: () => undefined, onopen: null, onmessage: null, onclose: null, onerror: null }),
    search: '',
    writeSearch: () => undefined,
    locale: 'en',
    onLocale: () => undefined,
    ...over,
  });
}
