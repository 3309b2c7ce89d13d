/**
 * SUP-1 on the page's side: the subscription says hello with the cursor it holds, acknowledges
 * every page, is live once caught up, reconnects with backoff (resuming from its cursor), starts
 * over after a rescope, stops and says why when the session ends, and drops a link that stopped
 * answering. A fake socket and a manual timer queue stand in for the network and time.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { emptySupervisorChanges, encodeChanges, type SupervisorChanges } from '../../../src-shared/protocol/supervisor.js';
import { FeedClient, type FeedSocket, type FeedState } from './feed.js';

class FakeSocket implements FeedSocket {
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  closed: number | null = null;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  send(text: string) {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.closed = code;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(value: unknown) {
    const v = value as { type?: string; tasks?: unknown };
    this.onmessage?.({ data: JSON.stringify(v.type === 'changes' && Array.isArray(v.tasks) ? encodeChanges(value as SupervisorChanges) : value) });
  }
  drop(code: number) {
    this.onclose?.({ code, reason: '' });
  }
}

const welcome = (sync: 'snapshot' | 'delta') => ({
  type: 'welcome',
  protocolVersion: 1,
  serverTime: 1,
  user: { id: 'sue', displayName: 'Sue', roles: ['supervisor'] },
  scope: { all: false, departmentIds: ['cut'] },
  sessionExpiresAt: null,
  sync,
});
const page = (over: Partial<SupervisorChanges>): SupervisorChanges => ({ ...emptySupervisorChanges('delta', 0), ...over });

let sockets: FakeSocket[];
let timers: Array<{ at: number; fn: () => void; id: number }>;
let now: number;
let states: FeedState[];
let pages: SupervisorChanges[];
let ended: Array<[string, string | null]>;
let feed: FeedClient;

function advance(ms: number) {
  const until = now + ms;
  for (;;) {
    timers.sort((a, b) => a.at - b.at);
    const next = timers[0];
    if (!next || next.at > until) break;
    timers.shift();
    now = next.at;
    next.fn();
  }
  now = until;
}

beforeEach(() => {
  sockets = [];
  timers = [];
  now = 0;
  states = [];
  pages = [];
  ended = [];
  let ids = 0;
  feed = new FeedClient(
    {
      url: 'ws://server/supervise',
      open: () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s;
      },
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn, id: ++ids };
        timers.push(t);
        return t.id;
      },
      clearTimeout: (id) => {
        timers = timers.filter((t) => t.id !== id);
      },
      random: () => 0.5,
      pingMs: 1000,
      deadMs: 3000,
    },
    {
      welcome: () => undefined,
      changes: (p) => pages.push(p),
      state: (s) => states.push(s),
      ended: (reason, error) => ended.push([reason, error?.code ?? null]),
    },
  );
});

describe('SUP-1 the overview\u2019s subscription', () => {
  it('says hello without a cursor, acknowledges every page, and is live once caught up', () => {
    feed.start();
    sockets[0]!.open();
    expect(sockets[0]!.sent[0]).toEqual({ type: 'hello', protocol: 'supervisor', protocolVersion: 1, cursor: null });
    sockets[0]!.frame(welcome('snapshot'));
    sockets[0]!.frame(page({ mode: 'snapshot', reset: true, cursor: null, more: true }));
    expect(states.at(-1)).toEqual({ kind: 'connecting' });
    sockets[0]!.frame(page({ mode: 'snapshot', cursor: 42, more: false }));
    expect(sockets[0]!.sent.filter((f) => f.type === 'ack')).toEqual([
      { type: 'ack', cursor: 0 },
      { type: 'ack', cursor: 42 },
    ]);
    expect(states.at(-1)).toEqual({ kind: 'live' });
    expect(pages).toHaveLength(2);
  });

  it('after a stop (sign-out, a session that ended) starts over with a snapshot: the board it fed was forgotten', () => {
    feed.start();
    sockets[0]!.open();
    sockets[0]!.frame(welcome('snapshot'));
    sockets[0]!.frame(page({ mode: 'snapshot', reset: true, cursor: 500, more: false }));
    feed.stop();
    feed.start();
    sockets[1]!.open();
    expect(sockets[1]!.sent[0]).toMatchObject({ type: 'hello', cursor: null });
  });

  it('reconnects with backoff after a drop and resumes from its cursor; "stale" data is dated from the drop', () => {
    feed.start();
    sockets[0]!.open();
    sockets[0]!.frame(welcome('snapshot'));
    sockets[0]!.frame(page({ mode: 'snapshot', reset: true, cursor: 7 }));
    now = 5000;
    sockets[0]!.drop(1006);
    expect(states.at(-1)).toEqual({ kind: 'reconnecting', since: 5000, attempt: 1 });
    advance(0);
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop(1006);
    expect(states.at(-1)).toEqual({ kind: 'reconnecting', since: 5000, attempt: 2 });
    advance(10_000);
    sockets.at(-1)!.open();
    expect(sockets.at(-1)!.sent[0]).toMatchObject({ type: 'hello', cursor: 7 });
  });

  it('a rescope (4205) starts over with a fresh snapshot', () => {
    feed.start();
    sockets[0]!.open();
    sockets[0]!.frame(page({ cursor: 9 }));
    sockets[0]!.drop(4205);
    advance(0);
    sockets[1]!.open();
    expect(sockets[1]!.sent[0]).toMatchObject({ type: 'hello', cursor: null });
  });

  it('a session the server ended (4401) stops the feed and says why; so does a refusal (4403)', () => {
    feed.start();
    sockets[0]!.open();
    sockets[0]!.frame({ type: 'error', error: { code: 'unauthenticated', message: 'x', details: { reason: 'expired' }, retry: { canRetry: false, suggestion: '', actionText: '' } }, fatal: true });
    sockets[0]!.drop(4401);
    expect(ended).toEqual([['session', 'unauthenticated']]);
    expect(states.at(-1)).toEqual({ kind: 'stopped' });
    advance(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('drops a link that stopped answering pings, and reconnects', () => {
    feed.start();
    sockets[0]!.open();
    advance(1000);
    expect(sockets[0]!.sent.at(-1)).toMatchObject({ type: 'ping' });
    advance(3000);
    expect(sockets[0]!.closed).toBe(4000);
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting' });
    advance(0);
    expect(sockets).toHaveLength(2);
  });

  it('ignores frames that are not valid (nothing is applied or acknowledged)', () => {
    feed.start();
    sockets[0]!.open();
    sockets[0]!.onmessage?.({ data: 'not json' });
    sockets[0]!.frame({ type: 'changes', mode: 'delta', tasks: 'nope' });
    sockets[0]!.frame({ ...emptySupervisorChanges('delta', 3), tasks: { id: ['t1'], status: [] } });
    expect(pages).toHaveLength(0);
    expect(sockets[0]!.sent.filter((f) => f.type === 'ack')).toHaveLength(0);
  });
});
