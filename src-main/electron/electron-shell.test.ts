/**
 * ELE-2: the parts of the Electron shell that run without Electron: one IPC channel per API
 * method (from TERMINAL_METHODS), and crash recovery that reloads, then relaunches.
 */
import { describe, expect, it } from 'vitest';
import { TERMINAL_METHODS } from '../../src-shared/terminal-api.js';
import { API_CHANNELS, EVENT_CHANNEL } from './channels.js';
import { CrashBudget } from './crash-budget.js';
import { isOverviewPage, supervisorUrl } from './overview-url.js';

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

describe('SUP-7 the supervisor window', () => {
  it('opens the server\u2019s overview, whatever form the address was given in', () => {
    expect(supervisorUrl('http://plant-server:8080')).toBe('http://plant-server:8080/supervisor/');
    expect(supervisorUrl('https://plant.example/')).toBe('https://plant.example/supervisor/');
    expect(supervisorUrl('wss://plant.example:8443/sync')).toBe('https://plant.example:8443/supervisor/');
  });

  it('may not navigate away from the overview (another path, another origin, another scheme)', () => {
    const server = 'http://plant-server:8080';
    expect(isOverviewPage('http://plant-server:8080/supervisor/?view=tasks&dept=cut', server)).toBe(true);
    expect(isOverviewPage('http://plant-server:8080/api/audit?format=csv', server)).toBe(false);
    expect(isOverviewPage('http://plant-server:8080/metrics', server)).toBe(false);
    expect(isOverviewPage('http://evil.example/supervisor/', server)).toBe(false);
    expect(isOverviewPage('https://plant-server:8080/supervisor/', server)).toBe(false);
    expect(isOverviewPage('file:///etc/passwd', server)).toBe(false);
    expect(isOverviewPage('not a url', server)).toBe(false);
  });
});
