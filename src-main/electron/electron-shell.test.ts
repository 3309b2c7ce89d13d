/**
 * ELE-2: the parts of the Electron shell that run without Electron: one IPC channel per API
 * method (from TERMINAL_METHODS), and crash recovery that reloads, then relaunches.
 */
import { describe, expect, it } from 'vitest';
import { TERMINAL_METHODS } from '../../src-shared/terminal-api.js';
import { API_CHANNELS, EVENT_CHANNEL } from './channels.js';
import { CrashBudget } from './crash-budget.js';

describe('ELE-2 the Electron shell', () => {
  it('has exactly one invoke channel per TerminalApi method, all distinct from the event channel', () => {
    expect(Object.keys(API_CHANNELS).sort()).toEqual([...TERMINAL_METHODS].sort());
    const channels = Object.values(API_CHANNELS);
    expect(new Set(channels).size).toBe(channels.length);
    expect(channels).not.toContain(EVENT_CHANNEL);
    expect(API_CHANNELS.claim).toBe('terminal-api:claim');
  });

  it('reloads the screen after a crash, and relaunches the app when crashes keep coming', () => {
    let now = 0;
    const budget = new CrashBudget(3, 60_000, () => now);
    expect([budget.record(), budget.record(), budget.record()]).toEqual(['reload', 'reload', 'reload']);
    expect(budget.record()).toBe('relaunch');
    now += 61_000;
    expect(budget.record()).toBe('reload');
  });
});
