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
 * so a deeply nested frame cannot overflow the stack.
 */
export function illFormedTextPath(value: unknown, prefix = ''): string | null {
  const stack: Array<[unknown, string]> = [[value, prefix]];
  // Each array and object once: a value from IPC (structured clone) may refer to itself or share
  // one object many times over (2^40 paths in 452 bytes), which parsed JSON never does (ELE-3).
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (!isWellFormedText(v)) return path;
    } else if (v === null || typeof v !== 'object' || seen.has(v)) {
      continue;
    } else if (Array.isArray(v)) {
      seen.add(v);
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], path ? `${path}.${i}` : String(i)]);
    } else {
      seen.add(v);
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        const at = path ? `${path}.${k}` : k;
        if (!isWellFormedText(k)) return at;
        stack.push([(v as Record<string, unknown>)[k], at]);
      }
    }
  }
  return null;
}

export const ILL_FORMED_PROBLEM =
  'is not well-formed Unicode text (it holds a lone UTF-16 surrogate or a NUL character, U+0000, which no database here stores); send the text as valid UTF-8 without NUL characters';
