/**
 * Reading and validating request input (API-4, API-5): bodies are read with a size limit
 * (`payload_too_large`, 413), JSON that does not parse and input that does not match its zod
 * schema are `invalid_input` (400) naming the field and the problem.
 */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { DomainError } from '../../src-shared/domain/errors.js';
import { ILL_FORMED_PROBLEM, illFormedTextPath, jsonNestsDeeperThan, jsonTextMayBeIllFormed, TOO_DEEP_PROBLEM } from '../../src-shared/domain/text.js';
import { describeIssue } from '../../src-shared/protocol/terminal.js';

/**
 * A JSON body (API-4), but an import's: the largest any route takes, a site config with 200
 * exclusion pairs, is about 27 KB. It was 1 MiB, and a megabyte of 333,000 `{}` sent by a signed-in
 * client held the event loop 0.15-0.4 s (SEC-9).
 */
export const MAX_JSON_BYTES = 64 * 1024;
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
/** Beyond this we stop reading a refused body and close the connection instead of draining it. */
const MAX_DRAIN_BYTES = 32 * 1024 * 1024;

/** Thrown for a body over the limit; `close` says whether the connection should be closed. */
export class PayloadTooLarge extends DomainError {
  constructor(
    readonly limitBytes: number,
    readonly close: boolean,
  ) {
    super('payload_too_large', { limitBytes });
  }
}

/**
 * Read the whole body, at most `limit` bytes. A larger body is read to its end and discarded (so
 * the client sees the 413, not a reset), unless it is huge, then the connection is closed.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
      reject(new PayloadTooLarge(limit, true));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        req.pause();
        settle(() => reject(new PayloadTooLarge(limit, true)));
        return;
      }
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => settle(() => (tooLarge ? reject(new PayloadTooLarge(limit, false)) : resolve(Buffer.concat(chunks)))));
    req.on('error', (err) => settle(() => reject(err)));
    req.on('close', () => settle(() => reject(new Error('the client closed the connection before sending the whole body'))));
  });
}

function invalid(field: string, problem: string): DomainError {
  return new DomainError('invalid_input', { field, problem });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** SEC-7: a body's bytes as text; bytes that are not UTF-8 are refused, never replaced with �. */
export function decodeUtf8(buffer: Uint8Array, field = 'body'): string {
  try {
    return strictUtf8.decode(buffer);
  } catch {
    throw invalid(field, 'is not valid UTF-8 text; save or send it as UTF-8');
  }
}

/** Parse a JSON body; an empty body is `{}`. Text with lone surrogates is refused (SEC-7). */
export function parseJson(buffer: Buffer): unknown {
  const text = decodeUtf8(buffer);
  if (text.trim() === '') return {};
  if (jsonNestsDeeperThan(text)) throw invalid('body', TOO_DEEP_PROBLEM);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid('body', `is not valid JSON (${(err as Error).message.slice(0, 200)})`);
  }
  const illFormed = jsonTextMayBeIllFormed(text) ? illFormedTextPath(value, '', true) : null;
  if (illFormed !== null) throw invalid(illFormed || 'body', ILL_FORMED_PROBLEM);
  return value;
}

/** Validate `value` against `schema`; `where` prefixes the field (e.g. "query"). */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  let { field, problem } = describeIssue(r.error);
  if (issue?.code === 'unrecognized_keys' && issue.keys.length > 0) {
    field = [...issue.path.map(String), issue.keys[0]!].join('.');
    problem = 'is not a known field';
  }
  if (where) field = field === 'body' ? where : `${where}.${field}`;
  throw invalid(field, problem);
}
