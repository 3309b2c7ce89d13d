/**
 * CLI-7, HOST-1, ELE-4: a promise rejected with nobody to handle it (a fault of ours) ends a Node
 * process by default, and with it the server (every terminal, page and request of the plant) or
 * the kiosk in front of the operator. The server, the browser-hosted terminal and the Electron
 * main process each log it with its stack through this one function and go on. The process is
 * passed in, so this module imports nothing from Node (LAY-1).
 */

/** What this needs of Node's `process`. */
export interface RejectionSource {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

/** Text of a reason at most this long: a log line stays a line. */
const MOST_TEXT = 1000;

/**
 * A rejection's reason as text; never throws (`String(Object.create(null))` does). An object is
 * told by its keys, never its values (it could hold a password), and nothing runs past MOST_TEXT.
 */
function describeReason(reason: unknown): string {
  try {
    const text =
      typeof reason === 'object' && reason !== null
        ? `an object (keys: ${Object.keys(reason).join(', ') || 'none'})`
        : typeof reason === 'string'
          ? `a string of ${reason.length} characters`
          : String(reason);
    return text.length > MOST_TEXT ? `${text.slice(0, MOST_TEXT)}…` : text;
  } catch {
    try {
      return Object.prototype.toString.call(reason);
    } catch {
      return '(a value that cannot be shown)';
    }
  }
}

/** An Error, also one made in another JavaScript context (`vm`, a worker's), where `instanceof` says no. */
function isError(reason: unknown): reason is Error {
  try {
    return reason instanceof Error || Object.prototype.toString.call(reason) === '[object Error]';
  } catch {
    return false;
  }
}

/**
 * From now on, a promise that fails with nobody to handle it is given to `report` (as an Error,
 * with its stack when it was one) instead of ending the process. `who` ends the message: "the
 * server goes on". Returns the function that stops this.
 */
export function reportUnhandledRejections(source: RejectionSource, who: string, report: (message: string, err: Error) => void): () => void {
  const listener = (reason: unknown) =>
    report(
      `a promise failed with nobody to handle it (a fault: please report this line); the ${who} goes on`,
      isError(reason) ? reason : new Error(`a promise was rejected with ${describeReason(reason)}, not with an Error`),
    );
  source.on('unhandledRejection', listener);
  return () => source.off('unhandledRejection', listener);
}
