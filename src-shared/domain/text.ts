/**
 * Well-formed text at every edge (SEC-7). A JavaScript string can hold a lone UTF-16 surrogate
 * ("A\uD83DB" in JSON), which has no UTF-8 form: stored, it would come back changed ("A�B"); and
 * NUL ("\u0000"), which PostgreSQL's text cannot hold at all. Every edge (HTTP bodies and query
 * parameters, CSV, WebSocket frames, the terminal's bridge and IPC, CLI files) refuses such text
 * with `invalid_input` naming the field, instead of changing it silently or failing in the store.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * No lone surrogate, and no NUL (U+0000): valid Unicode, but PostgreSQL cannot store it in text,
 * so it is refused on every backend alike rather than stored by SQLite and failing on PostgreSQL.
 */
export function isWellFormedText(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

/**
 * SEC-9: how deep arrays and objects may nest in JSON text at an edge (WebSocket frames, request
 * bodies, the terminal's bridge). The deepest frame or body of the protocol nests 5 levels.
 */
export const MAX_JSON_DEPTH = 32;

/** What text nested deeper than MAX_JSON_DEPTH is told (field: the frame or the body). */
export const TOO_DEEP_PROBLEM = `nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep; no request or frame needs more than a few`;

/**
 * True when JSON `text` nests arrays and objects deeper than `limit`. Checked before JSON.parse:
 * a megabyte of `[[[[…` took 0.2 s to parse and 0.6 s with the checks after it, the event loop
 * held all the while, even before a sign-in or a hello (SEC-9). One pass over the characters;
 * brackets inside strings do not count. Text that is not JSON may pass: JSON.parse refuses it.
 */
export function jsonNestsDeeperThan(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: the character after it is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * The path (`mutations.3.args.reason`, `rows.12.workContent`; `""` for the value itself) of the
 * first string or object key in a parsed JSON value that is not well-formed, or null. Iterative,
 * so a deeply nested frame cannot overflow the stack; each array and object is walked once, as a
 * value from IPC (a structured clone) may refer to itself or share one object many times over
 * (2^40 paths in 452 bytes), which parsed JSON never does (ELE-3). A path is spelled out only for
 * the string that fails: building one for every element took 0.2 s for a megabyte of `{}` (SEC-9).
 * `fromJson`: the value is JSON.parse's, a tree, so nothing needs marking as walked.
 */
export function illFormedTextPath(value: unknown, prefix = '', fromJson = false): string | null {
  if (typeof value !== 'string' && (value === null || typeof value !== 'object')) return null;
  // Node n is `nodes[n]`, reached from node `parents[n]` by the key `keys[n]`; node 0 is `value`.
  // Children are stacked in reverse, so they are checked in document order: the first fault named.
  const nodes: unknown[] = [value];
  const parents: number[] = [-1];
  const keys: Array<string | number> = [''];
  const stack: number[] = [0];
  const seen = new Set<object>();
  const pathOf = (n: number, key?: string): string => {
    const parts: string[] = key === undefined ? [] : [key];
    for (let m = n; m > 0; m = parents[m]!) parts.push(String(keys[m]));
    if (prefix) parts.push(prefix);
    return parts.reverse().join('.');
  };
  const push = (n: number, key: string | number, child: unknown): void => {
    if (typeof child !== 'string' && (child === null || typeof child !== 'object')) return;
    nodes.push(child);
    parents.push(n);
    keys.push(key);
    stack.push(nodes.length - 1);
  };
  while (stack.length > 0) {
    const n = stack.pop()!;
    const v = nodes[n];
    if (typeof v === 'string') {
      if (!isWellFormedText(v)) return pathOf(n);
      continue;
    }
    const o = v as object;
    // Marked when walked, not when met: the first path in order names a shared value's fault.
    // (A value JSON.parse made is a tree: nothing to mark.)
    if (!fromJson) {
      if (seen.has(o)) continue;
      seen.add(o);
    }
    if (Array.isArray(o)) {
      for (let i = o.length - 1; i >= 0; i--) push(n, i, o[i]);
    } else {
      const ks = Object.keys(o);
      for (const k of ks) if (!isWellFormedText(k)) return pathOf(n, k);
      for (let i = ks.length - 1; i >= 0; i--) push(n, ks[i]!, (o as Record<string, unknown>)[ks[i]!]);
    }
  }
  return null;
}

/**
 * Whether JSON text decoded from UTF-8 can parse into text that is not well-formed: only through
 * an escape of NUL or of a UTF-16 surrogate (`\u0000`, `\uD83D`), since UTF-8 cannot encode a
 * lone surrogate and JSON refuses a raw NUL. Without one, the parsed value need not be walked.
 */
export function jsonTextMayBeIllFormed(text: string): boolean {
  return /\\u(?:0000|[dD][89a-fA-F])/.test(text);
}

export const ILL_FORMED_PROBLEM =
  'is not well-formed Unicode text (it holds a lone UTF-16 surrogate or a NUL character, U+0000, which no database here stores); send the text as valid UTF-8 without NUL characters';
