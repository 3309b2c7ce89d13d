/**
 * The supervisors' overview in Chromium against a real server process and browser-hosted
 * terminals: sign-in and sign-out, the live board, the exceptions feed fed by a terminal's offline
 * conflict, assigning to an operator at a terminal, reassigning, auto-assign previews, CSV import
 * with a bad row, and the audit trail with its export.
 */
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, pageProblems, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { signIn } from './support/screen.js';
import { api, apiToken } from './support/supervisor.js';

const { ann, bob } = PLANT.operators;

/** No errors in the page's console but the network refusals a test provoked on purpose. */
function quiet(page: Page): string[] {
  return pageProblems(page).filter((p) => !/Failed to load resource|WebSocket/.test(p));
}

test('CNL-1 a cancel refused because the task was cancelled meanwhile says why and what to do in the dialog', async ({ server, openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue', search: '?view=tasks&task=t6' });
  await board.getByTestId('sv-detail-cancel').click();
  await board.getByTestId('sv-cancel-reason').fill('Ordered twice');
  // Meanwhile an administrator cancels it elsewhere.
  const ada = await apiToken(server.url, { userId: PLANT.admin.id, password: PLANT.admin.password });
  expect((await api(server.url, ada, '/api/tasks/t6/cancel', { reason: 'Customer withdrew the order' })).status).toBe(200);
  await board.getByTestId('sv-cancel-submit').click();
  const refusal = board.getByTestId('sv-cancel-error');
  await expect(refusal).toHaveAttribute('data-code', 'task_cancelled');
  await expect(refusal).toContainText('This task was cancelled.');
  await expect(refusal).toContainText('Nothing more can be done with this task; pick another.');
  await board.screenshot({ path: test.info().outputPath('cancel-refused.png') });
  expect(quiet(board)).toEqual([]);
});

test('SUP-1 AUTH-8 a supervisor signs in at /supervisor and sees the floor; an operator is refused; signing out comes back to sign-in, and signing in again loads the floor afresh', async ({ server, browser, openSupervisor }) => {
  // An operator's credentials are refused with a message saying who the overview is for.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(/\/supervisor\/$/);
  await page.getByTestId('sv-signin-method-badge').click();
  await page.getByTestId('sv-signin-badge').fill(ann.badge);
  await page.getByTestId('sv-signin-pin').fill('0000');
  await page.getByTestId('sv-signin-submit').click();
  await expect(page.getByTestId('sv-signin-error')).toBeVisible();
  await page.getByTestId('sv-signin-method-password').click();
  await page.getByTestId('sv-signin-user').fill('ann');
  await page.getByTestId('sv-signin-password').fill('whatever-password');
  await page.getByTestId('sv-signin-submit').click();
  await expect(page.getByTestId('sv-signin-error')).toHaveAttribute('data-code', 'sign_in_failed');
  // The supervisor signs in with badge and PIN.
  const sue = PLANT.supervisors.sue;
  await page.getByTestId('sv-signin-method-badge').click();
  await page.getByTestId('sv-signin-badge').fill(sue.badge);
  await page.getByTestId('sv-signin-pin').fill(sue.pin);
  await page.getByTestId('sv-signin-submit').click();
  await expect(page.getByTestId('sv-live')).toHaveAttribute('data-state', 'live');
  await expect(page.getByTestId('sv-user')).toHaveText(sue.name);
  await expect(page.getByTestId('sv-scope')).toHaveText('Cutting');
  // Cutting's 8 free tasks; Quality's are not in her view.
  await expect(page.getByTestId('sv-sum-cut-pending')).toHaveText('8');
  await expect(page.getByTestId('sv-sum-row-qa')).toHaveCount(0);
  // The session is in an HttpOnly cookie: the page's scripts cannot read it.
  expect(await page.evaluate(() => document.cookie)).toBe('');
  expect((await context.cookies()).find((c) => c.name === 'sf_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  await page.getByTestId('sv-sign-out').click();
  await expect(page.getByTestId('sv-signin-ended')).toHaveAttribute('data-reason', 'signedOut');
  // Signing in again on the same page loads the floor afresh (it once stayed "Loading" for good).
  await page.getByTestId('sv-signin-method-badge').click();
  await page.getByTestId('sv-signin-badge').fill(sue.badge);
  await page.getByTestId('sv-signin-pin').fill(sue.pin);
  await page.getByTestId('sv-signin-submit').click();
  await expect(page.getByTestId('sv-live')).toHaveAttribute('data-state', 'live');
  await expect(page.getByTestId('sv-sum-cut-pending')).toHaveText('8');
  await page.getByTestId('sv-sign-out').click();
  await expect(page.getByTestId('sv-signin-ended')).toHaveAttribute('data-reason', 'signedOut');
  await page.reload();
  await expect(page.getByTestId('sv-signin')).toBeVisible();
  await context.close();

  // A session revoked by an administrator takes an open board back to sign-in, saying so.
  const board = await openSupervisor({ as: 'sue' });
  const admin = await apiToken(server.url, { userId: PLANT.admin.id, password: PLANT.admin.password });
  const tokens = await api<{ items: Array<{ id: string; kind: string; revokedAt: number | null }> }>(server.url, admin, `/api/tokens?userId=${sue.id}`);
  for (const t of tokens.body.items.filter((x) => x.kind === 'session' && x.revokedAt === null)) {
    const r = await fetch(`${server.url}/api/tokens/${t.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(r.status).toBe(200);
  }
  await expect(board.getByTestId('sv-signin-ended')).toHaveAttribute('data-reason', 'revoked');
  expect(quiet(board)).toEqual([]);
});

test('SUP-1 SUP-3 a claim made at a terminal shows on the board live, with the holder\u2019s presence and load', async ({ startTerminal, openSupervisor }) => {
  const kiosk = await startTerminal({ id: 'k1' });
  const board = await openSupervisor({ as: 'sue', search: '?view=tasks&sort=id&dir=asc' });
  await expect(board.getByTestId('sv-row-t3')).toHaveAttribute('data-state', 'pending');
  await signIn(kiosk.page, ann.badge);
  await kiosk.page.getByTestId('claim-t3').click();
  await expect(board.getByTestId('sv-row-t3')).toHaveAttribute('data-state', 'claimed');
  await expect(board.getByTestId('sv-row-t3')).toContainText(ann.name);
  await board.getByTestId('sv-nav-people').click();
  await expect(board.getByTestId('sv-person-where-ann')).toContainText(PLANT.terminals.k1.name);
  await expect(board.getByTestId('sv-person-ann')).toHaveAttribute('data-active-count', '1');
  await board.getByTestId('sv-nav-terminals').click();
  await expect(board.getByTestId('sv-terminal-k1')).toHaveAttribute('data-connected', 'true');
  await expect(board.getByTestId('sv-terminal-k1')).toContainText(ann.name);
  expect(quiet(board)).toEqual([]);
});

test('SUP-4 an offline conflict at a terminal appears in the exceptions feed naming both operators, the terminal and the offline wait; acknowledging clears it', async ({
  startTerminal,
  openSupervisor,
}) => {
  const a = await startTerminal({ id: 'k1', viaProxy: true });
  const b = await startTerminal({ id: 'k2' });
  const board = await openSupervisor({ as: 'sue' });
  await signIn(a.page, ann.badge);
  await signIn(b.page, bob.badge, bob.pin);
  // The supervisor sees that the kiosk went offline with a claim queued.
  a.proxy!.cut();
  await expect(a.page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  await a.page.getByTestId('claim-t3').click();
  await expect(a.page.getByTestId('pending-t3')).toBeVisible();
  await a.page.waitForTimeout(1200);
  await b.page.getByTestId('claim-t3').click();
  await expect(b.page.getByTestId('confirmed-t3')).toBeVisible();
  a.proxy!.restore();
  await expect(a.page.getByTestId('conflict-dialog')).toBeVisible();

  const item = board.locator('[data-testid^="sv-exception-"][data-kind="claim_conflict"]');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(`${ann.name} tried to claim t3, but ${bob.name} holds it`);
  await expect(item).toContainText(PLANT.terminals.k1.name);
  await expect(item.locator('[data-testid^="sv-exception-waited-"]')).toHaveText(/^\d+ s$/);
  await expect(board.getByTestId('sv-feed-count')).toHaveText('1');
  await item.locator('[data-testid^="sv-exception-ack-"]').click();
  await expect(board.getByTestId('sv-feed-count')).toHaveText('0');
  expect(quiet(board)).toEqual([]);
});

test('ASG-7 ERR-3 RSG-1 the picker explains who cannot take a task; an assigned task arrives at the operator\u2019s terminal; a reassign moves it', async ({
  startTerminal,
  openSupervisor,
}) => {
  const kiosk = await startTerminal({ id: 'k1' });
  await signIn(kiosk.page, ann.badge);
  const board = await openSupervisor({ as: 'sue', search: '?view=tasks&task=t5' });
  await expect(board.getByTestId('sv-detail-content')).toHaveText('Plasma-cut base plates');
  await board.getByTestId('sv-detail-assign').click();
  await expect(board.getByTestId('sv-candidate-ann')).toHaveAttribute('data-eligible', 'true');
  // Supervisor Sue supervises only Cutting, so Jonas (Quality) is not offered by her picker; the
  // admin's is checked below.
  await expect(board.getByTestId('sv-candidate-jonas')).toHaveCount(0);
  await board.getByTestId('sv-candidate-pick-ann').click();
  await expect(board.getByTestId('sv-toast').first()).toContainText(`Task t5 assigned to ${ann.name}`);
  await expect(board.getByTestId('sv-detail-holder')).toHaveText(ann.name);
  // It arrives at Ann's kiosk.
  await expect(kiosk.page.getByTestId('mine-t5')).toBeVisible();
  // Reassign to Bob: it leaves Ann's kiosk.
  await board.getByTestId('sv-detail-assign').click();
  await expect(board.getByTestId('sv-assign')).toContainText('Reassign task');
  await board.getByTestId('sv-candidate-pick-bob').click();
  await expect(board.getByTestId('sv-detail-holder')).toHaveText(bob.name);
  await expect(kiosk.page.getByTestId('mine-t5')).toHaveCount(0);
  await expect(board.getByTestId('sv-detail-history')).toContainText('Reassign');

  // An administrator's picker lists Quality's Jonas too, and says why not, about him.
  const admin = await openSupervisor({ as: 'ada', search: '?view=tasks&task=t6' });
  await admin.getByTestId('sv-detail-assign').click();
  await expect(admin.getByTestId('sv-candidate-jonas')).toHaveAttribute('data-eligible', 'false');
  await expect(admin.getByTestId('sv-candidate-why-jonas')).toHaveText('✕ Jonas Rossi is not in Cutting.');
  await expect(admin.getByTestId('sv-candidate-pick-jonas')).toBeDisabled();
  expect(quiet(board)).toEqual([]);
});

test('AUTO-6 auto-assign: preview shows who gets what, then applying does exactly that, for every strategy', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue' });
  for (const strategy of ['round_robin', 'least_loaded', 'performance_weighted', 'hybrid'] as const) {
    await board.getByTestId('sv-auto-assign').click();
    await board.getByTestId(`sv-auto-strategy-${strategy}`).check();
    await board.getByTestId('sv-auto-limit').fill('2');
    await board.getByTestId('sv-auto-preview').click();
    const plan = board.getByTestId('sv-auto-plan');
    await expect(plan).toHaveAttribute('data-assigned', '2');
    const previewed = await plan.locator('tbody tr').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-testid')}=${r.getAttribute('data-user')}`));
    await board.getByTestId('sv-auto-apply').click();
    await expect(board.getByTestId('sv-auto-same')).toBeVisible();
    const applied = await board
      .getByTestId('sv-auto-result')
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-testid')}=${r.getAttribute('data-user')}`));
    expect(applied.map((x) => x.replace('sv-auto-result', 'sv-auto-plan'))).toEqual(previewed);
    await board.getByTestId('sv-auto-close').click();
  }
  // Eight tasks were free; four strategies took two each.
  await expect(board.getByTestId('sv-sum-cut-pending')).toHaveText('0');
  await expect(board.getByTestId('sv-sum-cut-claimed')).toHaveText('8');
});

test('IMP-2 a CSV import with a bad row shows that row\u2019s error and imports nothing; a good file imports with its progress', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue', search: '?view=import' });
  const bad = ['taskId,workOrderNumber,step,workContent,departmentId,priority', 'n1,WO-2026-0200,cut,Cut flanges,cut,2', 'n2,WO-2026-0200,cut,,cut,high'].join('\n');
  await board.getByTestId('sv-import-file').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await expect(board.getByTestId('sv-import-error')).toHaveAttribute('data-code', 'import_rejected');
  await expect(board.getByTestId('sv-import-row-3')).toHaveCount(2);
  await expect(board.getByTestId('sv-import-rows')).toContainText('workContent');
  await expect(board.getByTestId('sv-import-rows')).toContainText('priority');
  const good = ['taskId,workOrderNumber,step,workContent,departmentId,priority', 'n1,WO-2026-0200,cut,Cut flanges,cut,2', 'n2,WO-2026-0200,cut,Drill flanges,cut,1'].join('\n');
  await board.getByTestId('sv-import-file').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await expect(board.getByTestId('sv-import-done')).toContainText('2 tasks created');
  await expect(board.getByTestId('sv-import-progress')).toContainText('orders.csv uploaded');
  // Live on the board at once.
  await board.getByTestId('sv-nav-overview').click();
  await expect(board.getByTestId('sv-sum-cut-pending')).toHaveText('10');
});

test('SUP-6 the audit trail filters by task and outcome and exports the same rows as CSV', async ({ startTerminal, openSupervisor }) => {
  const kiosk = await startTerminal({ id: 'k1' });
  await signIn(kiosk.page, ann.badge);
  await kiosk.page.getByTestId('claim-t1').click();
  await expect(kiosk.page.getByTestId('confirmed-t1')).toBeVisible();
  await kiosk.page.getByTestId('start-t1').click();
  await expect(kiosk.page.getByTestId('mine-t1')).toHaveAttribute('data-status', 'in_progress');
  const board = await openSupervisor({ as: 'sue', search: '?view=audit' });
  await board.getByTestId('sv-audit-taskId').fill('t1');
  await board.getByTestId('sv-audit-search').click();
  await expect(board.getByTestId('sv-audit-total')).toHaveAttribute('data-total', '2');
  await expect(board.locator('[data-testid^="sv-audit-row-"]').first()).toHaveAttribute('data-action', 'start');
  await board.getByTestId('sv-audit-action').selectOption('claim');
  await board.getByTestId('sv-audit-search').click();
  await expect(board.getByTestId('sv-audit-total')).toHaveAttribute('data-total', '1');
  const download = board.waitForEvent('download');
  await board.getByTestId('sv-audit-csv').click();
  const file = await (await download).path();
  const text = (await import('node:fs')).readFileSync(file, 'utf8');
  // A byte order mark first, so Excel reads it as UTF-8.
  expect(text.startsWith('\uFEFF')).toBe(true);
  const csv = text.slice(1).trim().split('\n');
  expect(csv[0]).toBe('id,at,action,outcome,actorId,via,terminalId,taskId,departmentId,details');
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain(',claim,applied,ann,terminal,k1,t1,cut,');
  // A period that ends before it starts is said on the page, in its language (here Chinese).
  await board.getByTestId('sv-locale-zh').click();
  await board.getByTestId('sv-audit-from').fill('2026-01-05T10:00');
  await board.getByTestId('sv-audit-to').fill('2026-01-05T09:00');
  await board.getByTestId('sv-audit-search').click();
  await expect(board.getByTestId('sv-audit-error')).toHaveAttribute('data-code', 'invalid_input');
  await expect(board.getByTestId('sv-audit-error')).toContainText('时间段的结束时间（止）不晚于开始时间（起）。');
  await board.screenshot({ path: test.info().outputPath('audit-period-zh.png') });
});

test('SUP-5 a rejection at a terminal notifies the supervisor at once, with the reason; it can be marked read', async ({ startTerminal, openSupervisor }) => {
  const kiosk = await startTerminal({ id: 'k1' });
  const board = await openSupervisor({ as: 'sue' });
  await signIn(kiosk.page, ann.badge);
  await kiosk.page.getByTestId('claim-t2').click();
  await expect(kiosk.page.getByTestId('confirmed-t2')).toBeVisible();
  await kiosk.page.getByTestId('reject-t2').click();
  await kiosk.page.getByTestId('reject-reason').fill('Saw blade broken');
  await kiosk.page.getByTestId('reject-submit').click();
  await expect(board.getByTestId('sv-toast').filter({ hasText: 'rejected task t2' })).toContainText('Saw blade broken');
  await expect(board.getByTestId('sv-bell')).toHaveAttribute('data-unread', '1');
  await expect(board.getByTestId('sv-sum-cut-rejected')).toHaveText(/1$/);
  // The count opens exactly the rejected task.
  await board.getByTestId('sv-sum-cut-rejected').click();
  await expect(board).toHaveURL(/flag=rejected/);
  await expect(board.getByTestId('sv-tasks-count')).toHaveAttribute('data-count', '1');
  await expect(board.getByTestId('sv-row-t2')).toBeVisible();
  await board.getByTestId('sv-bell').click();
  await board.getByTestId('sv-notifications-read-all').click();
  await expect(board.getByTestId('sv-bell')).toHaveAttribute('data-unread', '0');
});

test('ASG-3 RSG-1 ASG-7 two supervisors on one task: the picker\u2019s refresh after a refusal offers what the task now needs (reassign once someone holds it, assign once it is back in the pool)', async ({
  server,
  openSupervisor,
}) => {
  const ada = await apiToken(server.url, { userId: PLANT.admin.id, password: PLANT.admin.password });
  const board = await openSupervisor({ as: 'sue', search: '?view=tasks&task=t5' });
  // Sue opens the picker of a task in the pool; meanwhile the administrator gives it to Bob.
  await board.getByTestId('sv-detail-assign').click();
  await expect(board.getByTestId('sv-candidate-ann')).toHaveAttribute('data-eligible', 'true');
  expect((await api(server.url, ada, '/api/tasks/t5/assign', { userId: bob.id })).status).toBe(200);
  await expect(board.getByTestId('sv-assign-task')).toContainText(bob.name);
  await board.getByTestId('sv-candidate-pick-ann').click();
  await expect(board.getByTestId('sv-assign-error')).toHaveAttribute('data-code', 'task_conflict');
  await board.getByTestId('sv-assign-refresh').click();
  await expect(board.getByTestId('sv-assign')).toContainText('Reassign task');
  await expect(board.getByTestId('sv-candidate-ann')).toHaveAttribute('data-eligible', 'true');
  await board.getByTestId('sv-candidate-pick-ann').click();
  await expect(board.getByTestId('sv-detail-holder')).toHaveText(ann.name);

  // Sue opens the reassign picker; meanwhile the administrator releases the task to the pool.
  await board.getByTestId('sv-detail-assign').click();
  await expect(board.getByTestId('sv-assign')).toContainText('Reassign task');
  await expect(board.getByTestId('sv-candidate-bob')).toHaveAttribute('data-eligible', 'true');
  expect((await api(server.url, ada, '/api/tasks/t5/unassign', {})).status).toBe(200);
  await expect(board.getByTestId('sv-detail-holder')).toHaveText('—');
  await board.getByTestId('sv-candidate-pick-bob').click();
  await expect(board.getByTestId('sv-assign-error')).toHaveAttribute('data-code', 'task_not_claimed');
  await board.getByTestId('sv-assign-refresh').click();
  await expect(board.getByTestId('sv-assign')).toContainText('Assign task');
  await expect(board.getByTestId('sv-candidate-bob')).toHaveAttribute('data-eligible', 'true');
  await board.getByTestId('sv-candidate-pick-bob').click();
  await expect(board.getByTestId('sv-detail-holder')).toHaveText(bob.name);
  expect(quiet(board)).toEqual([]);
});

test('IMP-2 UI-11 in Chinese, a refused import lists every row problem in Chinese, not English sentences', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue', search: '?view=import' });
  await board.getByTestId('sv-locale-zh').click();
  const bad = ['taskId,workOrderNumber,step,workContent,departmentId,priority', 'n1,WO-2026-0200,cut,Cut flanges,cut,2', 'n2,WO-2026-0200,cut,,cut,high'].join('\n');
  await board.getByTestId('sv-import-file').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await expect(board.getByTestId('sv-import-error')).toHaveAttribute('data-code', 'import_rejected');
  const rows = board.getByTestId('sv-import-rows');
  await expect(rows).toContainText('缺少 workContent');
  await expect(rows).toContainText('priority 必须是整数（实际为“high”）');
  await expect(rows).not.toContainText('is required');
  await board.evaluate(() => document.fonts.ready);
  await board.screenshot({ path: 'test-results/screens/supervisor-import-zh-refused.png' });
});

test('IMP-2 a CSV import with more errors than are listed says that only the first of them are shown, and how many there are', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue', search: '?view=import' });
  // 1,200 rows without their work content: 1,200 errors, of which the server lists 1,000.
  const lines = ['taskId,workOrderNumber,step,workContent,departmentId'];
  for (let i = 1; i <= 1200; i++) lines.push(`n${i},WO-2026-0300,cut,,cut`);
  await board.getByTestId('sv-import-file').setInputFiles({ name: 'big-order.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
  await expect(board.getByTestId('sv-import-error')).toHaveAttribute('data-code', 'import_rejected');
  await expect(board.getByTestId('sv-import-rows').locator('tbody tr')).toHaveCount(1000);
  await expect(board.getByTestId('sv-import-partial')).toHaveText('Only the first 1,000 of 1,200 problems are listed. Fix these, then import the file again to see the rest.');
  await board.getByTestId('sv-import-error').scrollIntoViewIfNeeded();
  await board.screenshot({ path: test.info().outputPath('import-partial.png') });
  expect(quiet(board)).toEqual([]);
});

test('SUP-2 the task table\u2019s "completed since" filter says "this shift" only for the current shift; one kept from an earlier shift (a shared link, a table left open past the shift change) names its start', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue' });
  await board.getByTestId('sv-sum-cut-completedThisShift').click();
  await expect(board.getByTestId('sv-filter-since')).toHaveText('Completed this shift ✕');
  // Two days ago at 06:00 in the plant (UTC, the default), as a link from then would carry it.
  const d = new Date();
  const since = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - 2, 6, 0);
  const label = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' }).format(since);
  await board.goto(board.url().replace(/since=\d+/, `since=${since}`));
  await expect(board.getByTestId('sv-live')).toHaveAttribute('data-state', 'live');
  await expect(board.getByTestId('sv-filter-since')).toHaveText(`Completed since ${label}, 06:00 ✕`);
  await board.screenshot({ path: test.info().outputPath('since-chip.png') });
});

test('SUP-3 SUP-4 a task\u2019s panel shows its exceptions (a rejection with its reason) with the action that resolves them; acknowledged there, the task no longer awaits action', async ({ server, openSupervisor }) => {
  const op = await apiToken(server.url, { badge: ann.badge });
  expect((await api(server.url, op, '/api/tasks/t2/claim', {})).status).toBe(200);
  expect((await api(server.url, op, '/api/tasks/t2/reject', { reason: 'Saw blade broken' })).status).toBe(200);
  // The supervisor opens the task from its notification.
  const board = await openSupervisor({ as: 'sue' });
  await expect(board.getByTestId('sv-sum-cut-rejected')).toHaveText(/1$/);
  await board.getByTestId('sv-bell').click();
  // "Open task" closes the notifications itself (SUP-5), and the task's panel is in front.
  await board.getByTestId('sv-notifications').getByRole('button', { name: 'Open task' }).click();
  const panel = board.getByTestId('sv-detail');
  await expect(panel.getByTestId('sv-detail-exceptions')).toBeVisible();
  const exception = panel.locator('[data-kind="task_rejected"]');
  await expect(exception).toHaveAttribute('data-open', 'true');
  await expect(exception).toContainText('Saw blade broken');
  await board.screenshot({ path: test.info().outputPath('detail-exceptions.png') });
  await exception.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(exception).toHaveAttribute('data-open', 'false');
  await board.getByTestId('sv-nav-overview').click();
  await expect(board.getByTestId('sv-sum-cut-rejected')).toHaveText('0');
  expect(quiet(board)).toEqual([]);
});

test('SUP-5 a notification\u2019s "Open task" shows the task\u2019s panel in front, not hidden behind the notifications', async ({ server, openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue' });
  const op = await apiToken(server.url, { badge: ann.badge });
  // A few rejections: a list of notifications as long as a shift gathers.
  for (const id of ['t4', 't6', 't7', 't8', 't3']) {
    expect((await api(server.url, op, `/api/tasks/${id}/claim`, {})).status).toBe(200);
    expect((await api(server.url, op, `/api/tasks/${id}/reject`, { reason: 'Profile bent' })).status).toBe(200);
  }
  await expect(board.getByTestId('sv-bell')).toHaveAttribute('data-unread', '5');
  await board.getByTestId('sv-bell').click();
  await board.getByTestId('sv-notifications').getByRole('button', { name: 'Open task' }).first().click();
  await expect(board.getByTestId('sv-detail-content')).toHaveText('Cut aluminium profile, 12 pieces');
  // Its actions can be clicked: nothing lies over them.
  await board.getByTestId('sv-detail-assign').click({ trial: true, timeout: 3000 });
  await board.screenshot({ path: test.info().outputPath('notification-open-task.png') });
});

test('IMP-4 SEC-7 a CSV saved by Excel in the Chinese Windows encoding (GBK) is refused in the page\u2019s language, saying how to save it as UTF-8', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue', search: '?view=import' });
  await board.getByTestId('sv-locale-zh').click();
  // "切割" (cut) in GBK: what Excel's plain "CSV (逗号分隔)" writes on a Chinese Windows.
  const gbk = Buffer.concat([Buffer.from('taskId,workOrderNumber,step,workContent,departmentId\nn1,WO-2026-0400,cut,'), Buffer.from([0xc7, 0xd0, 0xb8, 0xee]), Buffer.from(',cut\n')]);
  await board.getByTestId('sv-import-file').setInputFiles({ name: '工单.csv', mimeType: 'text/csv', buffer: gbk });
  const refusal = board.getByTestId('sv-import-error');
  await expect(refusal).toHaveAttribute('data-code', 'invalid_input');
  await expect(refusal).toHaveText('文件“工单.csv”不是 UTF-8 编码，未导入任何数据。请在 Excel 中选择“另存为”→“CSV UTF-8（逗号分隔）”，然后重新导入。');
  await board.screenshot({ path: test.info().outputPath('import-gbk.png') });
  expect(quiet(board)).toEqual([]);
});

test('SUP-2 on 1280×800 and 1366×768 screens the task table shows every column, "Updated" included, without scrolling sideways (screenshots in test-results/screens)', async ({ openSupervisor }) => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 1366, height: 768 },
  ]) {
    const page = await openSupervisor({ as: 'sue', search: '?view=tasks', viewport });
    const table = page.getByTestId('sv-task-table');
    const row = table.locator('[role="row"][data-task-id]').first();
    await expect(row).toBeVisible();
    await expect(table.locator('[role="columnheader"].c-updated')).toHaveText('Updated');
    await expect(row.locator('.c-updated')).toBeVisible();
    await expect(row.locator('.c-updated')).toHaveText(/\d\d:\d\d/);
    // Every header lies inside the table's visible box, wide enough to read.
    const fit = await table.evaluate((el) => {
      const right = el.getBoundingClientRect().left + el.clientLeft + el.clientWidth;
      const heads = [...el.querySelectorAll('[role="columnheader"]')].map((h) => h.getBoundingClientRect());
      return { sideways: el.scrollWidth > el.clientWidth, columns: heads.length, cut: heads.filter((r) => r.width < 40 || r.right > right + 0.5).length };
    });
    expect(fit).toEqual({ sideways: false, columns: 10, cut: 0 });
    await page.screenshot({ path: path.resolve(import.meta.dirname, '..', 'test-results', 'screens', `supervisor-${viewport.width}-tasks-columns.png`) });
    await page.close();
  }
});

/**
 * Press Tab (or Shift+Tab) `times` times and say where the focus went each time: into the dialog
 * (`in`), out of the page to the browser's own controls (`away`), or to the page behind it.
 */
async function tabAround(page: Page, dialogId: string, key: 'Tab' | 'Shift+Tab', times: number): Promise<string[]> {
  const where: string[] = [];
  for (let i = 0; i < times; i++) {
    await page.keyboard.press(key);
    where.push(
      await page.evaluate((id) => {
        const el = document.activeElement;
        if (!el || el === document.body) return 'away';
        if (document.querySelector(`[data-testid="${id}"]`)?.contains(el)) return 'in';
        return `behind: ${el.getAttribute('data-testid') ?? el.tagName} ${el.textContent?.slice(0, 20) ?? ''}`;
      }, dialogId),
    );
  }
  return where;
}

async function staysIn(page: Page, dialogId: string): Promise<void> {
  for (const key of ['Tab', 'Shift+Tab'] as const) {
    const where = await tabAround(page, dialogId, key, 12);
    expect(where.filter((w) => w.startsWith('behind'))).toEqual([]);
    // Out of the last control the focus may go to the browser's own controls, then comes back.
    expect(where.filter((w) => w === 'in').length).toBeGreaterThanOrEqual(6);
  }
}

test('SUP-8 the overview\u2019s dialogs are modal: Tab and Shift+Tab never reach the page behind (cancel, operator picker, auto-assign, shortcuts), Escape or ✕ closes them, and the focus goes back to what opened them', async ({ openSupervisor }) => {
  const board = await openSupervisor({ as: 'sue', search: '?view=tasks&task=t6' });
  // Cancel, from the task's panel, by keyboard.
  const cancel = board.getByTestId('sv-detail-cancel');
  await cancel.focus();
  await board.keyboard.press('Enter');
  await expect(board.getByTestId('sv-cancel-reason')).toBeFocused();
  await staysIn(board, 'sv-cancel');
  await board.keyboard.press('Escape');
  await expect(board.getByTestId('sv-cancel')).toHaveCount(0);
  await expect(cancel).toBeFocused();
  // The operator picker, from the task's panel; closed with its ✕.
  const assign = board.getByTestId('sv-detail-assign');
  await assign.click();
  await expect(board.getByTestId('sv-candidate-ann')).toBeVisible();
  await expect(board.getByTestId('sv-assign-search')).toBeFocused();
  await staysIn(board, 'sv-assign');
  // The page behind takes no clicks while a dialog is open.
  await board.getByTestId('sv-nav-people').click({ force: true });
  await expect(board.getByTestId('sv-view-tasks')).toBeVisible();
  await board.getByTestId('sv-assign-close').click();
  await expect(board.getByTestId('sv-assign')).toHaveCount(0);
  await expect(assign).toBeFocused();
  // Auto-assign, from the top bar.
  const auto = board.getByTestId('sv-auto-assign');
  await auto.click();
  await expect(board.getByTestId('sv-auto')).toBeVisible();
  await staysIn(board, 'sv-auto');
  await board.keyboard.press('Escape');
  await expect(board.getByTestId('sv-auto')).toHaveCount(0);
  await expect(auto).toBeFocused();
  // The shortcuts, by their key.
  await board.keyboard.press('?');
  await expect(board.getByTestId('sv-shortcuts')).toBeVisible();
  await staysIn(board, 'sv-shortcuts');
  await board.keyboard.press('Escape');
  await expect(board.getByTestId('sv-shortcuts')).toHaveCount(0);
  await expect(auto).toBeFocused();
  expect(quiet(board)).toEqual([]);
});
