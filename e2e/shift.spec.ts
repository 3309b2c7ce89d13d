/**
 * The kiosk through a whole shift, in Chromium against real processes: scanning task and
 * work-order barcodes, claiming with the highlight and the pending/confirmed marks, start and
 * complete with their confirmations, release with a second touch, reject with a preset reason and
 * with free text on the on-screen keyboard, an operator of two departments at two kiosks with the
 * true count against their limit, a supervisor's assignment arriving as a notification and
 * accepted, what became of a rejected task, and a supervisor at the kiosk (PIN, look only).
 */
import type { Page } from '@playwright/test';
import { expect, pageProblems, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { scanBadge, signIn, waitForBadgeScreen } from './support/screen.js';
import { api, apiToken, credentialsOf } from './support/supervisor.js';

const { ann, bob, mia } = PLANT.operators;
const { sue } = PLANT.supervisors;

/**
 * A scanner: a fast burst ending in Enter, with no field focused. The keys are sent from the page
 * in one go: typed one by one from here, a loaded machine (CI runs two of these files at once) can
 * leave more than a scanner's 50 ms between two of them, and the screen then rightly takes them for
 * a person typing a search (the detector's timing is tested in src-renderer/badge/wedge.test.ts).
 */
async function scan(page: Page, code: string): Promise<void> {
  await page.locator('body').click({ position: { x: 5, y: 400 } }).catch(() => undefined);
  await page.evaluate((keys) => {
    (document.activeElement as HTMLElement | null)?.blur();
    for (const key of [...keys, 'Enter']) window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
  }, [...code]);
}

test('KIO-3 KIO-4 KIO-6 a shift at the kiosk without a keyboard: scan to find, claim, start, complete, release with a second touch, reject with a reason', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  await expect(page.getByTestId('workload')).toHaveText('Active 0 of 10');

  // A task barcode opens the task with Claim ready.
  await scan(page, 't3');
  await expect(page.getByTestId('scan-panel')).toHaveAttribute('data-task-id', 't3');
  await page.getByTestId('scan-claim').click();
  await expect(page.getByTestId('scan-panel')).toBeHidden();
  // The claimed task comes first among my tasks, highlighted, and is confirmed by the server.
  const mine = page.locator('[data-testid="mine"] li');
  await expect(mine.first()).toHaveAttribute('data-testid', 'mine-t3');
  await expect(page.getByTestId('mine-t3')).toHaveAttribute('data-highlighted', 'true');
  await expect(page.getByTestId('confirmed-t3')).toBeVisible();
  await expect(page.getByTestId('toast').filter({ hasText: 'Claimed WO-2026-0102 · cut' })).toBeVisible();
  await expect(page.getByTestId('workload')).toHaveText('Active 1 of 10');

  // Scanning it again says it is already mine.
  await scan(page, 't3');
  await expect(page.getByTestId('scan-mine')).toBeVisible();
  await page.getByTestId('scan-close').click();

  // A work-order barcode lists that work order's claimable tasks.
  await scan(page, 'WO-2026-0101');
  await expect(page.getByTestId('filter-work-order')).toContainText('WO-2026-0101');
  const ids = () => page.locator('[data-testid="claimable"] [data-task-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-task-id')));
  await expect.poll(ids).toEqual(['t1', 't2']);
  await page.getByTestId('claim-t1').click();
  await expect(page.getByTestId('confirmed-t1')).toBeVisible();
  await page.getByTestId('filter-work-order').click();
  await expect(page.getByTestId('filter-work-order')).toHaveCount(0);

  // An unknown code is said to be unknown.
  await scan(page, 'WO-9999-0000');
  await expect(page.getByTestId('toast').filter({ hasText: 'No task or work order “WO-9999-0000” on this terminal' })).toBeVisible();

  // Start and complete, each confirmed.
  await page.getByTestId('start-t3').click();
  await expect(page.getByTestId('mine-t3')).toHaveAttribute('data-status', 'in_progress');
  await expect(page.getByTestId('toast').filter({ hasText: 'Started WO-2026-0102 · cut' })).toBeVisible();
  await page.getByTestId('complete-t3').click();
  await expect(page.getByTestId('mine-t3')).toHaveCount(0);
  await expect(page.getByTestId('toast').filter({ hasText: 'Completed WO-2026-0102 · cut' })).toBeVisible();

  // Release needs a second touch; one touch changes nothing.
  await page.getByTestId('release-t1').click();
  await expect(page.getByTestId('release-t1')).toHaveText('Tap again to release');
  await expect(page.getByTestId('release-t1')).toHaveText('Release', { timeout: 6000 });
  await expect(page.getByTestId('mine-t1')).toBeVisible();
  await page.getByTestId('release-t1').click();
  await page.getByTestId('release-t1').click();
  await expect(page.getByTestId('mine-t1')).toHaveCount(0);
  await expect(page.getByTestId('toast').filter({ hasText: 'Released WO-2026-0101 · cut back to the pool' })).toBeVisible();

  // Reject with a preset reason.
  await page.getByTestId('claim-t4').click();
  await expect(page.getByTestId('confirmed-t4')).toBeVisible();
  await page.getByTestId('reject-t4').click();
  await page.getByTestId('reject-preset-1').click();
  await page.getByTestId('reject-submit').click();
  await expect(page.getByTestId('reject-dialog')).toBeHidden();
  await expect(page.getByTestId('mine-t4')).toHaveCount(0);
  await expect(page.getByTestId('toast').filter({ hasText: 'Rejected WO-2026-0102 · cut' })).toBeVisible();

  // Reject with free text typed on the on-screen keyboard.
  await page.getByTestId('claim-t5').click();
  await expect(page.getByTestId('confirmed-t5')).toBeVisible();
  await page.getByTestId('reject-t5').click();
  await page.getByTestId('reject-keyboard').click();
  const osk = page.getByTestId('reject-osk');
  for (const key of ['n', 'o', '{space}', 'g', 'a', 's']) await osk.locator(`[data-skbtn="${key}"]`).first().click();
  await expect(page.getByTestId('reject-reason')).toHaveValue('no gas');
  await page.getByTestId('reject-submit').click();
  await expect(page.getByTestId('reject-dialog')).toBeHidden();
  await expect(page.getByTestId('workload')).toHaveText('Active 0 of 10');
  expect(pageProblems(page).filter((p) => !p.includes('WebSocket'))).toEqual([]);
});

test('CAP-3 KIO-4 an operator of two departments at two kiosks: each counts every active task against the limit; at the limit Claim is disabled and says why', async ({ startTerminal }) => {
  const qa = await startTerminal({ id: 'k3' });
  const cut = await startTerminal({ id: 'k1' });
  await signIn(qa.page, mia.badge);
  await qa.page.getByTestId('claim-q1').click();
  await expect(qa.page.getByTestId('confirmed-q1')).toBeVisible();
  await qa.page.getByTestId('claim-q2').click();
  await expect(qa.page.getByTestId('confirmed-q2')).toBeVisible();
  await expect(qa.page.getByTestId('workload')).toHaveText('Active 2 of 3');

  await signIn(cut.page, mia.badge);
  // The Cutting kiosk knows of the two Quality tasks it cannot see.
  await expect(cut.page.getByTestId('workload')).toHaveText('Active 2 of 3');
  await expect(cut.page.getByTestId('mine-count')).toHaveText('0');
  await cut.page.getByTestId('claim-t1').click();
  await expect(cut.page.getByTestId('confirmed-t1')).toBeVisible();
  await expect(cut.page.getByTestId('workload')).toHaveText('Active 3 of 3');
  await expect(cut.page.getByTestId('at-limit')).toHaveText('At your limit (3 of 3): complete or release a task first');
  await expect(cut.page.getByTestId('claim-t2')).toBeDisabled();
  // And the Quality kiosk learns of the Cutting claim too.
  await expect(qa.page.getByTestId('workload')).toHaveText('Active 3 of 3');
  await expect(qa.page.getByTestId('claim-q3')).toBeDisabled();

  // Completing one at Quality frees a place at Cutting.
  await qa.page.getByTestId('start-q1').click();
  await qa.page.getByTestId('complete-q1').click();
  await expect(cut.page.getByTestId('workload')).toHaveText('Active 2 of 3');
  await expect(cut.page.getByTestId('claim-t2')).toBeEnabled();
});

test('ACC-1 NTF-1 NTF-2 a supervisor\'s assignment arrives while the operator is signed in: a toast, the bell, "assigned to you by", Accept; reading it clears the bell', async ({ startTerminal, server }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  await expect(page.getByTestId('notifications-open')).toHaveAttribute('data-unread', '0');
  const token = await apiToken(server.url, credentialsOf('sue'));
  expect((await api(server.url, token, '/api/tasks/t2/assign', { userId: ann.id })).status).toBe(200);

  await expect(page.getByTestId('toast').filter({ hasText: `${sue.name} assigned WO-2026-0101 · cut · Deburr bracket edges to you.` })).toBeVisible();
  await expect(page.getByTestId('notifications-open')).toHaveAttribute('data-unread', '1');
  await expect(page.getByTestId('assigned-by-t2')).toHaveText(`Assigned to you by ${sue.name}`);
  await page.getByTestId('accept-t2').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Accepted WO-2026-0101 · cut' })).toBeVisible();
  await expect(page.getByTestId('assigned-by-t2')).toHaveText(`Assigned by ${sue.name}, accepted`);
  await expect(page.getByTestId('start-t2')).toBeVisible();
  const detail = await api<{ assignments: Array<{ status: string }> }>(server.url, token, '/api/tasks/t2');
  expect(detail.body.assignments.map((a) => a.status)).toEqual(['accepted']);

  await page.getByTestId('notifications-open').click();
  await expect(page.getByTestId('notifications-panel').locator('[data-event="task_assigned"]')).toHaveAttribute('data-read', 'false');
  await page.getByTestId('notifications-read-all').click();
  await expect(page.getByTestId('notifications-panel').locator('[data-event="task_assigned"]')).toHaveAttribute('data-read', 'true');
  await page.getByTestId('notifications-close').click();
  await expect(page.getByTestId('notifications-open')).toHaveAttribute('data-unread', '0');
  // NTF-2: the read mark reached the server.
  const annToken = await apiToken(server.url, { badge: ann.badge });
  const readAt = async () =>
    (await api<{ items: Array<{ event: string; readAt: number | null }> }>(server.url, annToken, '/api/notifications')).body.items.find((n) => n.event === 'task_assigned')?.readAt ?? null;
  await expect.poll(readAt).not.toBeNull();
});

test('KIO-7 NTF-3 the next operator sees who rejected a task and why; when they claim it, the one who rejected it is told', async ({ startTerminal }) => {
  const a = await startTerminal({ id: 'k1' });
  const b = await startTerminal({ id: 'k2' });
  await signIn(a.page, ann.badge);
  await a.page.getByTestId('claim-t6').click();
  await expect(a.page.getByTestId('confirmed-t6')).toBeVisible();
  await a.page.getByTestId('reject-t6').click();
  await a.page.getByTestId('reject-reason').fill('Shear blade chipped');
  await a.page.getByTestId('reject-submit').click();
  await expect(a.page.getByTestId('reject-dialog')).toBeHidden();

  await signIn(b.page, bob.badge, bob.pin);
  await expect(b.page.getByTestId('last-rejection-t6')).toContainText(`Rejected by ${ann.name}`);
  await expect(b.page.getByTestId('last-rejection-t6')).toContainText('“Shear blade chipped”');
  await b.page.getByTestId('claim-t6').click();
  await expect(b.page.getByTestId('confirmed-t6')).toBeVisible();
  await expect(b.page.getByTestId('last-rejection-t6')).toBeVisible();

  await expect(a.page.getByTestId('toast').filter({ hasText: `WO-2026-0103 · cut · Shear 2 mm sheet blanks, which you rejected, was claimed by ${bob.name}.` })).toBeVisible();
  await expect(a.page.getByTestId('notifications-open')).toHaveAttribute('data-unread', '1');
});

test('KIO-1 AUTH-4 a supervisor\'s badge alone does not sign in at a kiosk: the PIN pad asks for their PIN; signed in, they look and do not act', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await waitForBadgeScreen(page);
  await scanBadge(page, sue.badge);
  await expect(page.getByTestId('pin-pad')).toBeVisible();
  await expect(page.getByTestId('operator-name')).toHaveCount(0);
  for (const d of sue.pin) await page.getByTestId(`pin-key-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await expect(page.getByTestId('operator-name')).toHaveText(sue.name);
  await expect(page.getByTestId('look-only')).toBeVisible();
  await expect(page.getByTestId('claimable-t1')).toBeVisible();
  await expect(page.getByTestId('claim-t1')).toHaveCount(0);
  await expect(page.getByTestId('workload')).toHaveCount(0);
  await expect(page.getByTestId('held')).toBeVisible();
});

test('KIO-6 the site\'s own reject reasons, set by an administrator, are the ones the kiosk offers', async ({ startTerminal, server }) => {
  const token = await apiToken(server.url, credentialsOf('ada'));
  const r = await fetch(`${server.url}/api/config`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rejectReasons: ['Blade worn', 'Stock missing'] }),
  });
  expect(r.status).toBe(200);
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  await page.getByTestId('claim-t7').click();
  await expect(page.getByTestId('confirmed-t7')).toBeVisible();
  await page.getByTestId('reject-t7').click();
  await expect(page.getByTestId('reject-preset-0')).toHaveText('Blade worn');
  await expect(page.getByTestId('reject-preset-1')).toHaveText('Stock missing');
  await expect(page.getByTestId('reject-preset-2')).toHaveCount(0);
  await page.getByTestId('reject-preset-0').click();
  await page.getByTestId('reject-submit').click();
  await expect(page.getByTestId('reject-dialog')).toBeHidden();
  const detail = await api<{ assignments: Array<{ status: string; reason: string | null }> }>(server.url, token, '/api/tasks/t7');
  expect(detail.body.assignments.at(-1)).toMatchObject({ status: 'rejected', reason: 'Blade worn' });
});

test('KIO-8 Chinese renders from the bundled font, whatever the system has', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1', locale: 'zh' });
  await waitForBadgeScreen(page);
  await expect(page.getByText('请刷工牌')).toBeVisible();
  const font = await page.evaluate(async () => {
    await document.fonts.ready;
    await document.fonts.load('700 20px "Noto Sans SC"', '请刷工牌');
    return {
      loaded: [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'Noto Sans SC' && f.status === 'loaded').length,
      check: document.fonts.check('700 20px "Noto Sans SC"', '请刷工牌'),
    };
  });
  expect(font.loaded).toBeGreaterThan(0);
  expect(font.check).toBe(true);
});
