/** What both WebSocket hubs (terminals, supervisor pages) do with a received frame's bytes. */
import { isUtf8 } from 'node:buffer';
import { jsonNestsDeeperThan, TOO_DEEP_PROBLEM } from '../../src-shared/domain/text.js';

/** SEC-7: what a text frame whose bytes are not UTF-8 is told (both hubs). */
export const NOT_UTF8_PROBLEM = 'is not valid UTF-8; frames are JSON text in UTF-8';

/** A received frame's bytes, however ws handed them over. */
export function frameBytes(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/**
 * SEC-7: a text frame's text, or null when its bytes are not UTF-8 (the servers turn ws's own
 * check off, which closed the connection with 1007 and no word of why, against PROTO-3).
 */
export function wsText(bytes: Buffer): string | null {
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

/**
 * A text frame's JSON value, or what is wrong with it (the `problem` of an `invalid_input` error
 * frame, field `frame`): nested too deep to parse at all (SEC-9), or not JSON (PROTO-3).
 */
export function parseFrame(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (jsonNestsDeeperThan(text)) return { ok: false, problem: TOO_DEEP_PROBLEM };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, problem: 'is not valid JSON' };
  }
}
