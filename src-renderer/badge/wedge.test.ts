/** UI-2: a badge scanner's burst is told from human typing by the time between keys. */
import { describe, expect, it } from 'vitest';
import { catchScans } from './scanner.js';
import { WedgeDetector } from './wedge.js';

const typed = (gaps: number[]) => {
  const w = new WedgeDetector();
  let t = 1000;
  w.key(t);
  for (const g of gaps) w.key((t += g));
  return w;
};

describe('UI-2 keyboard-wedge detection', () => {
  it('a fast burst of at least two keys is a scan (a task code can be as short as "t3")', () => {
    expect(typed([8, 9, 7, 10]).isBurst()).toBe(true);
    expect(typed([8]).isBurst()).toBe(true);
    expect(typed([]).isBurst()).toBe(false);
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

describe('KIO-3 UI-2 a scan after text already in a field', () => {
  it('the burst at the end, closed by Enter at a scanner\'s pace, is the scanned code; a person\'s quick pair and a slow Enter is none', () => {
    const w = new WedgeDetector();
    let t = 0;
    for (const k of 'plate') w.key((t += 150), k);
    t += 2000;
    for (const k of 'B1003') w.key((t += 8), k);
    expect(w.isBurst()).toBe(false);
    expect(w.scanned(t + 8)).toBe('B1003');
    expect(w.scanned(t + 300)).toBeNull();
    w.edited();
    expect(w.scanned(t + 8)).toBeNull();
    w.reset();
    for (const k of 'pl') w.key((t += 150), k);
    for (const k of 'at') w.key((t += 30), k);
    expect(w.scanned(t + 200)).toBeNull();
    // Only the burst was keyed (the text before came from the on-screen keyboard): the burst, whenever Enter comes.
    w.reset();
    for (const k of 'B1001') w.key((t += 8), k);
    expect(w.scanned(t + 500)).toBe('B1001');
  });
});

describe('KIO-3 UI-2 the badge field: a scan over half-typed text', () => {
  it('a burst after a pause of a second or more is the scanned badge; a hiccup inside one burst splits nothing', () => {
    const w = new WedgeDetector();
    let t = 0;
    for (const k of 'B10') w.key((t += 150), k);
    t += 1500;
    for (const k of 'B1003') w.key((t += 8), k);
    expect(w.scannedAfterPause(t + 8)).toBe('B1003');
    // A scanner (or a busy machine) that hiccups once inside a burst: no scan of its tail.
    w.reset();
    w.key((t += 2000), 'B');
    for (const k of '1001') w.key((t += 90), k);
    expect(w.scannedAfterPause(t + 5)).toBeNull();
    w.reset();
    w.key((t += 2000), 'B');
    w.key((t += 200), '1');
    for (const k of '001') w.key((t += 8), k);
    expect(w.scannedAfterPause(t + 5)).toBeNull();
    // A whole burst from an empty field is a scan too.
    w.reset();
    for (const k of 'B1001') w.key((t += 8), k);
    expect(w.scannedAfterPause(t + 8)).toBe('B1001');
  });
});

describe('KIO-3 scans at the work screen', () => {
  /** A window with a document whose focus the test sets, and keydown listeners it can call. */
  function fakeWindow() {
    const listeners: Array<(e: KeyboardEvent) => void> = [];
    const win = {
      document: { activeElement: null as { tagName: string } | null },
      addEventListener: (_: string, l: (e: KeyboardEvent) => void) => listeners.push(l),
      removeEventListener: () => undefined,
    };
    const press = (key: string, timeStamp: number) => listeners.forEach((l) => l({ key, timeStamp, preventDefault: () => undefined } as unknown as KeyboardEvent));
    return { win: win as unknown as Window, press, focus: (tagName: string | null) => (win.document.activeElement = tagName ? { tagName } : null) };
  }

  it('a burst ending in Enter with no field focused is a scan; slow typing goes to the search field; keys into a field are left to it', () => {
    const { win, press, focus } = fakeWindow();
    const scans: string[] = [];
    const typed: string[] = [];
    catchScans(win, { onScan: (c) => scans.push(c), onTyped: (c) => typed.push(c) });
    let t = 0;
    for (const k of 'WO-2026-0101') press(k, (t += 8));
    press('Enter', (t += 8));
    expect(scans).toEqual(['WO-2026-0101']);
    press('t', (t += 500));
    press('1', (t += 400));
    expect(typed).toEqual(['t1']);
    press('Enter', (t += 300));
    expect(scans).toHaveLength(1);
    focus('INPUT');
    for (const k of 'B1001') press(k, (t += 8));
    press('Enter', t + 8);
    expect(scans).toHaveLength(1);
  });
});
