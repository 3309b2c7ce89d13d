/**
 * Turn whatever a transport rejected with into a DomainError: error data from the bridge or the
 * preload (`RefusedCall`) is rebuilt with `fromErrorData`; anything else is a fault of the link.
 */
import { isRefusedCall } from '../../src-shared/exposed-api.js';
import { DomainError, fromErrorData, isErrorCode } from '../../src-shared/domain/errors.js';

export function toDomainError(reason: unknown): DomainError {
  if (reason instanceof DomainError) return reason;
  if (isRefusedCall(reason)) return fromErrorData(reason.terminalApiError);
  if (reason && typeof reason === 'object' && isErrorCode((reason as { code?: unknown }).code)) {
    return fromErrorData(reason as { code: unknown; details?: unknown });
  }
  const problem = reason instanceof Error ? reason.message : String(reason);
  return new DomainError('internal_error', { problem });
}
