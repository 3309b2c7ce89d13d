/**
 * SEC-9 (issue 12): page reads share a budget per turn of the event loop, and pages read on the
 * loop hold what reads within a budget. Real timers and real time, the "work" a busy wait (but for
 * TurnGate's tests, whose turns are fake timers run one at a time).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Line, LoopBudget, PageSizer, TurnBudget, TurnGate } from './slices.js';

/** A turn of the event loop as the budget counts them: a pass of the loop's timers. */
const nextTurn = () => new Promise((r) => setTimeout(r, 0));

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('TurnBudget', () => {
  it('SEC-9 jobs asked for in one turn past its budget run in later turns, each once, in the order asked', async () => {
    // The budget counts on a clock that only the jobs move, so a busy machine cannot change which
    // job fits in which turn (CI once saw 'b' pushed to a later turn by a descheduled busy wait).
    let clock = 0;
    const budget = new TurnBudget(new LoopBudget(10, () => clock));
    const ran: Array<{ job: string; turn: number }> = [];
    let turn = 0;
    const ticking = (async () => {
      for (let i = 0; i < 50; i++) {
        await nextTurn();
        turn++;
      }
    })();
    // Eight connections ask at once, each job 6 ms: two fit in a 10 ms turn (the second starts at 6).
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      budget.run(name, () => {
        ran.push({ job: name, turn });
        clock += 6;
      });
    }
    // 'c' asks again while waiting: still one run.
    budget.run('c', () => ran.push({ job: 'c-again', turn }));
    expect(ran.map((r) => r.job)).toEqual(['a', 'b']);
    expect(budget.backlog).toBe(6);
    await ticking;
    expect(budget.backlog).toBe(0);
    expect(ran.map((r) => r.job)).toEqual(['a', 'b', 'c-again', 'd', 'e', 'f', 'g', 'h']);
    // At most two of the 6 ms jobs in any one turn ('c-again' costs nothing).
    const perTurn = new Map<number, number>();
    for (const r of ran.filter((x) => x.job !== 'c-again')) perTurn.set(r.turn, (perTurn.get(r.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
    expect(new Set(ran.map((r) => r.turn)).size).toBeGreaterThanOrEqual(4);
  });

  it('SEC-9 cheap jobs all run at once, in the turn that asked', () => {
    const budget = new TurnBudget(10);
    const ran: string[] = [];
    for (let i = 0; i < 100; i++) budget.run(i, () => ran.push(String(i)));
    expect(ran).toHaveLength(100);
    expect(budget.backlog).toBe(0);
  });
});

describe('PageSizer', () => {
  /** A store read that holds the loop for `msPerEntity` per entity and returns `limit` entities. */
  const slowRead = (msPerEntity: number) => (limit: number) => {
    busy(limit * msPerEntity);
    return Promise.resolve(limit);
  };

  it('SEC-9 pages read on the event loop shrink to what reads within the budget, and grow back when reads get cheaper', async () => {
    const sizer = new PageSizer(1000, true, 10, 50);
    expect(sizer.limit).toBe(1000);
    await sizer.read(slowRead(0.05), (n) => n); // 1,000 entities in 50 ms: 0.05 ms each
    // 10 ms / 0.05 ms = 200 at most (a read the machine slowed down makes it fewer), never under the floor.
    expect(sizer.limit).toBeLessThanOrEqual(200);
    expect(sizer.limit).toBeGreaterThanOrEqual(50);
    for (let i = 0; i < 20; i++) await sizer.read(slowRead(0.005), (n) => n);
    expect(sizer.limit).toBeGreaterThan(500);
  });

  it('SEC-9 pages of a store that does not hold the loop (PostgreSQL) stay full; small pages teach nothing', async () => {
    const remote = new PageSizer(1000, false, 10, 50);
    await remote.read(slowRead(0.05), (n) => n);
    expect(remote.limit).toBe(1000);
    const local = new PageSizer(1000, true, 10, 50);
    // A live page of 10 entities is mostly its fixed cost: 5 ms for 10 would mean pages of 20.
    await local.read(
      () => {
        busy(5);
        return Promise.resolve(10);
      },
      (n) => n,
    );
    expect(local.limit).toBe(1000);
  });
});

describe('Line', () => {
  /** A line on a budget of 10 ms counted on a clock only the calls move; `held` spends this turn. */
  function lineOnClock() {
    let clock = 0;
    const budget = new LoopBudget(10, () => clock);
    const line = new Line(budget);
    return {
      line,
      work: (ms: number) => void (clock += ms),
      held: () => {
        budget.left();
        clock += 10;
      },
    };
  }

  it('SEC-9 calls that come while the turn is spent go in later turns, one after another, in the order they came, about one budget of them per turn', async () => {
    const { line, work, held } = lineOnClock();
    let turn = 0;
    let done = false;
    const ticking = (async () => {
      for (let i = 0; i < 1_000 && !done; i++) {
        await nextTurn();
        turn++;
      }
    })();
    held();
    const ran: Array<{ call: number; turn: number }> = [];
    // Twelve calls of 4 ms each arrive while this turn's budget is spent.
    const calls = Array.from({ length: 12 }, async (_, call) => {
      const wait = line.enter();
      expect(wait).not.toBeNull();
      await wait;
      ran.push({ call, turn });
      work(4);
      line.next(true);
    });
    expect(line.length).toBe(12);
    await Promise.all(calls);
    done = true;
    await ticking;
    expect(ran.map((r) => r.call)).toEqual([...Array(12).keys()]);
    // 10 ms a turn: three 4 ms calls in one turn (the third starts at 8 ms), so the twelve take four
    // turns; all at once would have held the loop 48 ms.
    const perTurn = new Map<number, number>();
    for (const r of ran) perTurn.set(r.turn, (perTurn.get(r.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(3);
    expect(perTurn.size).toBeGreaterThanOrEqual(4);
  });

  it('SEC-9 with the turn not spent and nobody waiting, a call goes in at once', () => {
    const { line } = lineOnClock();
    expect(line.enter()).toBeNull();
    line.next(false);
    expect(line.enter()).toBeNull();
    line.next(false);
    expect(line.length).toBe(0);
  });

  it('SEC-9 PROTO-7 a call with priority (a commit group) goes in ahead of the calls waiting without it, in the order it came among its kind', async () => {
    const { line, held } = lineOnClock();
    held();
    const order: string[] = [];
    const call = async (name: string, priority: boolean) => {
      const turn = line.enter(priority);
      if (turn) await turn;
      order.push(name);
      line.next(turn !== null);
    };
    const calls = [call('read 1', false), call('read 2', false), call('group 1', true), call('read 3', false), call('group 2', true)];
    expect(line.length).toBe(5);
    await Promise.all(calls);
    expect(order).toEqual(['group 1', 'group 2', 'read 1', 'read 2', 'read 3']);
  });
});

describe('TurnGate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * Five callers at once at a gate; `through` lists those that went through, `turn()` runs the next
   * turn of the loop (the budget's turns are its timer's runs: with fake timers, one each).
   */
  let lastGate: { gate: TurnGate; budget: LoopBudget } | null = null;

  async function fiveAtTheGate(yielding: () => boolean) {
    vi.useFakeTimers();
    const budget = new LoopBudget(1000, () => 0);
    const gate = new TurnGate(yielding, budget);
    lastGate = { gate, budget };
    const through: number[] = [];
    const settle = async () => {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    };
    for (let i = 0; i < 5; i++) void gate.pass().then(() => through.push(i));
    await settle();
    return {
      through,
      turn: async () => {
        vi.advanceTimersToNextTimer();
        await settle();
      },
    };
  }

  it('SUP-1 while it gives way, one caller goes through per turn of the event loop, in the order they came', async () => {
    const { through, turn } = await fiveAtTheGate(() => true);
    const seen = [[...through]];
    for (let t = 0; t < 5; t++) {
      await turn();
      seen.push([...through]);
    }
    expect(seen).toEqual([[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]);
  });

  it('SUP-1 a caller that comes while others wait goes behind them, though it comes as a turn begins', async () => {
    const { through, turn } = await fiveAtTheGate(() => true);
    await turn();
    expect(through).toEqual([0, 1]);
    // One that comes as the next turn begins (work the budget put off to that turn, like a page
    // read past the turn's budget) must not take the place of those already waiting.
    const { gate, budget } = lastGate!;
    budget.atNextTurn(() => void gate.pass().then(() => through.push(5)));
    await turn();
    await turn();
    await turn();
    await turn();
    expect(through).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('SUP-1 otherwise all go through at once, and once it stops giving way, all that wait go through', async () => {
    expect((await fiveAtTheGate(() => false)).through).toEqual([0, 1, 2, 3, 4]);
    vi.useRealTimers();
    let yielding = true;
    const { through, turn } = await fiveAtTheGate(() => yielding);
    expect(through).toEqual([0]);
    yielding = false;
    await turn();
    expect(through).toEqual([0, 1, 2, 3, 4]);
  });
});
