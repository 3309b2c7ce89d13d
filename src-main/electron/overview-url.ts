/**
 * Where the supervisor window goes (SUP-7): the sync server's overview, and nothing else. Kept
 * apart from window.ts so it is tested without Electron.
 */

/** The overview on the server at `serverUrl` (http(s) or ws(s)): `<origin>/supervisor/`. */
export function supervisorUrl(serverUrl: string): string {
  const u = new URL(serverUrl.replace(/^ws/, 'http'));
  return `${u.origin}/supervisor/`;
}

/** A URL the supervisor window may show: same origin as the server, under /supervisor/. */
export function isOverviewPage(url: string, serverUrl: string): boolean {
  try {
    const u = new URL(url);
    const home = new URL(supervisorUrl(serverUrl));
    return u.origin === home.origin && u.pathname.startsWith(home.pathname);
  } catch {
    return false;
  }
}
