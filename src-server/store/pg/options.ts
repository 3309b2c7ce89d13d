/**
 * What the command line needs to know about the PostgreSQL store without loading it (and with it
 * the PostgreSQL client): how a URL is recognised and shown, and the default number of lanes. A
 * command on SQLite never loads the PostgreSQL code.
 */

/**
 * Groups committing at once by default. Each statement of a unit is a round trip to the database,
 * so one group at a time leaves both the database and this process mostly waiting; several keep
 * them busy, and meet at row locks and the change-log head as two instances do.
 */
export const GROUP_LANES = 4;

/** `postgres://user:***@host:port/db`: a URL fit for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a PostgreSQL URL that does not parse)';
  }
}

export function isPostgresUrl(value: string | undefined | null): value is string {
  return typeof value === 'string' && /^postgres(ql)?:\/\//i.test(value);
}
