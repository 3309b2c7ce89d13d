/** Steps on the terminal's screen that several tests share. */
import { expect, type Page } from '@playwright/test';

/** A badge scanner: a fast burst of keys ending in Enter, into whatever has the focus. */
export async function scanBadge(page: Page, badge: string): Promise<void> {
  await page.keyboard.type(badge, { delay: 5 });
  await page.keyboard.press('Enter');
}

export async function waitForBadgeScreen(page: Page): Promise<void> {
  await expect(page.getByTestId('badge-screen')).toBeVisible();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'online');
}

export async function signIn(page: Page, badge: string, pin?: string): Promise<void> {
  await waitForBadgeScreen(page);
  await scanBadge(page, badge);
  if (pin) {
    await expect(page.getByTestId('pin-pad')).toBeVisible();
    for (const d of pin) await page.getByTestId(`pin-key-${d}`).click();
    await page.getByTestId('pin-ok').click();
  }
  await expect(page.getByTestId('operator-name')).toBeVisible();
}
