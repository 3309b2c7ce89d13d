/**
 * Tests only (issue 11): make every write statement a database prepares from now on call `hook`
 * first, so a test can stop the "process" between two statements (a transaction in progress rolls
 * back, writes already committed stay). Used by the terminal's and the server's SQLite stores when
 * they are opened with `faultHooks`; production never routes writes through it.
 */
interface Preparing {
  prepare(sql: string): { run(...args: never[]): unknown };
}

export function routeWritesThrough(db: Preparing, hook: (sql: string) => void): void {
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    const stmt = prepare(sql);
    const run = stmt.run.bind(stmt) as (...args: unknown[]) => unknown;
    (stmt as { run: (...args: unknown[]) => unknown }).run = (...args: unknown[]) => {
      hook(sql);
      return run(...args);
    };
    return stmt;
  };
}
