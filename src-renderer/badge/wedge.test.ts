/** UI-2: a badge scanner's burst is told from human typing by the time between keys. */
import { describe, expect, it } from 'vitest';
import { WedgeDetector } from './wedge.js';

const typed = (gaps: number[]) => {
  const w = new WedgeDetector();
  let t = 1000;
  w.key(t);
  for (const g of gaps) w.key((t += g));
  return w;
};

describe('UI-2 keyboard-wedge detection', () => {
  it('a fast burst of at least three keys is a scan', () => {
    expect(typed([8, 9, 7, 10]).isBurst()).toBe(true);
    expect(typed([8]).isBurst()).toBe(false);
  });

  it('a pause between keys, a paste or a delete means a person typed it', () => {
    expect(typed([8, 120, 8]).isBurst()).toBe(false);
    const w = typed([5, 5, 5]);
    w.edited();
    expect(w.isBurst()).toBe(false);
    w.reset();
    for (const t of [0, 5, 10, 15]) w.key(t);
    expect(w.isBurst()).toBe(true);
  });
});
