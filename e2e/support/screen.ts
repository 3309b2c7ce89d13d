/** Steps on the terminal's screen that several tests share. */
import { expect, type Page } from '@playwright/test';

/** A badge scanner: a fast burst of keys ending in Enter, into whatever has the focus. */
export async function scanBadge(page: Page, badge: string): Promise<void> {
  // At the work screen with no text field focused, a scan is a burst the window catches (KIO-3):
  // sent as one burst in the page, as a scanner sends it. Typed key by key over the DevTools
  // protocol, a loaded machine spaced the keys past the 50 ms a scan allows, and the badge went
  // to the search field as typing. Elsewhere (the badge field) the keys are typed for real.
  const burst = await page.evaluate((code) => {
    const active = document.activeElement;
    if (document.querySelector('[data-testid="badge-screen"]') || (active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA'))) return false;
    for (const key of [...code, 'Enter']) window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
    return true;
  }, badge);
  if (burst) return;
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
