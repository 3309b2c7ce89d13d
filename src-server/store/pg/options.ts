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

/** A query parameter that holds a secret: `password`, `sslpassword` (any case). */
const SECRET_PARAM = /([?&][^=&#]*password=)[^&#]*/gi;

/**
 * `postgres://user:***@host:port/db?password=***`: a URL fit for messages and logs. Both places a
 * connection URL can hold a password are hidden: the user info and a `password` query parameter.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.search) u.search = u.search.replace(SECRET_PARAM, '$1***');
    return u.toString();
  } catch {
    return redactText(url);
  }
}

/**
 * A value that should have been a URL but does not parse (`postgres://shop:s3cr#et@db/shop`),
 * with anything that may be a password hidden: all between `scheme://user:` and the last `@`, and
 * every `password=` parameter (`key=value` connection strings too).
 */
export function redactText(value: string): string {
  return value
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)[^]*@/i, '$1***@')
    .replace(SECRET_PARAM, '$1***')
    .replace(/(^|\s)([a-z]*password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)/gi, '$1$2***');
}

export function isPostgresUrl(value: string | undefined | null): value is string {
  return typeof value === 'string' && /^postgres(ql)?:\/\//i.test(value);
}
