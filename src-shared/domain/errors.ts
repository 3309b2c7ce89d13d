/**
 * The closed set of error codes. Every error the product shows or sends is one of these:
 * a stable machine code, its HTTP status, structured details, a message in English and
 * Simplified Chinese, and a retry suggestion (canRetry / suggestion / actionText).
 */
import { formatMessage, type Locale } from './i18n.js';

export const ERROR_CODES = {
  // 400: the request itself is malformed
  invalid_input: 400,
  reason_required: 400,
  // 401: who are you?
  unauthenticated: 401,
  sign_in_failed: 401,
  // 403: you may not
  permission_denied: 403,
  not_in_department: 403,
  user_inactive: 403,
  not_signed_in: 403,
  supervisor_only: 403,
  // 404: no such thing
  task_not_found: 404,
  user_not_found: 404,
  department_not_found: 404,
  not_found: 404,
  // 409: someone else got there first
  task_conflict: 409,
  duplicate_assignment: 409,
  // 422: business rules
  task_no_department: 422,
  capacity_reached: 422,
  task_draft: 422,
  task_completed: 422,
  task_cancelled: 422,
  task_not_claimed: 422,
  task_not_started: 422,
  cooldown_active: 422,
  cross_step_excluded: 422,
  claim_stale: 422,
  no_eligible_operator: 422,
  import_rejected: 422,
  // 413 / 429 / 5xx: limits and faults
  payload_too_large: 413,
  sign_in_locked: 429,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}

/** Structured facts an error carries; each code uses the fields that apply to it. */
export interface ErrorDetails {
  taskId?: string;
  /** task_conflict: who holds the task now. */
  currentOwner?: { id: string; name: string };
  /** capacity_reached */
  count?: number;
  limit?: number;
  /** cooldown_active: epoch ms when the operator may claim again. */
  until?: number;
  minutesLeft?: number;
  /** not_in_department / task_no_department */
  departmentId?: string;
  departmentName?: string;
  /** cross_step_excluded: the step this person already did, and the one they tried. */
  step?: string;
  conflictingStep?: string;
  /** claim_stale: how old the queued claim was, in minutes, and the limit. */
  ageMinutes?: number;
  maxAgeMinutes?: number;
  /** invalid_input: which field and why. */
  field?: string;
  problem?: string;
  userId?: string;
  /**
   * ERR-3: set when the refusal is about someone other than the person acting (the operator a
   * supervisor picked); messages then name them instead of saying "you".
   */
  targetName?: string;
  /** import_rejected: how many rows are bad, and each problem. */
  badRows?: number;
  errors?: Array<{ row: number; field: string; message: string }>;
  /** sign_in_locked / rate_limited: seconds until the next try is allowed. */
  retryAfterSeconds?: number;
  [key: string]: unknown;
}

export interface RetrySuggestion {
  canRetry: boolean;
  suggestion: string;
  actionText: string;
}

/** An error as data: what crosses IPC, WebSocket and HTTP. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  retry: RetrySuggestion;
}

/** A typed domain error. Rules return it (they never throw it); edges may throw it. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, details: ErrorDetails = {}) {
    super(formatMessage(`error.${code}`, details, 'en'));
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  toData(locale: Locale = 'en'): ErrorData {
    return toErrorData(this.code, this.details, locale);
  }
}

const CAN_RETRY: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'task_conflict',
  'cooldown_active',
  'internal_error',
  'unavailable',
  'rate_limited',
  'sign_in_locked',
  'sign_in_failed',
  'claim_stale',
]);

export function retrySuggestion(code: ErrorCode, details: ErrorDetails = {}, locale: Locale = 'en'): RetrySuggestion {
  return {
    canRetry: CAN_RETRY.has(code),
    suggestion: formatMessage(`suggestion.${code}`, details, locale),
    actionText: formatMessage(`action.${code}`, details, locale),
  };
}

export function toErrorData(code: ErrorCode, details: ErrorDetails = {}, locale: Locale = 'en'): ErrorData {
  return {
    code,
    message: formatMessage(`error.${code}`, details, locale),
    details,
    retry: retrySuggestion(code, details, locale),
  };
}

/** Rebuild a typed error from data received over a wire (IPC, WebSocket, HTTP). */
export function fromErrorData(data: { code: unknown; details?: unknown }): DomainError {
  const code = isErrorCode(data.code) ? data.code : 'internal_error';
  const details = data.details && typeof data.details === 'object' ? (data.details as ErrorDetails) : {};
  return new DomainError(code, details);
}
