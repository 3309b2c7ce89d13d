/**
 * The kiosk through a shift, as operators meet it: scans landing while something has the focus,
 * one operator after another at one kiosk.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { scanBadge, signIn, waitForBadgeScreen } from './support/screen.js';

const { ann, bob, fang } = PLANT.operators;

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

/** A scanner's whole burst, Enter included, into the focused element, at a scanner's pace. */
async function burstInto(page: Page, code: string): Promise<void> {
  await page.evaluate((keys) => {
    const target = document.activeElement ?? document.body;
    for (const key of keys) target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
  }, [...code, 'Enter']);
}

test('KIO-3 UI-2 a badge scanned into the search field while it holds a search switches the operator', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  // Ann types a search by hand (it lands in the search field, which keeps the focus) ...
  await page.keyboard.type('plate', { delay: 120 });
  await expect(page.getByTestId('search-input')).toHaveValue('plate');
  await expect(page.getByTestId('search-input')).toBeFocused();
  // ... and walks away; Fang scans her badge.
  await burstInto(page, fang.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(fang.name);
  await expect(page.getByTestId('search-input')).toHaveValue('');

  // Fang searches on the on-screen keyboard (the field holds text no key typed), then Ann scans.
  await page.getByTestId('search-keyboard').click();
  for (const key of ['s', 'a', 'w']) await page.getByTestId('search-osk').locator(`[data-skbtn="${key}"]`).first().click();
  await expect(page.getByTestId('search-input')).toHaveValue('saw');
  await page.getByTestId('search-input').focus();
  await burstInto(page, ann.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);
});

test('KIO-3 UI-2 a badge scanned into the badge field over half-typed text someone left there signs that badge in', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await waitForBadgeScreen(page);
  await page.getByTestId('badge-input').click();
  // Someone starts typing a badge by hand and is called away ...
  await page.keyboard.type('B10', { delay: 150 });
  await expect(page.getByTestId('badge-input')).toHaveValue('B10');
  await page.waitForTimeout(1200);
  // ... and Ann scans her badge into the field: she is signed in (not "B10" and her badge, unknown).
  await burstInto(page, ann.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);
});

test('UI-3 a sign-in refusal left on the badge screen goes as soon as the next person types into the badge field', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await waitForBadgeScreen(page);
  await scanBadge(page, 'B-NOBODY');
  await expect(page.getByTestId('sign-in-error')).toHaveAttribute('data-code', 'sign_in_failed');
  // The next person starts typing their badge by hand: the last one's refusal is not theirs.
  await page.getByTestId('badge-input').click();
  await page.keyboard.type('B', { delay: 150 });
  await expect(page.getByTestId('sign-in-error')).toHaveCount(0);
  await expect(page.getByTestId('badge-input')).toHaveValue('B');
});

test('UI-3 KIO-2 a PIN pad left open by one badge gives way to the next badge scanned', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await waitForBadgeScreen(page);
  // Bob scans, the PIN pad asks for his PIN, he types a digit and is called away.
  await scanBadge(page, bob.badge);
  await expect(page.getByTestId('pin-pad')).toBeVisible();
  await page.getByTestId('pin-key-4').click();
  // Ann scans her badge (no PIN): she is signed in; no digit of Bob's PIN is taken.
  await burstInto(page, ann.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(ann.name);
  await page.getByTestId('sign-out').click();
  // Bob comes back: his badge opens an empty pad for him again.
  await waitForBadgeScreen(page);
  await scanBadge(page, bob.badge);
  await expect(page.getByTestId('pin-pad')).toBeVisible();
  await burstInto(page, fang.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(fang.name);
});

test('UI-7 OFF-4 KIO-5 back online after working offline: one conflict dialog per lost task, in order, each naming who has it', async ({ startTerminal }) => {
  const a = await startTerminal({ id: 'k1', viaProxy: true });
  const b = await startTerminal({ id: 'k2' });
  await signIn(a.page, ann.badge);
  await signIn(b.page, bob.badge, bob.pin);
  a.proxy!.cut();
  await expect(a.page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  // Offline, Ann claims t3, starts and completes it; and claims t5.
  await a.page.getByTestId('claim-t3').click();
  await a.page.getByTestId('start-t3').click();
  await a.page.getByTestId('complete-t3').click();
  await expect(a.page.getByTestId('mine-t3')).toHaveCount(0);
  await a.page.getByTestId('claim-t5').click();
  await expect(a.page.getByTestId('pending-t5')).toBeVisible();
  await expect(a.page.getByTestId('sync-pending')).toHaveAttribute('data-count', '4');
  // Meanwhile Bob takes both.
  await b.page.getByTestId('claim-t3').click();
  await expect(b.page.getByTestId('confirmed-t3')).toBeVisible();
  await b.page.waitForTimeout(700);
  await b.page.getByTestId('claim-t5').click();
  await expect(b.page.getByTestId('confirmed-t5')).toBeVisible();

  a.proxy!.restore();
  const dialog = a.page.getByTestId('conflict-dialog');
  await expect(dialog).toBeVisible();
  await expect(a.page.getByTestId('sync-pending')).toHaveAttribute('data-count', '0');
  await expect(a.page.getByTestId('conflict-message')).toHaveText(/Bob Chen took task WO-2026-0102 · cut · Cut aluminium profile/);
  await expect(dialog).toContainText('1 more to review');
  await a.page.getByTestId('conflict-ack').click();
  // The next one is t5's, not t3's start and completion told again.
  await expect(a.page.getByTestId('conflict-message')).toHaveText(/Bob Chen took task WO-2026-0103 · cut · Plasma-cut base plates/);
  await expect(dialog).not.toContainText('more to review');
  await a.page.waitForTimeout(700);
  await a.page.getByTestId('conflict-ack').click();
  await expect(dialog).toBeHidden();
});

test('KIO-3 KIO-6 a badge scanned while the reject reason field has the focus switches the operator and is not written into the reason', async ({ startTerminal }) => {
  const { page } = await startTerminal({ id: 'k1' });
  await signIn(page, ann.badge);
  await page.getByTestId('claim-t3').click();
  await expect(page.getByTestId('confirmed-t3')).toBeVisible();
  await page.getByTestId('reject-t3').click();
  // Ann taps the reason field (the on-screen keyboard opens), types a little, and is called away.
  await page.getByTestId('reject-reason').click();
  await expect(page.getByTestId('reject-reason')).toBeFocused();
  await page.keyboard.type('blade', { delay: 120 });
  await burstInto(page, fang.badge);
  await expect(page.getByTestId('operator-name')).toHaveText(fang.name);
  await expect(page.getByTestId('reject-dialog')).toHaveCount(0);
});

test('UI-4 KIO-8 the list stays where it was when a task above the rows in view is claimed elsewhere', async ({ startTerminal }) => {
  const a = await startTerminal({ id: 'k1' });
  const b = await startTerminal({ id: 'k2' });
  await signIn(a.page, ann.badge);
  await signIn(b.page, bob.badge, bob.pin);
  // A shorter screen, so that the plant's eight tasks scroll well past the end of the list.
  await a.page.setViewportSize({ width: 1280, height: 600 });
  const scroller = a.page.getByTestId('claimable-scroll');
  await expect(a.page.getByTestId('claimable-count')).toHaveText('8');
  /** The task whose row is at the top of the list's pane. */
  const topRow = () =>
    scroller.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return document.elementFromPoint(r.left + 30, r.top + 20)?.closest('[data-task-id]')?.getAttribute('data-task-id') ?? null;
    });
  await scroller.evaluate((el) => (el.scrollTop = 4 * 140));
  await expect.poll(topRow).toBe('t5');
  // Bob claims t1, far above what Ann is looking at; then t6, in view.
  await b.page.getByTestId('claim-t1').click();
  await expect(a.page.getByTestId('claimable-count')).toHaveText('7');
  await expect.poll(topRow).toBe('t5');
  await b.page.waitForTimeout(700);
  await b.page.getByTestId('claim-t5').click();
  await expect(a.page.getByTestId('claimable-count')).toHaveText('6');
  // The row at the top went; the one after it takes its place.
  await expect.poll(topRow).toBe('t6');
});
