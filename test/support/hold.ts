/**
 * Hold a store call open, to put a commit or a disconnection in the middle of it: `target[method]`
 * is replaced by a wrapper that waits until `release()`. With `when: 'after'` the call runs first and
 * its answer is held back (a read that has already read); with `'before'` the call waits to start (a
 * slow write). `only: 'first'` holds the first call alone, `'every'` each call until released.
 * `holds` collects the release so a test's cleanup can let go of what a failed test left held
 * (stopping the server would otherwise wait on it).
 */
export interface Hold {
  /** How many calls the wrapper has seen. */
  readonly calls: number;
  release(): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (...args: any[]) => Promise<unknown>;

export function holdCalls<T extends object, K extends keyof T>(
  target: T,
  method: K,
  holds: Array<() => void>,
  opts: { when: 'before' | 'after'; only: 'first' | 'every' },
): Hold {
  const original = (target[method] as AnyFn).bind(target);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  holds.push(() => release());
  const hold = { calls: 0, release: () => release() };
  const wrapper: AnyFn = async (...args) => {
    const held = hold.calls++ === 0 || opts.only === 'every';
    if (held && opts.when === 'before') await released;
    const result = await original(...args);
    if (held && opts.when === 'after') await released;
    return result;
  };
  target[method] = wrapper as T[K];
  return hold;
}
