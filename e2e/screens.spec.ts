/**
 * A tour of every kiosk screen at 1280×800 and 1920×1080, saved as PNGs in test-results/screens/
 * (`kiosk-<width>-NN-name.png`) for people to look at (the README's "Terminal" section points
 * here): enrollment, badge (English and Chinese), the PIN pad after a wrong PIN, the work screen
 * online with a fresh claim and offline with a pending one, a scanned task ready to claim and one
 * that cannot be, the reject dialog with its reasons and with the on-screen keyboard, the
 * notifications drawer, the work screen in Chinese, the offline conflict, the limit reached, a
 * supervisor looking, and the idle countdown.
 */
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { scanBadge, signIn, waitForBadgeScreen } from './support/screen.js';
import { api, apiToken, credentialsOf } from './support/supervisor.js';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screens');
const { ann, bob, mia } = PLANT.operators;
const { sue } = PLANT.supervisors;

async function scan(page: Page, code: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.type(code, { delay: 5 });
  await page.keyboard.press('Enter');
}

/** The kiosk's two screen sizes: every stop of the tour is looked at in both, the smaller last. */
const VIEWPORTS = [
  { width: 1920, height: 1080 },
  { width: 1280, height: 800 },
];
const viewport = VIEWPORTS[VIEWPORTS.length - 1]!;

test(`UI-11 KIO-8 screen tour at ${VIEWPORTS.map((v) => `${v.width}×${v.height}`).join(' and ')}: every screen renders (screenshots in test-results/screens)`, async ({ startTerminal, server }) => {
  // The longest test (about 50 s on a quiet machine, 96 s at a load average of 14): a time limit of its own.
  test.setTimeout(180_000);
  /**
   * A picture of the screen at each size (what `inView` names must fit in it too), ending at the
   * smaller size, where the tour goes on.
   */
  const shot = async (page: Page, name: string, ...inView: Locator[]) => {
    for (const v of VIEWPORTS) {
      await page.setViewportSize(v);
      for (const l of inView) await expect(l).toBeInViewport();
      // Fonts (the bundled CJK one too) are in before the picture is taken.
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: path.join(SHOTS, `kiosk-${v.width}-${name}.png`) });
    }
  };
  const fresh = await startTerminal({ unenrolled: true });
  await fresh.page.setViewportSize(viewport);
  await expect(fresh.page.getByTestId('enroll-screen')).toBeVisible();
  await shot(fresh.page, '01-enroll');
  await fresh.page.getByTestId('enroll-serverUrl').fill(server.url);
  await fresh.page.getByTestId('enroll-terminalId').fill('k2');
  await fresh.page.getByTestId('enroll-token').fill('not-the-right-token');
  await fresh.page.getByTestId('enroll-submit').click();
  await expect(fresh.page.getByTestId('enroll-connection-error')).toBeVisible();
  await shot(fresh.page, '02-enroll-refused');
  await fresh.page.context().close();

  const a = await startTerminal({ id: 'k1', viaProxy: true, idleSeconds: 40 });
  const page = a.page;
  await page.setViewportSize(viewport);
  await waitForBadgeScreen(page);
  await shot(page, '03-badge');
  await page.getByTestId('locale-zh').click();
  await scanBadge(page, 'B0000');
  await expect(page.getByTestId('sign-in-error')).toBeVisible();
  await shot(page, '04-badge-zh-refused');
  await page.getByTestId('locale-en').click();
  await page.getByTestId('sign-in-error-dismiss').click();
  await scanBadge(page, bob.badge);
  for (const d of '1111') await page.getByTestId(`pin-key-${d}`).click();
  await page.getByTestId('pin-ok').click();
  await expect(page.getByTestId('pin-error')).toBeVisible();
  for (const d of '12') await page.getByTestId(`pin-key-${d}`).click();
  await shot(page, '05-pin-wrong', page.getByTestId('pin-ok'));
  await page.getByTestId('pin-cancel').click();

  // Ann's shift: a task assigned to her by Sue, a fresh claim (highlighted, confirmed).
  const sueToken = await apiToken(server.url, credentialsOf('sue'));
  expect((await api(server.url, sueToken, '/api/tasks/t8/assign', { userId: ann.id })).status).toBe(200);
  await signIn(page, ann.badge);
  await page.getByTestId('claim-t1').click();
  await expect(page.getByTestId('confirmed-t1')).toBeVisible();
  await expect(page.getByTestId('accept-t8')).toBeVisible();
  await shot(page, '06-work-online');
  await page.getByTestId('toast').first().click();

  await scan(page, 't2');
  await expect(page.getByTestId('scan-panel')).toBeVisible();
  await shot(page, '07-scan-ready');
  await page.getByTestId('scan-close').click();

  await page.getByTestId('reject-t1').click();
  await shot(page, '08-reject-reasons');
  await page.getByTestId('reject-keyboard').click();
  await page.getByTestId('reject-reason').fill('Clamp loose');
  await shot(page, '09-reject-keyboard', page.getByTestId('reject-submit'));
  await page.getByTestId('reject-cancel').click();

  await page.getByTestId('notifications-open').click();
  await expect(page.getByTestId('notifications-panel')).toBeVisible();
  await shot(page, '10-notifications');
  await page.getByTestId('notifications-close').click();

  a.proxy!.cut();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  await page.getByTestId('claim-t3').click();
  await expect(page.getByTestId('pending-t3')).toBeVisible();
  await shot(page, '11-work-offline-pending');

  const b = await startTerminal({ id: 'k2' });
  await b.page.setViewportSize(viewport);
  await signIn(b.page, bob.badge, bob.pin);
  await b.page.getByTestId('claim-t3').click();
  await expect(b.page.getByTestId('confirmed-t3')).toBeVisible();
  await scan(b.page, 't1');
  await expect(b.page.getByTestId('scan-reason')).toHaveAttribute('data-code', 'task_conflict');
  await shot(b.page, '12-scan-held-by-someone');
  await b.page.getByTestId('scan-close').click();
  a.proxy!.restore();
  await expect(page.getByTestId('conflict-dialog')).toBeVisible();
  await shot(page, '13-conflict-offline');
  await page.getByTestId('locale-zh').click();
  await shot(page, '14-conflict-zh');
  await page.getByTestId('conflict-ack').click();
  await expect(page.getByTestId('conflict-dialog')).toBeHidden();
  await shot(page, '15-work-zh');
  await page.getByTestId('locale-en').click();

  // Mia at her limit (3) with tasks of two departments.
  const qa = await startTerminal({ id: 'k3' });
  await signIn(qa.page, mia.badge);
  for (const id of ['q1', 'q2']) {
    await qa.page.getByTestId(`claim-${id}`).click();
    await expect(qa.page.getByTestId(`confirmed-${id}`)).toBeVisible();
  }
  await b.page.getByTestId('sign-out').click();
  await signIn(b.page, mia.badge);
  await b.page.getByTestId('claim-t4').click();
  await expect(b.page.getByTestId('at-limit')).toBeVisible();
  await shot(b.page, '16-at-limit');
  await b.page.getByTestId('sign-out').click();

  await waitForBadgeScreen(b.page);
  await scanBadge(b.page, sue.badge);
  for (const d of sue.pin) await b.page.getByTestId(`pin-key-${d}`).click();
  await b.page.getByTestId('pin-ok').click();
  await expect(b.page.getByTestId('look-only')).toBeVisible();
  await shot(b.page, '17-supervisor-looks');

  await expect(page.getByTestId('idle-countdown')).toBeVisible({ timeout: 45_000 });
  await shot(page, '18-idle-countdown');
});
