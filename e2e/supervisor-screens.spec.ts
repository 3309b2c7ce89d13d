/**
 * A tour of the supervisors' overview, saved as PNGs in test-results/screens/ (supervisor-*) at
 * 1920×1080 and 1366×768, after some real work at a terminal (claims, a start, a rejection with
 * its reason, a kiosk cut off with a claim queued), so every screen has something to show.
 */
import path from 'node:path';
import { expect, pageProblems, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { signIn } from './support/screen.js';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screens');
const { ann, bob } = PLANT.operators;

const SIZES = [
  { name: '1920', viewport: { width: 1920, height: 1080 } },
  { name: '1366', viewport: { width: 1366, height: 768 } },
];

test('SUP-2 UI-11 overview tour: every view renders at 1920×1080 and 1366×768 (screenshots in test-results/screens)', async ({ startTerminal, openSupervisor, browser, server }) => {
  // A long tour (about 30 s on a quiet machine, 1.7 min at a load average of 14): a time limit of its own.
  test.setTimeout(180_000);
  // Some work on the floor first.
  const a = await startTerminal({ id: 'k1', viaProxy: true });
  const b = await startTerminal({ id: 'k2' });
  await signIn(a.page, ann.badge);
  await signIn(b.page, bob.badge, bob.pin);
  await a.page.getByTestId('claim-t1').click();
  await expect(a.page.getByTestId('confirmed-t1')).toBeVisible();
  await a.page.getByTestId('start-t1').click();
  await b.page.getByTestId('claim-t2').click();
  await expect(b.page.getByTestId('confirmed-t2')).toBeVisible();
  await b.page.getByTestId('reject-t2').click();
  await b.page.getByTestId('reject-reason').fill('Material missing from the rack');
  await b.page.getByTestId('reject-submit').click();
  await b.page.getByTestId('claim-t4').click();
  await expect(b.page.getByTestId('confirmed-t4')).toBeVisible();
  a.proxy!.cut();
  await expect(a.page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  await a.page.getByTestId('claim-t3').click();
  await b.page.getByTestId('claim-t3').click();
  await expect(b.page.getByTestId('confirmed-t3')).toBeVisible();
  a.proxy!.restore();
  await expect(a.page.getByTestId('conflict-dialog')).toBeVisible();

  for (const size of SIZES) {
    const page = await openSupervisor({ as: 'sue', viewport: size.viewport });
    const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `supervisor-${size.name}-${name}.png`) });
    await expect(page.getByTestId('sv-feed-count')).toHaveText('2');
    await expect(page.getByTestId('sv-chart-completed')).toBeVisible();
    await shot('01-overview');
    await page.keyboard.press('2');
    await expect(page.getByTestId('sv-view-tasks')).toBeVisible();
    await page.getByTestId('sv-row-t3').click();
    await expect(page.getByTestId('sv-detail-history')).toContainText('Claim');
    await shot('02-tasks-detail');
    await page.getByTestId('sv-detail-assign').click();
    await expect(page.getByTestId('sv-candidate-ann')).toBeVisible();
    await shot('03-reassign-picker');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.keyboard.press('3');
    await expect(page.getByTestId('sv-person-ann')).toBeVisible();
    await shot('04-people');
    await page.keyboard.press('4');
    await expect(page.getByTestId('sv-terminal-k1')).toHaveAttribute('data-connected', 'true');
    await shot('05-terminals');
    await page.keyboard.press('5');
    await expect(page.locator('[data-kind="claim_conflict"]')).toBeVisible();
    await shot('06-exceptions');
    await page.keyboard.press('6');
    await page.getByTestId('sv-audit-search').click();
    await expect(page.getByTestId('sv-audit-total')).toBeVisible();
    await shot('07-audit');
    await page.keyboard.press('7');
    await page
      .getByTestId('sv-import-file')
      .setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from('taskId,workOrderNumber,step,workContent,departmentId\nn9,WO-9,cut,,cut\n') });
    await expect(page.getByTestId('sv-import-rows')).toBeVisible();
    await shot('08-import-refused');
    await page.keyboard.press('a');
    await page.getByTestId('sv-auto-preview').click();
    await expect(page.getByTestId('sv-auto-plan')).toBeVisible();
    await shot('09-auto-assign-preview');
    await page.keyboard.press('Escape');
    await page.getByTestId('sv-bell').click();
    await expect(page.getByTestId('sv-notifications')).toBeVisible();
    await shot('10-notifications');
    await page.keyboard.press('Escape');
    await page.getByTestId('sv-locale-zh').click();
    await page.keyboard.press('1');
    await expect(page.getByTestId('sv-summary')).toContainText('车间概况');
    await shot('11-overview-zh');
    await page.getByTestId('sv-locale-en').click();
    await page.keyboard.press('?');
    await expect(page.getByTestId('sv-shortcuts')).toBeVisible();
    await shot('12-shortcuts');
    // The refused import's 422 is on purpose; nothing else may complain.
    expect(pageProblems(page).filter((p) => !/WebSocket|status of 422/.test(p))).toEqual([]);
    await page.close();
  }
  // The sign-in form, as a supervisor first sees it.
  const context = await browser.newContext({ viewport: SIZES[1]!.viewport });
  const signInPage = await context.newPage();
  await signInPage.goto(`${server.url}/supervisor/`);
  await expect(signInPage.getByTestId('sv-signin')).toBeVisible();
  await signInPage.screenshot({ path: path.join(SHOTS, 'supervisor-1366-00-sign-in.png') });
  await context.close();
});
