/**
 * PROTO-7 (issue 12): the WAL flusher makes commits durable off the event loop, one flush after
 * another. A real WAL file; the fdatasync is one the test holds and releases (or fails).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalFlusher } from './flush.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A flusher whose every fdatasync waits for the test: `syncs[i]` ends (or fails) the i-th. */
function heldFlusher() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flush-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'db-wal'), '');
  const syncs: Array<{ end: () => void; fail: (err: Error) => void }> = [];
  const flusher = new WalFlusher(path.join(dir, 'db-wal'), () => new Promise<void>((end, fail) => syncs.push({ end, fail })));
  return { flusher, syncs };
}

const settled = () => new Promise((r) => setTimeout(r, 10));

describe('WalFlusher', () => {
  it('PROTO-7 a flush asked while another is on the disk starts once that one ended; pending is the last one asked until it ends', async () => {
    const { flusher, syncs } = heldFlusher();
    expect(flusher.pending).toBeNull();
    const ended: string[] = [];
    const first = flusher.flush().then(() => ended.push('first'));
    const second = flusher.flush().then(() => ended.push('second'));
    await settled();
    expect(syncs).toHaveLength(1); // the second waits for the first to reach the disk
    expect(flusher.pending).not.toBeNull();
    syncs[0]!.end();
    await first;
    await settled();
    expect(syncs).toHaveLength(2);
    expect(ended).toEqual(['first']);
    expect(flusher.pending).not.toBeNull(); // the second is still on the disk
    syncs[1]!.end();
    await second;
    expect(ended).toEqual(['first', 'second']);
    expect(flusher.pending).toBeNull();
    flusher.close();
  });

  it('PROTO-7 a failed flush fails its own caller only: the next one still runs, and pending leaves no unhandled rejection', async () => {
    const { flusher, syncs } = heldFlusher();
    const failed = flusher.flush();
    const next = flusher.flush();
    await settled();
    syncs[0]!.fail(new Error('EIO'));
    await expect(failed).rejects.toThrow('EIO');
    await settled();
    expect(syncs).toHaveLength(2);
    syncs[1]!.end();
    await expect(next).resolves.toBeUndefined();
    expect(flusher.pending).toBeNull();
    flusher.close();
  });
});
