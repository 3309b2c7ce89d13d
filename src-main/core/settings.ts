/**
 * Terminal settings, shared by the Electron shell and the browser-hosted terminal: server URL,
 * terminal id and token, data folder, kiosk mode, idle timeout and locale. They come from (highest
 * first) command-line flags, the environment (`SHOPFLOOR_*`), a JSON config file (`--config FILE`,
 * else `<dataDir>/terminal.json` when it exists) and defaults. Every value is validated with zod;
 * a bad one is reported with where it came from, what is wrong, and what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LOCALES, type Locale } from '../../src-shared/domain/i18n.js';
import { scryptParamsOf } from '../../src-shared/crypto/hash.js';
import { enrollInputSchema } from '../../src-shared/terminal-api.js';
import type { TerminalSettings } from './terminal.js';

export const CONFIG_FILE_NAME = 'terminal.json';
export const DEFAULT_IDLE_SECONDS = 120;
export const MAX_IDLE_SECONDS = 24 * 3600;

/**
 * What the desktop app is: a kiosk terminal (the default), or a supervisor's window on the
 * server's overview (no terminal core, no database; needs only the server address).
 */
export const APP_MODES = ['kiosk', 'supervisor'] as const;
export type AppMode = (typeof APP_MODES)[number];

export interface HostSettings {
  mode: AppMode;
  serverUrl: string | null;
  terminalId: string | null;
  token: string | null;
  /**
   * SEC-30: the scrypt hash of this terminal's maintenance secret (made by the server's
   * `hash-secret`), which authorises re-enrollment when the server is gone. Never the secret itself.
   */
  maintenanceSecretHash: string | null;
  /** Folder for terminal.db (and the default terminal.json). Absolute. */
  dataDir: string;
  /** Electron only: full-screen kiosk window without window controls. */
  kiosk: boolean;
  /** Seconds without a touch before the operator is signed out; 0 turns it off. */
  idleTimeoutSeconds: number;
  locale: Locale;
  /** The config file that was read, if any. */
  configFile: string | null;
}

export type SettingKey = Exclude<keyof HostSettings, 'configFile'>;

/** One setting's names in each source, for reading and for error messages. */
export const SETTINGS: Record<SettingKey, { env: string; flag: string; about: string }> = {
  mode: { env: 'SHOPFLOOR_MODE', flag: '--mode', about: 'kiosk (a terminal) or supervisor (the overview in a desktop window)' },
  serverUrl: { env: 'SHOPFLOOR_SERVER_URL', flag: '--server', about: 'sync server address, e.g. http://server:8080' },
  terminalId: { env: 'SHOPFLOOR_TERMINAL_ID', flag: '--terminal-id', about: 'this terminal\'s id, as enrolled on the server' },
  token: { env: 'SHOPFLOOR_TERMINAL_TOKEN', flag: '--token', about: 'this terminal\'s token, printed once by `add-terminal`' },
  dataDir: { env: 'SHOPFLOOR_DATA', flag: '--data', about: 'folder for the terminal\'s database' },
  kiosk: { env: 'SHOPFLOOR_KIOSK', flag: '--kiosk', about: 'full-screen kiosk window (Electron): true or false' },
  idleTimeoutSeconds: { env: 'SHOPFLOOR_IDLE_SECONDS', flag: '--idle-seconds', about: 'seconds without a touch before sign-out; 0 turns it off' },
  locale: { env: 'SHOPFLOOR_LOCALE', flag: '--locale', about: 'screen language: en or zh' },
  maintenanceSecretHash: {
    env: 'SHOPFLOOR_MAINTENANCE_SECRET_HASH',
    flag: '(no flag)',
    about: "hash of the maintenance secret that allows re-enrolling this terminal, made by the server's `hash-secret`",
  },
};

const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
/** Values never written into a message (SEC-30: someone may paste the secret instead of its hash). */
const SECRET_SETTINGS: ReadonlySet<SettingKey> = new Set<SettingKey>(['token', 'maintenanceSecretHash']);

/** The problem with a setting, and what to do about it; several are reported together. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `terminal settings: ${problems[0]}` : `terminal settings:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SettingsError';
  }
}

const BOOL_TRUE = /^(1|true|yes|on)$/i;
const BOOL_FALSE = /^(0|false|no|off)$/i;

/** Validators per setting: the values as JSON types (strings from text sources are converted first). */
const fieldSchemas: Record<SettingKey, z.ZodType> = {
  mode: z.enum(APP_MODES, { error: `must be one of ${APP_MODES.join(', ')}` }),
  serverUrl: enrollInputSchema.shape.serverUrl,
  terminalId: enrollInputSchema.shape.terminalId,
  token: enrollInputSchema.shape.token,
  dataDir: z.string().trim().min(1, 'must not be empty'),
  kiosk: z.boolean({ error: 'must be true or false' }),
  idleTimeoutSeconds: z
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative (0 turns the idle sign-out off)')
    .max(MAX_IDLE_SECONDS, `must be at most ${MAX_IDLE_SECONDS} (one day)`),
  locale: z.enum(LOCALES, { error: `must be one of ${LOCALES.join(', ')}` }),
  maintenanceSecretHash: z
    .string()
    .trim()
    .refine((h) => scryptParamsOf(h) !== null, "must be a hash like scrypt$16384$8$1$<salt>$<hash>, made by the server's `hash-secret` (never the secret itself)"),
};

type RawValue = string | number | boolean;

interface Source {
  /** How to name the place a value came from, e.g. `environment variable SHOPFLOOR_LOCALE`. */
  where(key: SettingKey): string;
  /** What to tell the user to do about a bad value there. */
  fix: string;
  values: Partial<Record<SettingKey, RawValue>>;
  /** Values are text (flags, environment) and need converting to numbers / booleans. */
  text: boolean;
}

export interface SettingsSources {
  /** Command-line flags (highest precedence); undefined means "not given". */
  flags?: Partial<Record<SettingKey, RawValue | undefined>>;
  /** Environment variables (SHOPFLOOR_*). */
  env?: Record<string, string | undefined>;
  /** `--config FILE`: must exist. Without it, `<dataDir>/terminal.json` is read if it exists. */
  configFile?: string;
  defaults: { dataDir: string; kiosk?: boolean; idleTimeoutSeconds?: number; locale?: Locale };
}

function fromText(key: SettingKey, value: RawValue): RawValue {
  if (typeof value !== 'string') return value;
  const v = value.trim();
  if (key === 'kiosk') return BOOL_TRUE.test(v) ? true : BOOL_FALSE.test(v) ? false : v;
  if (key === 'idleTimeoutSeconds') return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  return v;
}

function describe(value: RawValue): string {
  const s = JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function readConfigFile(file: string, mustExist: boolean, problems: string[]): Source | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !mustExist) return null;
    // The default file of a data folder that is not a folder (a file stands in its path): no
    // settings there, and opening the folder says what is in the way (HOST-3).
    if (code === 'ENOTDIR' && !mustExist) return null;
    problems.push(
      code === 'ENOENT'
        ? `config file ${file} does not exist; check the --config path`
        : `cannot read config file ${file} (${(e as Error).message}); check its permissions`,
    );
    return null;
  }
  let parsed: unknown;
  try {
    // A byte order mark, as Windows Notepad writes at the start of a UTF-8 file, is not JSON.
    parsed = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (e) {
    problems.push(`config file ${file} is not valid JSON (${jsonSyntaxWhere((e as Error).message, text)}); fix the file or remove it`);
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`config file ${file} must hold one JSON object, like {"serverUrl": "http://server:8080"}`);
    return null;
  }
  const values: Partial<Record<SettingKey, RawValue>> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(SETTING_KEYS as string[]).includes(key)) {
      problems.push(`config file ${file}: unknown setting "${key}"; the settings are ${SETTING_KEYS.join(', ')}`);
      continue;
    }
    if (value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problems.push(`config file ${file}: "${key}" must be a string, number or boolean (${SETTINGS[key as SettingKey].about})`);
      continue;
    }
    values[key as SettingKey] = value;
  }
  return { where: (key) => `config file ${file}, "${key}"`, fix: 'fix it in the file', values, text: false };
}

function definedOnly(values: Partial<Record<SettingKey, RawValue | undefined>>): Partial<Record<SettingKey, RawValue>> {
  const out: Partial<Record<SettingKey, RawValue>> = {};
  for (const key of SETTING_KEYS) {
    const v = values[key];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

/** Read, merge and validate the settings; throws SettingsError listing every problem found. */
export function loadSettings(sources: SettingsSources): HostSettings {
  const problems: string[] = [];
  const flags: Source = {
    where: (key) => `${SETTINGS[key].flag}`,
    fix: 'correct the command line',
    values: definedOnly(sources.flags ?? {}),
    text: true,
  };
  const envValues: Partial<Record<SettingKey, RawValue>> = {};
  for (const key of SETTING_KEYS) {
    const v = sources.env?.[SETTINGS[key].env];
    if (v !== undefined && v.trim() !== '') envValues[key] = v;
  }
  const env: Source = {
    where: (key) => `environment variable ${SETTINGS[key].env}`,
    fix: 'fix or unset the variable',
    values: envValues,
    text: true,
  };

  // The data folder decides where the default config file is.
  const earlyDataDir = String(flags.values.dataDir ?? env.values.dataDir ?? sources.defaults.dataDir);
  const configFile = sources.configFile ? path.resolve(sources.configFile) : path.join(path.resolve(earlyDataDir), CONFIG_FILE_NAME);
  const file = readConfigFile(configFile, Boolean(sources.configFile), problems);

  const ordered = [flags, env, ...(file ? [file] : [])];
  const values: Partial<Record<SettingKey, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const source = ordered.find((s) => s.values[key] !== undefined);
    if (!source) continue;
    const raw = source.values[key]!;
    const value = source.text ? fromText(key, raw) : raw;
    const r = fieldSchemas[key].safeParse(value);
    if (r.success) values[key] = r.data;
    else {
      // A secret put in the wrong place is not repeated into logs and error boxes.
      const shown = SECRET_SETTINGS.has(key) ? '(not shown)' : describe(raw);
      problems.push(`${source.where(key)} = ${shown}: ${r.error.issues[0]?.message ?? 'is not valid'} (${SETTINGS[key].about}); ${source.fix}`);
    }
  }

  const mode = (values.mode as AppMode | undefined) ?? 'kiosk';
  const enrollment = (['serverUrl', 'terminalId', 'token'] as const).filter((k) => values[k] !== undefined);
  if (mode === 'supervisor') {
    if (values.serverUrl === undefined) {
      problems.push(
        `mode "supervisor" opens the overview of a sync server: give its address with ${SETTINGS.serverUrl.flag}, ${SETTINGS.serverUrl.env} or "serverUrl" in the config file`,
      );
    }
  } else if (enrollment.length > 0 && enrollment.length < 3) {
    const missing = (['serverUrl', 'terminalId', 'token'] as const).filter((k) => values[k] === undefined);
    problems.push(
      `serverUrl, terminalId and token go together: give all three (to enroll from settings) or none (to enroll on the terminal's screen); missing ${missing
        .map((k) => `${k} (${SETTINGS[k].env} or ${SETTINGS[k].flag})`)
        .join(', ')}`,
    );
  }
  if (problems.length) throw new SettingsError(problems);

  return {
    mode,
    serverUrl: (values.serverUrl as string | undefined) ?? null,
    terminalId: (values.terminalId as string | undefined) ?? null,
    token: (values.token as string | undefined) ?? null,
    dataDir: path.resolve((values.dataDir as string | undefined) ?? sources.defaults.dataDir),
    kiosk: (values.kiosk as boolean | undefined) ?? sources.defaults.kiosk ?? false,
    idleTimeoutSeconds: (values.idleTimeoutSeconds as number | undefined) ?? sources.defaults.idleTimeoutSeconds ?? DEFAULT_IDLE_SECONDS,
    locale: (values.locale as Locale | undefined) ?? sources.defaults.locale ?? 'en',
    maintenanceSecretHash: (values.maintenanceSecretHash as string | undefined) ?? null,
    configFile: file ? configFile : null,
  };
}

/** What the terminal core needs from the settings. */
export function coreSettings(s: HostSettings): TerminalSettings {
  return {
    serverUrl: s.serverUrl,
    terminalId: s.terminalId,
    token: s.token,
    idleTimeoutSeconds: s.idleTimeoutSeconds,
    locale: s.locale,
    maintenanceSecretHash: s.maintenanceSecretHash,
  };
}

/** The settings as safe to log: the token is never written out. */
export function describeSettings(s: HostSettings): Record<string, unknown> {
  return { ...s, token: s.token ? '(set)' : null, maintenanceSecretHash: s.maintenanceSecretHash ? '(set)' : null };
}

/**
 * Where a JSON syntax error is, without the text around it: JSON.parse's message quotes the file
 * there, and a token written without its quotes would be repeated into logs and error boxes.
 */
function jsonSyntaxWhere(message: string, text: string): string {
  const at = /at position (\d+)/.exec(message);
  if (at) {
    const before = text.slice(0, Number(at[1]));
    return `at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  if (/end of JSON input/.test(message)) return 'it ends before the JSON does';
  return 'a character where JSON cannot have one: check the quotes around every text value';
}
