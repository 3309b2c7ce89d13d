/**
 * SET-1: terminal settings come from flags, environment, a config file and defaults (in that
 * order); every bad value is reported with where it came from, what is wrong, and what to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src-shared/crypto/hash.js';
import { coreSettings, DEFAULT_IDLE_SECONDS, describeSettings, loadSettings, SettingsError } from './settings.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
  throw new Error('expected a SettingsError');
}

const env = (values: Record<string, string>) => values;

describe('SET-1 terminal settings', () => {
  it('defaults when nothing is given: not enrolled, kiosk off, the default idle timeout, English', () => {
    const s = loadSettings({ defaults: { dataDir: dir } });
    expect(s).toEqual({
      mode: 'kiosk',
      serverUrl: null,
      terminalId: null,
      token: null,
      dataDir: dir,
      kiosk: false,
      idleTimeoutSeconds: DEFAULT_IDLE_SECONDS,
      locale: 'en',
      maintenanceSecretHash: null,
      configFile: null,
    });
  });

  it('SEC-30 the maintenance secret is given only as its hash (terminal.json or the environment), never logged; a plain secret is refused', () => {
    const hash = hashSecret('kiosk-maintenance-2026');
    fs.writeFileSync(path.join(dir, 'terminal.json'), JSON.stringify({ maintenanceSecretHash: hash }));
    const s = loadSettings({ defaults: { dataDir: dir } });
    expect(s.maintenanceSecretHash).toBe(hash);
    expect(coreSettings(s).maintenanceSecretHash).toBe(hash);
    expect(JSON.stringify(describeSettings(s))).not.toContain(hash);
    const plain = problemsOf(() => loadSettings({ env: env({ SHOPFLOOR_MAINTENANCE_SECRET_HASH: 'kiosk-maintenance-2026' }), defaults: { dataDir: dir } }));
    expect(plain).toEqual([expect.stringMatching(/^environment variable SHOPFLOOR_MAINTENANCE_SECRET_HASH = \(not shown\): must be a hash like scrypt\$16384\$8\$1\$<salt>\$<hash>, made by the server's `hash-secret`/)]);
    expect(plain[0]).not.toContain('kiosk-maintenance-2026');
  });

  it('reads <dataDir>/terminal.json; the environment overrides it; flags override both', () => {
    fs.writeFileSync(
      path.join(dir, 'terminal.json'),
      JSON.stringify({ serverUrl: 'http://file:8080', terminalId: 'k1', token: 'file-token-123', kiosk: true, idleTimeoutSeconds: 90, locale: 'zh' }),
    );
    const s = loadSettings({
      env: env({ SHOPFLOOR_DATA: dir, SHOPFLOOR_SERVER_URL: 'http://env:8080', SHOPFLOOR_KIOSK: 'off', SHOPFLOOR_IDLE_SECONDS: '45' }),
      flags: { idleTimeoutSeconds: '30', locale: undefined },
      defaults: { dataDir: '/nowhere' },
    });
    expect(s).toMatchObject({
      serverUrl: 'http://env:8080',
      terminalId: 'k1',
      token: 'file-token-123',
      dataDir: dir,
      kiosk: false,
      idleTimeoutSeconds: 30,
      locale: 'zh',
      configFile: path.join(dir, 'terminal.json'),
    });
    expect(coreSettings(s)).toEqual({ serverUrl: 'http://env:8080', terminalId: 'k1', token: 'file-token-123', idleTimeoutSeconds: 30, locale: 'zh', maintenanceSecretHash: null });
    expect(JSON.stringify(describeSettings(s))).not.toContain('file-token-123');
  });

  it('a bad environment value names the variable, the value, what is wrong and what to do', () => {
    const problems = problemsOf(() => loadSettings({ env: env({ SHOPFLOOR_IDLE_SECONDS: 'soon', SHOPFLOOR_LOCALE: 'fr', SHOPFLOOR_KIOSK: 'maybe' }), defaults: { dataDir: dir } }));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^environment variable SHOPFLOOR_KIOSK = "maybe": must be true or false .*; fix or unset the variable$/);
    expect(problems[1]).toMatch(/^environment variable SHOPFLOOR_IDLE_SECONDS = "soon": must be a number of seconds/);
    expect(problems[2]).toMatch(/^environment variable SHOPFLOOR_LOCALE = "fr": must be one of en, zh/);
  });

  it('a bad flag names the flag; numbers must be whole and in range', () => {
    expect(problemsOf(() => loadSettings({ flags: { idleTimeoutSeconds: '1.5' }, defaults: { dataDir: dir } }))[0]).toMatch(/^--idle-seconds = "1.5": must be a whole number of seconds/);
    expect(problemsOf(() => loadSettings({ flags: { idleTimeoutSeconds: '999999' }, defaults: { dataDir: dir } }))[0]).toMatch(/must be at most 86400/);
    expect(problemsOf(() => loadSettings({ flags: { serverUrl: 'ftp://x', terminalId: 'k1', token: 'long-enough-token' }, defaults: { dataDir: dir } }))[0]).toMatch(
      /^--server = "ftp:\/\/x": must start with http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ .*correct the command line$/,
    );
  });

  it('the config file: invalid JSON, a non-object, unknown keys and wrong types are each named', () => {
    const file = path.join(dir, 'terminal.json');
    fs.writeFileSync(file, '{ "serverUrl": ');
    expect(problemsOf(() => loadSettings({ defaults: { dataDir: dir } }))[0]).toMatch(new RegExp(`^config file ${file} is not valid JSON .*; fix the file or remove it$`));
    // A token written without its quotes is not repeated into the message (SEC: no secret in logs).
    fs.writeFileSync(file, '{"serverUrl":"http://10.0.0.1:8080","terminalId":"kiosk-1","token":tok_7f3a9c2e5b1d4f60a8e2}');
    const unquoted = problemsOf(() => loadSettings({ defaults: { dataDir: dir } }))[0]!;
    expect(unquoted).toMatch(new RegExp(`^config file ${file} is not valid JSON \\(.*check the quotes.*\\); fix the file or remove it$`));
    expect(unquoted).not.toMatch(/tok_|7f3a/);
    fs.writeFileSync(file, '{"serverUrl": "http://10.0.0.1:8080",\n "token": "tok_secret_value" "kiosk": true}');
    const comma = problemsOf(() => loadSettings({ defaults: { dataDir: dir } }))[0]!;
    expect(comma).toMatch(/at line 2, column \d+/);
    expect(comma).not.toMatch(/tok_secret/);
    // A byte order mark (Windows Notepad) is not an error.
    fs.writeFileSync(file, '\uFEFF' + JSON.stringify({ locale: 'zh' }));
    expect(loadSettings({ defaults: { dataDir: dir } }).locale).toBe('zh');
    fs.writeFileSync(file, '[1, 2]');
    expect(problemsOf(() => loadSettings({ defaults: { dataDir: dir } }))[0]).toMatch(/must hold one JSON object/);
    fs.writeFileSync(file, JSON.stringify({ servrUrl: 'http://x:1', kiosk: 'yes', idleTimeoutSeconds: { n: 1 } }));
    const problems = problemsOf(() => loadSettings({ defaults: { dataDir: dir } }));
    expect(problems).toEqual([
      expect.stringMatching(/unknown setting "servrUrl"; the settings are mode, serverUrl, terminalId, token, dataDir, kiosk, idleTimeoutSeconds, locale, maintenanceSecretHash$/),
      expect.stringMatching(/"idleTimeoutSeconds" must be a string, number or boolean/),
      expect.stringMatching(new RegExp(`^config file ${file}, "kiosk" = "yes": must be true or false .*; fix it in the file$`)),
    ]);
  });

  it('--config must exist; the default terminal.json may be missing', () => {
    const missing = path.join(dir, 'nope.json');
    expect(problemsOf(() => loadSettings({ configFile: missing, defaults: { dataDir: dir } }))[0]).toBe(`config file ${missing} does not exist; check the --config path`);
    const file = path.join(dir, 'other.json');
    fs.writeFileSync(file, JSON.stringify({ locale: 'zh', dataDir: path.join(dir, 'data') }));
    expect(loadSettings({ configFile: file, defaults: { dataDir: dir } })).toMatchObject({ locale: 'zh', dataDir: path.join(dir, 'data'), configFile: file });
  });

  it('server, id and token go together: a partial enrollment says which are missing and where to give them', () => {
    const problems = problemsOf(() => loadSettings({ env: env({ SHOPFLOOR_SERVER_URL: 'http://server:8080' }), defaults: { dataDir: dir } }));
    expect(problems).toEqual([
      expect.stringMatching(/^serverUrl, terminalId and token go together: .*missing terminalId \(SHOPFLOOR_TERMINAL_ID or --terminal-id\), token \(SHOPFLOOR_TERMINAL_TOKEN or --token\)$/),
    ]);
  });

  it('SUP-7 supervisor mode needs only the server address, and says where to give it when missing', () => {
    const s = loadSettings({ flags: { mode: 'supervisor', serverUrl: 'http://plant-server:8080' }, defaults: { dataDir: dir } });
    expect(s).toMatchObject({ mode: 'supervisor', serverUrl: 'http://plant-server:8080', terminalId: null, token: null });
    expect(problemsOf(() => loadSettings({ env: env({ SHOPFLOOR_MODE: 'supervisor' }), defaults: { dataDir: dir } }))).toEqual([
      expect.stringMatching(/^mode "supervisor" opens the overview of a sync server: give its address with --server, SHOPFLOOR_SERVER_URL or "serverUrl"/),
    ]);
    expect(problemsOf(() => loadSettings({ env: env({ SHOPFLOOR_MODE: 'boss' }), defaults: { dataDir: dir } }))).toEqual([
      expect.stringMatching(/^environment variable SHOPFLOOR_MODE = "boss": must be one of kiosk, supervisor/),
    ]);
  });

  it('the error message lists every problem, one per line', () => {
    try {
      loadSettings({ env: env({ SHOPFLOOR_LOCALE: 'fr', SHOPFLOOR_IDLE_SECONDS: '-1' }), defaults: { dataDir: dir } });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/^terminal settings:\n {2}- .*SHOPFLOOR_IDLE_SECONDS.*must not be negative.*\n {2}- .*SHOPFLOOR_LOCALE/);
    }
  });
});
