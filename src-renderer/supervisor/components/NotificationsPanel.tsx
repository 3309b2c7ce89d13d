/** SUP-5: the supervisor's notifications, newest first; each or all can be marked read. */
import { useTranslation } from 'react-i18next';
import { formatWhen } from '../format.js';
import { useApp, useBoard, useUi } from '../stores/hooks.js';

export function NotificationsPanel() {
  const { t } = useTranslation();
  const app = useApp();
  useBoard((s) => s.version);
  const tz = useBoard((s) => s.supervision.timeZone);
  const now = useUi((s) => s.now);
  const locale = useUi((s) => s.locale);
  const board = app.board.getState();
  const list = [...board.notifications.values()].sort((a, b) => b.id - a.id);
  const unread = list.filter((n) => n.readAt === null);
  return (
    <aside className="sv-panel" aria-labelledby="sv-notifications-title" data-testid="sv-notifications">
      <header className="sv-drawer-head">
        <h2 id="sv-notifications-title">{t('sv.notifications.title')}</h2>
        <button type="button" className="sv-btn sv-btn-small" disabled={unread.length === 0} data-testid="sv-notifications-read-all" onClick={() => void app.actions.markRead(null)}>
          {t('sv.notifications.readAll')}
        </button>
        <button type="button" className="sv-btn sv-btn-ghost" aria-label={t('sv.close')} onClick={() => app.ui.getState().toggleNotifications(false)}>
          ✕
        </button>
      </header>
      {list.length === 0 && <p className="sv-muted sv-pad">{t('sv.notifications.empty')}</p>}
      <ul className="sv-notes">
        {list.map((n) => {
          const terminalId = typeof n.details.terminalId === 'string' ? n.details.terminalId : null;
          return (
            <li key={n.id} className={n.readAt === null ? 'sv-note-unread' : undefined} data-testid={`sv-notification-${n.id}`} data-read={n.readAt !== null} data-event={n.event}>
              <div>
                {n.readAt === null && <span className="sv-dot" aria-label={t('sv.notifications.unread')} />}
                {t(`notification.${n.event}`, {
                  task: n.taskId ?? '',
                  by: n.byUserId ? (board.people.get(n.byUserId)?.displayName ?? n.byUserId) : '',
                  reason: typeof n.details.reason === 'string' ? n.details.reason : '',
                  terminal: terminalId ? (board.terminals.get(terminalId)?.name ?? terminalId) : '',
                  outbox: typeof n.details.outbox === 'number' ? n.details.outbox : 0,
                })}
              </div>
              <div className="sv-note-foot">
                <time className="sv-muted">{formatWhen(n.createdAt, now, tz, locale)}</time>
                {n.taskId && (
                  <button
                    type="button"
                    className="sv-link"
                    onClick={() => {
                      // The panel would lie over the task's: it makes way.
                      app.ui.getState().toggleNotifications(false);
                      app.view.getState().openTask(n.taskId);
                    }}
                  >
                    {t('sv.notifications.openTask')}
                  </button>
                )}
                {n.readAt === null && (
                  <button type="button" className="sv-link" data-testid={`sv-notification-read-${n.id}`} onClick={() => void app.actions.markRead([n.id])}>
                    {t('sv.notifications.markRead')}
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
