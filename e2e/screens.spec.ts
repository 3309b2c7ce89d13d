/**
 * A tour of every screen, saved as PNGs in test-results/screens/ for people to look at (the
 * README's "Terminal" section points here): enrollment, badge (English and Chinese), PIN pad, the
 * work screen online and offline with a pending claim, the reject dialog with a refusal, the
 * conflict dialog and the idle countdown.
 */
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { scanBadge, signIn, waitForBadgeScreen } from './support/screen.js';

const SHOTS = path.resolve(import.meta.dirname, '..', 'test-results', 'screens');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const { ann, bob } = PLANT.operators;

test('UI-11 screen tour: every screen renders (screenshots in test-results/screens)', async ({ startTerminal, server }) => {
  const fresh = await startTerminal({ unenrolled: true });
  await expect(fresh.page.getByTestId('enroll-screen')).toBeVisible();
  await shot(fresh.page, '01-enroll');
  await fresh.page.getByTestId('enroll-serverUrl').fill(server.url);
  await fresh.page.getByTestId('enroll-terminalId').fill('k2');
  await fresh.page.getByTestId('enroll-token').fill('not-the-right-token');
  await fresh.page.getByTestId('enroll-submit').click();
  await expect(fresh.page.getByTestId('enroll-connection-error')).toBeVisible();
  await shot(fresh.page, '02-enroll-refused');

  const a = await startTerminal({ id: 'k1', viaProxy: true, idleSeconds: 16 });
  const page = a.page;
  await waitForBadgeScreen(page);
  await shot(page, '03-badge');
  await page.getByTestId('locale-zh').click();
  await scanBadge(page, 'B0000');
  await expect(page.getByTestId('sign-in-error')).toBeVisible();
  await shot(page, '04-badge-zh-refused');
  await page.getByTestId('locale-en').click();
  await page.getByTestId('sign-in-error-dismiss').click();
  await scanBadge(page, bob.badge);
  await expect(page.getByTestId('pin-pad')).toBeVisible();
  for (const d of '123456789012') await page.getByTestId(`pin-key-${d}`).click(); // the longest PIN (MAX_PIN_DIGITS)
  await shot(page, '05-pin-pad');
  await page.getByTestId('pin-cancel').click();

  await signIn(page, ann.badge);
  await page.getByTestId('claim-t1').click();
  await expect(page.getByTestId('confirmed-t1')).toBeVisible();
  await page.getByTestId('start-t1').click();
  await expect(page.getByTestId('mine-t1')).toHaveAttribute('data-status', 'in_progress');
  await expect(page.getByTestId('confirmed-t1')).toBeVisible();
  await shot(page, '06-work-online');
  a.proxy!.cut();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  await page.getByTestId('claim-t3').click();
  await expect(page.getByTestId('pending-t3')).toBeVisible();
  await shot(page, '07-work-offline-pending');

  await page.getByTestId('reject-t1').click();
  await page.getByTestId('reject-submit').click();
  await expect(page.getByTestId('reject-error')).toBeVisible();
  await shot(page, '08-reject-refused');
  await page.getByTestId('reject-cancel').click();

  const b = await startTerminal({ id: 'k2' });
  await signIn(b.page, bob.badge, bob.pin);
  await b.page.getByTestId('claim-t3').click();
  await expect(b.page.getByTestId('confirmed-t3')).toBeVisible();
  a.proxy!.restore();
  await expect(page.getByTestId('conflict-dialog')).toBeVisible();
  await shot(page, '09-conflict');
  await page.getByTestId('locale-zh').click();
  await shot(page, '10-conflict-zh');
  await page.getByTestId('locale-en').click();
  await page.getByTestId('conflict-ack').click();

  await expect(page.getByTestId('idle-countdown')).toBeVisible({ timeout: 30_000 });
  await shot(page, '11-idle-countdown');
});
