/**
 * Writing HTTP answers: JSON bodies, and the one error shape every failure uses (ERR-1, API-3):
 * `{ code, message, details, retry: { canRetry, suggestion, actionText } }` in the caller's
 * language, with the status of its code. A conflict also carries `currentOwner` and `taskId` at
 * the top level (CLM-7), and a 429 a `Retry-After` header.
 */
import type { ServerResponse } from 'node:http';
import { httpStatusOf, toErrorData, type DomainError, type ErrorCode, type ErrorData } from '../../src-shared/domain/errors.js';
import type { Locale } from '../../src-shared/domain/i18n.js';

/** What a route answers; `index.ts` writes it. */
export interface Reply {
  status: number;
  /** Serialised as JSON unless `text` is set. */
  body?: unknown;
  /** A plain-text body with its content type (e.g. Prometheus metrics). */
  text?: { contentType: string; content: string };
  headers?: Record<string, string>;
}

export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

/** Codes whose body repeats the task and its holder at the top level, as the seeds define it. */
const OWNER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['task_conflict', 'duplicate_assignment']);

export interface ErrorBody extends ErrorData {
  currentOwner?: { id: string; name: string };
  taskId?: string;
  [extra: string]: unknown;
}

/** The body of an error, in `locale`; `extra` adds fields (e.g. the task after a refused operation). */
export function errorBody(error: DomainError, locale: Locale, extra: Record<string, unknown> = {}): ErrorBody {
  const data = toErrorData(error.code, error.details, locale);
  const body: ErrorBody = { ...data, ...extra };
  if (OWNER_CODES.has(error.code)) {
    if (error.details.currentOwner) body.currentOwner = error.details.currentOwner;
    if (typeof error.details.taskId === 'string') body.taskId = error.details.taskId;
  }
  return body;
}

/** The reply for a domain error, with the status its code maps to (or `status` to override it). */
export function errorReply(error: DomainError, locale: Locale, extra: Record<string, unknown> = {}, status?: number): Reply {
  const headers: Record<string, string> = {};
  const retryAfter = error.details.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfter)));
  return { status: status ?? httpStatusOf(error.code), body: errorBody(error, locale, extra), headers };
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** Write a reply; `extraHeaders` are added (request id, connection close). */
export function writeReply(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const headers: Record<string, string> = { ...BASE_HEADERS, ...extraHeaders, ...reply.headers };
  let payload: string;
  if (reply.text) {
    headers['content-type'] = reply.text.contentType;
    payload = reply.text.content;
  } else if (reply.body === undefined) {
    payload = '';
  } else {
    headers['content-type'] = 'application/json; charset=utf-8';
    payload = JSON.stringify(reply.body);
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}
