/**
 * THE conflict flow, with real processes: two browser-hosted terminals on one server; terminal A
 * is cut off by a loopback TCP proxy and claims task T offline (pending), terminal B claims T
 * online; when A's link is restored, A's screen shows the conflict dialog naming B's operator.
 */
import { formatMessage } from '../src-shared/domain/i18n.js';
import { expect, pageProblems, test } from './fixtures.js';
import { PLANT } from './support/plant.js';
import { signIn } from './support/screen.js';

const { ann, bob } = PLANT.operators;

test('UI-7 OFF-4 CLM-7 an offline claim that lost the race shows A a conflict dialog naming B\'s operator, until acknowledged (also after a reload)', async ({ startTerminal }) => {
  const a = await startTerminal({ id: 'k1', viaProxy: true });
  const b = await startTerminal({ id: 'k2' });
  await signIn(a.page, ann.badge);
  await signIn(b.page, bob.badge, bob.pin);
  await expect(a.page.getByTestId('sync-pending')).toHaveAttribute('data-count', '0');

  a.proxy!.cut();
  await expect(a.page.getByTestId('sync-status')).toHaveAttribute('data-status', 'offline');
  await a.page.getByTestId('claim-t3').click();
  await expect(a.page.getByTestId('pending-t3')).toBeVisible();
  await expect(a.page.getByTestId('sync-pending')).toHaveAttribute('data-count', '1');

  await b.page.getByTestId('claim-t3').click();
  await expect(b.page.getByTestId('confirmed-t3')).toBeVisible();

  a.proxy!.restore();
  const dialog = a.page.getByTestId('conflict-dialog');
  await expect(dialog).toBeVisible();
  // KIO-5: it waited offline, and someone else holds the task: said so, naming them.
  await expect(dialog).toHaveAttribute('data-kind', 'offline-taken');
  await expect(a.page.getByTestId('conflict-title')).toHaveText('Not accepted after waiting offline');
  await expect(a.page.getByTestId('conflict-message')).toHaveText('While this terminal was offline, Bob Chen took task WO-2026-0102 · cut · Cut aluminium profile, 12 pieces.');
  await expect(a.page.getByTestId('conflict-suggestion')).toHaveText(formatMessage('suggestion.task_conflict', {}, 'en'));
  await expect(a.page.getByTestId('conflict-ack')).toHaveText(formatMessage('action.task_conflict', {}, 'en'));
  // The optimistic claim was reverted: A does not hold T, and T is not offered (Bob has it).
  await expect(a.page.getByTestId('mine-t3')).toHaveCount(0);
  await expect(a.page.getByTestId('claimable-t3')).toHaveCount(0);
  await expect(a.page.getByTestId('sync-pending')).toHaveAttribute('data-count', '0');

  // The conflict record survives a reload of the screen until it is acknowledged.
  await a.page.reload();
  await expect(a.page.getByTestId('operator-name')).toHaveText(ann.name);
  await expect(dialog).toBeVisible();
  await a.page.getByTestId('locale-zh').click();
  await expect(a.page.getByTestId('conflict-message')).toContainText('本终端离线期间，Bob Chen 认领了任务');
  await a.page.getByTestId('locale-en').click();
  await a.page.getByTestId('conflict-ack').click();
  await expect(dialog).toBeHidden();
  await a.page.reload();
  await expect(a.page.getByTestId('operator-name')).toHaveText(ann.name);
  await expect(a.page.getByTestId('claimable-t1')).toBeVisible();
  await expect(dialog).toBeHidden();
  expect(pageProblems(a.page).filter((p) => !p.includes('WebSocket'))).toEqual([]);
});
