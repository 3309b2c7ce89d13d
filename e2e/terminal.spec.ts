/**
 * The browser-hosted terminal in Chromium against a real sync server: enrollment, badge sign-in
 * (scanner burst, manual entry, PIN pad), the claimable list, claims with their pending mark and
 * confirmation, the connection state, refusals in the chosen language, and the idle sign-out.
 */
import { formatMessage } from '../src-shared/domain/i18n.js';
import { expect, pageProblems, test } from './fixtures.js';
import { CUTTING_TASKS, PLANT } from './support/plant.js';
import { scanBadge, signIn, waitForBadgeScreen } from './support/screen.js';

const { ann, bob, fang } = PLANT.operators;

test('UI-1 an unenrolled terminal asks for server, id and token; a refused token is shown with the reason; an accepted one leads to "scan your badge"', async ({ startTerminal, server }) => {
  const { page } = await startTerminal({ unenrolled: true });
  await expect(page.getByTestId('enroll-screen')).toBeVisible();

  await page.getByTestId('enroll-serverUrl').fill('not a url');
  await page.getByTestId('enroll-terminalId').fill('k1');
  await page.getByTestId('enroll-token').fill('wrong-token-0000');
  await page.getByTestId('enroll-submit').click();
  await expect(page.getByTestId('enroll-error')).toContainText('serverUrl');

  await page.getByTestId('enroll-serverUrl').fill(server.url);
  await page.getByTestId('enroll-submit').click();
  await expect(page.getByTestId('enroll-connection-error')).toContainText(/token/i);

  await page.getByTestId('enroll-token').fill(PLANT.terminals.k1.token);
  await page.getByTestId('enroll-submit').click();
  await waitForBadgeScreen(page);
  await expect(page.getByTestId('terminal-name')).toContainText(PLANT.terminals.k1.name);
});

test('UI-2 a badge scan (a fast burst ending in Enter) signs in; manual entry works too; an unknown badge is refused in the chosen language', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await waitForBadgeScreen(page);
  await scanBadge(page, 'B9999');
  await expect(page.getByTestId('sign-in-error')).toHaveAttribute('data-code', 'sign_in_failed');
  await expect(page.getByTestId('sign-in-error')).toContainText(formatMessage('error.sign_in_failed', { reason: 'unknown_badge' }, 'en'));
  await page.getByTestId('locale-zh').click();
  await expect(page.getByTestId('sign-in-error')).toContainText(formatMessage('error.sign_in_failed', { reason: 'unknown_badge' }, 'zh'));
  await expect(page.getByText('请刷工牌')).toBeVisible();
  await page.getByTestId('locale-en').click();

  await page.getByTestId('badge-input').click();
  await page.keyboard.type(ann.badge.toLowerCase(), { delay: 120 });
  await page.getByTestId('badge-submit').click();
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);

  await page.getByTestId('sign-out').click();
  await waitForBadgeScreen(page);
  await scanBadge(page, ann.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);
});

test('UI-12 OFF-1 an operator signs in while the terminal is cut off from the server; the sign-in is sent when the link returns', async ({ startTerminal }) => {
  const { page, proxy } = await startTerminal({ id: 'k1', viaProxy: true });
  await waitForBadgeScreen(page);
  proxy!.cut();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  await scanBadge(page, ann.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);
  await expect(page.getByTestId('sync-pending')).toHaveAttribute('data-count', '1');
  await expect(page.getByTestId('claimable-t1')).toBeVisible();
  proxy!.restore();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'online');
  await expect(page.getByTestId('sync-pending')).toHaveAttribute('data-count', '0');
});

test('UI-3 a badge with a PIN opens the PIN pad; a wrong PIN is refused there; the right one signs in', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await waitForBadgeScreen(page);
  await scanBadge(page, bob.badge);
  await expect(page.getByTestId('pin-pad')).toBeVisible();
  await expect(page.getByTestId('pin-pad')).toContainText(bob.name);
  for (const d of '1111') await page.getByTestId(`pin-key-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await expect(page.getByTestId('pin-error')).toHaveAttribute('data-code', 'sign_in_failed');
  for (const d of bob.pin) await page.getByTestId(`pin-key-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await expect(page.getByTestId('operator-name')).toHaveText(bob.name);
});

test('UI-4 LIST-1 LIST-2 the claimable list shows the department\'s free tasks in priority order in one list, with counts; filters and search narrow it', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  const ids = () => page.locator('[data-testid="claimable"] [data-task-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-task-id')));
  await expect(page.getByTestId('claimable-count')).toHaveText(String(CUTTING_TASKS.length));
  await expect.poll(ids).toEqual([...CUTTING_TASKS]);
  // Drafts and other departments' tasks are not offered.
  await expect(page.getByTestId('claimable-d1')).toHaveCount(0);
  await expect(page.getByTestId('claimable-q1')).toHaveCount(0);
  // Task ids are shown (KIO-8).
  await expect(page.getByTestId('task-id-t1')).toHaveText('t1');

  await expect(page.getByTestId('filter-high')).toHaveText('High priority (4)');
  await page.getByTestId('filter-high').click();
  await expect.poll(ids).toEqual(['t1', 't2', 't3', 't4']);
  await expect(page.getByTestId('filter-showing')).toHaveText('4 shown');
  await page.getByTestId('filter-all').click();
  await expect.poll(ids).toEqual([...CUTTING_TASKS]);

  // Search by words of the work content (typed with no field focused goes to the search box).
  await page.keyboard.type('plate', { delay: 120 });
  await expect(page.getByTestId('search-input')).toHaveValue('plate');
  await expect.poll(ids).toEqual(['t5']);
  await page.getByTestId('search-input').fill('gaskets');
  await expect.poll(ids).toEqual(['t7']);
  await page.getByTestId('search-input').fill('no such work');
  await expect(page.getByTestId('claimable-empty')).toHaveText('No available task matches these filters.');
  await page.getByTestId('filter-all').click();
  await expect(page.getByTestId('search-input')).toHaveValue('');
  await expect.poll(ids).toEqual([...CUTTING_TASKS]);
});

test('UI-5 UI-6 OFF-2 a claim made offline shows "pending — waiting for the server" and the offline state with what waits; when the link returns it turns "confirmed"', async ({ startTerminal }) => {
  const { page, proxy } = await startTerminal({ id: 'k1', viaProxy: true });
  await signIn(page, ann.badge);
  const status = page.getByTestId('sync-status');
  const pending = page.getByTestId('sync-pending');
  await expect(pending).toHaveAttribute('data-count', '0');
  await expect(page.getByTestId('sync-last')).toContainText('Last sync');

  // Online: the claim is confirmed by the server.
  await page.getByTestId('claim-t1').click();
  await expect(page.getByTestId('confirmed-t1')).toBeVisible();
  await expect(page.getByTestId('claimable-t1')).toHaveCount(0);

  proxy!.cut();
  await expect(status).toHaveAttribute('data-status', 'offline');
  await page.getByTestId('claim-t2').click();
  await expect(page.getByTestId('pending-t2')).toHaveText('Pending — waiting for the server');
  await expect(pending).toHaveAttribute('data-count', '1');
  await page.getByTestId('start-t1').click();
  await expect(page.getByTestId('pending-t1')).toBeVisible();
  await expect(page.getByTestId('mine-t1')).toHaveAttribute('data-status', 'in_progress');
  await expect(pending).toHaveAttribute('data-count', '2');

  proxy!.restore();
  await expect(status).toHaveAttribute('data-status', 'online');
  await expect(page.getByTestId('confirmed-t2')).toBeVisible();
  await expect(page.getByTestId('confirmed-t1')).toBeVisible();
  await expect(pending).toHaveAttribute('data-count', '0');
  await expect(pending).toHaveText('All sent');
});

test('UI-8 REJ-1 HLD-1 refused operations show the core\'s error in the chosen language; release and reject give the task back', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1', locale: 'zh' });
  await signIn(page, ann.badge);
  await expect(page.getByText('可认领任务')).toBeVisible();
  await page.getByTestId('claim-t3').click();
  await expect(page.getByTestId('confirmed-t3')).toBeVisible();

  await page.getByTestId('reject-t3').click();
  await page.getByTestId('reject-submit').click();
  await expect(page.getByTestId('reject-error')).toHaveAttribute('data-code', 'reason_required');
  await expect(page.getByTestId('reject-error')).toContainText(formatMessage('error.reason_required', {}, 'zh'));
  await page.getByTestId('reject-reason').fill('Saw blade is broken');
  await page.getByTestId('reject-submit').click();
  await expect(page.getByTestId('reject-dialog')).toBeHidden();
  await expect(page.getByTestId('mine-t3')).toHaveCount(0);

  await page.getByTestId('claim-t4').click();
  await expect(page.getByTestId('confirmed-t4')).toBeVisible();
  // KIO-4: the first touch only asks for a second.
  await page.getByTestId('release-t4').click();
  await expect(page.getByTestId('release-t4')).toHaveText('再点一次以退回');
  await expect(page.getByTestId('mine-t4')).toBeVisible();
  await page.getByTestId('release-t4').click();
  await expect(page.getByTestId('mine-t4')).toHaveCount(0);
  // COOL-1: the operator who gave it back cannot take it again at once; it is not offered. The
  // list is read again for a search that finds t4 (its count shows "…" until then): none.
  await expect(page.getByTestId('mine-count')).toHaveText('0');
  await page.getByTestId('search-input').fill('Saw stock bars to length');
  await expect(page.getByTestId('claimable-count')).toHaveText('0');
  await expect(page.getByTestId('claimable-t4')).toHaveCount(0);
});

test('KIO-4 a reject dialog left open is gone when the next operator scans their badge', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  await page.getByTestId('claim-t3').click();
  await expect(page.getByTestId('confirmed-t3')).toBeVisible();
  await page.getByTestId('reject-t3').click();
  await page.getByTestId('reject-preset-0').click();
  // Ann walks away; Fang (no PIN) scans her badge at the same screen.
  await scanBadge(page, fang.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(fang.name);
  await expect(page.getByTestId('reject-dialog')).toHaveCount(0);
});

test('UI-9 OFF-7 the idle countdown shows before the automatic sign-out, then the screen returns to "scan your badge"', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1', idleSeconds: 6 });
  await signIn(page, ann.badge);
  await expect(page.getByTestId('idle-countdown')).toBeVisible({ timeout: 8000 });
  await expect(page.getByTestId('idle-countdown')).toContainText(/Signing out in \d s/);
  await expect(page.getByTestId('badge-screen')).toBeVisible({ timeout: 8000 });
});

test('UI-10 the screen runs under the strict CSP with no Node in the page, and logs no errors', async ({ startTerminal }) => {
  const { page, url } = await startTerminal({ id: 'k1' });
  const response = await page.request.get(url);
  const csp = response.headers()['content-security-policy'] ?? '';
  for (const directive of ["default-src 'self'", "connect-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) {
    expect(csp).toContain(directive);
  }
  await signIn(page, ann.badge);
  const globals = await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    return { require: typeof w.require, process: typeof w.process, terminalApi: typeof w.terminalApi };
  });
  // In a browser the screen talks to the terminal over /api; the preload object exists only in Electron.
  expect(globals).toEqual({ require: 'undefined', process: 'undefined', terminalApi: 'undefined' });
  expect(pageProblems(page)).toEqual([]);
});

test('UI-13 when the terminal process goes away the screen says so at once', async ({ startTerminal }) => {
  const t = await startTerminal({ id: 'k1' });
  await signIn(t.page, ann.badge);
  await expect(t.page.getByTestId('link-down')).toHaveCount(0);
  await t.process.stop();
  await expect(t.page.getByTestId('link-down')).toBeVisible();
});
