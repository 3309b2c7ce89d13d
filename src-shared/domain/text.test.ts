import { describe, expect, it } from 'vitest';
import { illFormedTextPath, jsonNestsDeeperThan, jsonTextMayBeIllFormed, MAX_JSON_DEPTH } from './text.js';

describe('jsonNestsDeeperThan (SEC-9)', () => {
  it('SEC-9 counts arrays and objects, up to the limit and one past it', () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonNestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":{"c":[1,{"d":2}]}}}', 5)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":{"b":{"c":[1,{"d":2}]}}}', 4)).toBe(true);
    // Siblings do not add up: a wide frame is shallow.
    expect(jsonNestsDeeperThan(`[${Array(1000).fill('[{}]').join(',')}]`, 3)).toBe(false);
  });

  it('SEC-9 brackets inside strings are text, escaped quotes and backslashes included', () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ reason: '[{'.repeat(100) }), 2)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ reason: 'say \\"[[[[" and \\\\', x: '[[[[' }), 1)).toBe(false);
    // A string that ends in a backslash: the quote after it closes it, so what follows counts.
    expect(jsonNestsDeeperThan(`{"a":${JSON.stringify('x\\')},"b":[[[1]]]}`, 3)).toBe(true);
    expect(jsonNestsDeeperThan(`{"a":${JSON.stringify('x\\')},"b":[[1]]}`, 3)).toBe(false);
  });
});

describe('illFormedTextPath and jsonTextMayBeIllFormed (SEC-7)', () => {
  it('SEC-7 names the first string or key that is not well-formed by its path; shared and looping objects are walked once', () => {
    expect(illFormedTextPath({ mutations: [{ args: { reason: 'ok' } }, { args: { reason: 'A\uD83DB' } }] })).toBe('mutations.1.args.reason');
    expect(illFormedTextPath({ rows: [{ ['bad\u0000key']: 1 }] }, 'body')).toBe('body.rows.0.bad\u0000key');
    expect(illFormedTextPath('\uDC00', 'input')).toBe('input');
    // The first in document order, among siblings and down a branch before the next sibling.
    expect(illFormedTextPath({ a: '\u0000', b: '\u0000' })).toBe('a');
    expect(illFormedTextPath({ a: { x: 'ok', y: '\uD800' }, b: '\u0000' })).toBe('a.y');
    expect(illFormedTextPath(['ok', ['\uDC00'], '\u0000'], 'rows')).toBe('rows.1.0');
    expect(illFormedTextPath({ emoji: '\uD83D\uDE00', cjk: '电池', nested: [[['fine']]] })).toBeNull();
    const loop: Record<string, unknown> = { name: 'x' };
    loop.self = loop;
    expect(illFormedTextPath(loop)).toBeNull();
    let shared: Record<string, unknown> = { reason: 'A\uD83DB' };
    for (let i = 0; i < 40; i++) shared = { a: shared, b: shared };
    expect(illFormedTextPath(shared)).toMatch(/^(a\.)+reason$/);
  });

  it('SEC-7 JSON text that parses into ill-formed text always holds the escape the quick check looks for', () => {
    for (const bad of ['\u0000', 'A\uD800', '\uDBFFx', '\uDC00', 'x\uDFFF']) {
      expect(jsonTextMayBeIllFormed(JSON.stringify({ reason: bad }))).toBe(true);
      expect(jsonTextMayBeIllFormed(JSON.stringify({ reason: bad }).toUpperCase().replace('\\U', '\\u'))).toBe(true);
      expect(jsonTextMayBeIllFormed(JSON.stringify({ [bad]: 1 }))).toBe(true);
    }
    // Text straight from UTF-8 with no such escape parses into well-formed text only: no walk needed.
    expect(jsonTextMayBeIllFormed(JSON.stringify({ reason: 'Blade worn 刀片磨损 \uD83D\uDE00 \\u0041' }))).toBe(false);
  });
});
