import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './text.js';

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
