/**
 * Durable commits without blocking the event loop (issue 12). With `synchronous=FULL`, SQLite
 * fsyncs the WAL inside COMMIT, on the server's only thread: every group of mutations held the
 * whole server still for the disk (3 to 7 ms a group on the development machine, as much as the
 * group's own work). Instead the connection commits with `synchronous=NORMAL` (the WAL is written,
 * not synced) and this flusher fdatasyncs the WAL file on libuv's thread pool. No store call
 * answers before the flushes that cover what it wrote or could have read have ended (store.ts,
 * `gate`), so what a client is told or shown is on disk, exactly as with FULL; meanwhile the event
 * loop reads frames, parses requests and runs the next group, whose own answers wait for its own
 * flush (flushes run in order, each after the one before).
 *
 * Why this is as durable as FULL: in WAL mode a commit is a run of frames appended to the WAL, the
 * last one marked as a commit; FULL's only addition is an fsync of the WAL after that append. An
 * fdatasync of the same file afterwards makes the same frames durable, and nothing is reported
 * before it returns. Checkpoints (checkpointer.ts) sync the WAL before copying it, as NORMAL does.
 */
import fs from 'node:fs';

export type FlushFile = (fd: number) => Promise<void>;

/** fdatasync on libuv's thread pool. */
export const fdatasyncOffLoop: FlushFile = (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));

export class WalFlusher {
  private fd: number | null = null;
  /** The flush in progress, if any: readers and writers wait for it. */
  pending: Promise<void> | null = null;

  constructor(
    private readonly walFile: string,
    private readonly flushFile: FlushFile = fdatasyncOffLoop,
  ) {}

  /** Make everything written to the WAL so far durable. */
  flush(): Promise<void> {
    const previous = this.pending;
    const run = async () => {
      if (previous) await previous.catch(() => {});
      this.fd ??= fs.openSync(this.walFile, 'r+');
      await this.flushFile(this.fd);
    };
    const p = run();
    const tracked = p.finally(() => {
      if (this.pending === tracked) this.pending = null;
    });
    // A failed flush rejects its own waiter only; `pending` never leaves an unhandled rejection.
    tracked.catch(() => {});
    this.pending = tracked;
    return p;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
