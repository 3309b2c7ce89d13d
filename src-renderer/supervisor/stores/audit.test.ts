/**
 * SUP-6 on the page: the audit trail's pages and its CSV export belong to the search whose rows
 * are shown, not to what has been typed into the filter since without searching.
 */
import { describe, expect, it } from 'vitest';
import { Http } from '../api/http.js';
import { createAuditStore } from './audit.js';

function start() {
  const urls: string[] = [];
  const fake = ((url: string) => {
    urls.push(url);
    return Promise.resolve(new Response(JSON.stringify({ items: [], total: 120 }), { status: 200 }));
  }) as typeof fetch;
  const http = new Http({ locale: () => 'en', onUnauthenticated: () => undefined, fetch: fake });
  return { audit: createAuditStore(http, () => null), urls };
}

describe('SUP-6 the audit trail on the page', () => {
  it('SUP-6 the next page and the CSV export are of the search shown, not of filter fields edited since without searching', async () => {
    const { audit, urls } = start();
    audit.getState().setFilter({ taskId: 't1' });
    await audit.getState().search(0);
    expect(audit.getState().total).toBe(120);
    // The supervisor starts typing another task id, then pages on (or exports) before searching.
    audit.getState().setFilter({ taskId: 't2', outcome: 'refused' });
    await audit.getState().page(50);
    const next = new URL(urls.at(-1)!, 'http://server');
    expect(next.searchParams.get('taskId')).toBe('t1');
    expect(next.searchParams.get('outcome')).toBeNull();
    expect(next.searchParams.get('offset')).toBe('50');
    const csv = new URL(audit.getState().csvHref(), 'http://server');
    expect(csv.searchParams.get('taskId')).toBe('t1');
    expect(csv.searchParams.get('outcome')).toBeNull();
    // Searching takes the edited filter; its pages and export follow it.
    await audit.getState().search(0);
    expect(new URL(urls.at(-1)!, 'http://server').searchParams.get('taskId')).toBe('t2');
    await audit.getState().page(50);
    expect(new URL(urls.at(-1)!, 'http://server').searchParams.get('taskId')).toBe('t2');
    expect(new URL(audit.getState().csvHref(), 'http://server').searchParams.get('outcome')).toBe('refused');
  });
});
