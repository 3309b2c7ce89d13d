import { DomainError, type ErrorCode, type ErrorDetails } from './errors.js';

export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(code: ErrorCode, details: ErrorDetails = {}): { ok: false; error: DomainError } {
  return { ok: false, error: new DomainError(code, details) };
}
