/**
 * The one place where a TerminalApi call from outside the process is checked and run: the method
 * must be one of TERMINAL_METHODS, the input must pass that method's zod schema from
 * `terminalApiInputs`, and every failure comes back as data (`CallResult`) — a DomainError as its
 * `ErrorData` in the terminal's language, anything else as `internal_error`. The Electron IPC
 * handlers and the browser host's WebSocket bridge both call through here.
 */
import type { z } from 'zod';
import { DomainError, type ErrorData } from '../../src-shared/domain/errors.js';
import { describeIssue } from '../../src-shared/protocol/terminal.js';
import { ILL_FORMED_PROBLEM, illFormedTextPath, jsonNestsDeeperThan, TOO_DEEP_PROBLEM } from '../../src-shared/domain/text.js';
import type { Locale } from '../../src-shared/domain/i18n.js';
import {
  bridgeRequestSchema,
  terminalApiInputs,
  type CallResult,
  type TerminalApi,
  type TerminalMethod,
} from '../../src-shared/terminal-api.js';
import type { TerminalLogger } from './terminal.js';

/** A zod failure as `invalid_input`, naming the first bad field (under `prefix`) and what is wrong. */
export function invalidInput(error: z.ZodError, prefix: string, whole = prefix): DomainError {
  const { field, problem } = describeIssue(error);
  const path = field === 'body' ? [] : [field];
  return new DomainError('invalid_input', { field: [prefix, ...path].filter(Boolean).join('.') || whole, problem });
}

/** SQLite's codes for a database that cannot be written (a full disk, an I/O error, a read-only or damaged file). */
const STORAGE_FAULT = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|NOTADB|CANTOPEN|NOMEM)/;

type Input<K extends TerminalMethod> = z.output<(typeof terminalApiInputs)[K]>;

function invoke<K extends TerminalMethod>(api: TerminalApi, method: K, input: Input<K>): Promise<unknown> {
  // The schema table and the interface are kept in step by `satisfies` in terminal-api.ts.
  const fn = api[method] as unknown as (input: Input<K>) => Promise<unknown>;
  return fn.call(api, input);
}

export class ApiDispatcher {
  constructor(
    private readonly api: TerminalApi,
    /** The language error messages are written in; follows successful `setLocale` calls. */
    public locale: Locale,
    private readonly log?: TerminalLogger,
  ) {}

  errorData(err: unknown, method: string): ErrorData {
    if (err instanceof DomainError) return err.toData(this.locale);
    const sqlite = (err as { code?: unknown } | null)?.code;
    if (typeof sqlite === 'string' && STORAGE_FAULT.test(sqlite)) {
      // OFF-2: the transaction kept nothing, and the operator must know it: "the server is not
      // reachable" would be untrue, "your work is saved" worse.
      this.log?.('error', 'the terminal database could not be written; the action was not saved', { method, code: sqlite, err: (err as Error).message });
      return new DomainError('unavailable', { reason: 'terminal_storage', code: sqlite }).toData(this.locale);
    }
    this.log?.('error', 'terminal API call failed unexpectedly', { method, err: err instanceof Error ? err.stack ?? err.message : String(err) });
    return new DomainError('internal_error', { problem: 'unexpected failure in the terminal' }).toData(this.locale);
  }

  /** Validate `input` with `method`'s schema, run it, and answer with data, never a throw. */
  async call(method: TerminalMethod, input: unknown): Promise<CallResult> {
    const schema = terminalApiInputs[method];
    // SEC-7: text with a lone UTF-16 surrogate is refused, naming the field, never stored changed.
    const illFormed = illFormedTextPath(input, 'input');
    if (illFormed !== null) return { ok: false, error: new DomainError('invalid_input', { field: illFormed, problem: ILL_FORMED_PROBLEM }).toData(this.locale) };
    const parsed = schema.safeParse(input);
    if (!parsed.success) return { ok: false, error: invalidInput(parsed.error, 'input').toData(this.locale) };
    try {
      const value = await invoke(this.api, method, parsed.data as Input<typeof method>);
      if (method === 'setLocale') this.locale = (parsed.data as Input<'setLocale'>).locale;
      return { ok: true, value: value ?? null };
    } catch (err) {
      return { ok: false, error: this.errorData(err, method) };
    }
  }

  /**
   * Check one bridge frame's envelope. Returns the request, or the id to answer (0 when the frame
   * has no usable id) with the error that names the problem.
   */
  parseFrame(text: string): { ok: true; id: number; method: TerminalMethod; input: unknown } | { ok: false; id: number; error: ErrorData } {
    if (jsonNestsDeeperThan(text)) return { ok: false, id: 0, error: new DomainError('invalid_input', { field: 'frame', problem: TOO_DEEP_PROBLEM }).toData(this.locale) };
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return { ok: false, id: 0, error: new DomainError('invalid_input', { field: 'frame', problem: 'is not JSON' }).toData(this.locale) };
    }
    const id = frame && typeof frame === 'object' && Number.isSafeInteger((frame as { id?: unknown }).id) ? Number((frame as { id: number }).id) : 0;
    const r = bridgeRequestSchema.safeParse(frame);
    if (!r.success) return { ok: false, id: id > 0 ? id : 0, error: invalidInput(r.error, '', 'frame').toData(this.locale) };
    return { ok: true, id: r.data.id, method: r.data.method, input: r.data.input };
  }
}
