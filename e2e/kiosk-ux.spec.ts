/**
 * The kiosk through a shift, as operators meet it: scans landing while something has the focus,
 * one operator after another at one kiosk.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { signIn } from './support/screen.js';

const { ann, fang } = PLANT.operators;

/**
 * A scanner's burst into whatever has the focus, without blurring it first: the characters are sent
 * from the page in one go (a scanner's timing), the closing Enter is a real key press, so the
 * browser does with it what it does with a scanner's Enter (a focused button is pressed).
 */
async function scanAsIs(page: Page, code: string): Promise<void> {
  await page.evaluate((keys) => {
    const target = document.activeElement ?? document.body;
    for (const key of keys) target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
  }, [...code]);
  await page.keyboard.press('Enter');
}

test('KIO-3 a badge scanned while a scanned task waits with Claim ready switches the operator and claims nothing', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  await scanAsIs(page, 't3');
  await expect(page.getByTestId('scan-panel')).toHaveAttribute('data-task-id', 't3');
  await expect(page.getByTestId('scan-claim')).toBeFocused();
  // Ann walks away without claiming; Fang scans her badge.
  await scanAsIs(page, fang.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(fang.name);
  await expect(page.getByTestId('claimable-t3')).toBeVisible();
  await expect(page.getByTestId('scan-panel')).toHaveCount(0);
  // Nothing was claimed in Ann's name.
  await scanAsIs(page, ann.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);
  await expect(page.getByTestId('mine-count')).toHaveText('0');
});
