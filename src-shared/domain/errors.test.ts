import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_CODES, fromErrorData, httpStatusOf, isErrorCode, toErrorData, type ErrorCode } from './errors.js';
import { messagesEn, messagesZh, formatMessage, parseLocale } from './i18n.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('errors', () => {
  it('ERR-1 every code has an HTTP status and a message in English and Simplified Chinese', () => {
    for (const code of codes) {
      expect([400, 401, 403, 404, 409, 413, 422, 429, 500, 503]).toContain(httpStatusOf(code));
      expect(messagesEn[`error.${code}`], code).toBeTruthy();
      expect(messagesZh[`error.${code}`], code).toBeTruthy();
      expect(messagesZh[`error.${code}`]).not.toBe(messagesEn[`error.${code}`]);
    }
  });

  it('ERR-1 the Chinese catalog has every key the English one has, with the same placeholders', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort();
    for (const [key, en] of Object.entries(messagesEn)) {
      expect(messagesZh[key], key).toBeDefined();
      expect(placeholders(messagesZh[key]!), key).toEqual(placeholders(en));
    }
  });

  it('ERR-1 permission (403), business-rule (422/400) and conflict (409) errors stay distinct', () => {
    expect(httpStatusOf('permission_denied')).toBe(403);
    expect(httpStatusOf('not_in_department')).toBe(403);
    expect(httpStatusOf('capacity_reached')).toBe(422);
    expect(httpStatusOf('invalid_input')).toBe(400);
    expect(httpStatusOf('task_conflict')).toBe(409);
  });

  it('ERR-1 error data carries code, message, details and a retry suggestion in the asked locale', () => {
    const data = toErrorData('capacity_reached', { count: 10, limit: 10 }, 'zh');
    expect(data).toEqual({
      code: 'capacity_reached',
      message: '您已有 10 项在手任务（已认领或进行中），上限为 10 项。',
      details: { count: 10, limit: 10 },
      retry: { canRetry: false, suggestion: '请先完成或退回一个任务。', actionText: '我的任务' },
    });
    const generic = toErrorData('task_not_found', { taskId: 'T-1' });
    expect(generic.message).toBe('Task T-1 does not exist.');
    expect(generic.retry.actionText).toBe('OK');
  });

  it('ERR-1 errors round-trip through data, and unknown codes become internal_error', () => {
    const e = new DomainError('task_conflict', { taskId: 't', currentOwner: { id: 'u', name: 'Ann' } });
    const back = fromErrorData(JSON.parse(JSON.stringify(e.toData())));
    expect(back.code).toBe('task_conflict');
    expect(back.details.currentOwner).toEqual({ id: 'u', name: 'Ann' });
    expect(back.status).toBe(409);
    expect(fromErrorData({ code: 'made_up' }).code).toBe('internal_error');
    expect(isErrorCode('toString')).toBe(false);
  });

  it('ERR-1 missing placeholders show "?", unknown locales fall back to English', () => {
    expect(formatMessage('error.task_not_found', {})).toBe('Task ? does not exist.');
    expect(parseLocale('zh-CN,zh;q=0.9')).toBe('zh');
    expect(parseLocale('de-DE')).toBe('en');
    expect(parseLocale(undefined)).toBe('en');
  });
});
