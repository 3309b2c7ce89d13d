/** NTF-1, NTF-2: the operator's last notifications, newest first; read one, or all at once. */
import { useTranslation } from 'react-i18next';
import { formatDue } from '../format.js';
import { notificationText } from '../stores/notifications.js';
import { useNotifications, useStores, useTerminal } from '../stores/hooks.js';

export function NotificationsPanel() {
  const { t } = useTranslation();
  const notifications = useStores().notifications;
  const open = useNotifications((s) => s.open);
  const list = useNotifications((s) => s.list);
  const locale = useTerminal((s) => s.locale);
  if (!open) return null;
  const unread = list.filter((n) => !n.read);
  return (
    <div className="overlay overlay-side" role="dialog" aria-modal="true" data-testid="notifications-panel" onClick={() => notifications.getState().setOpen(false)}>
      <div className="drawer" onClick={(e) => e.stopPropagation()}>
        <div className="drawer-head">
          <h2>{t('ntf.title')}</h2>
          <div className="row">
            {unread.length > 0 && (
              <button type="button" className="btn" data-testid="notifications-read-all" onClick={() => void notifications.getState().markRead()}>
                {t('ntf.markAll')}
              </button>
            )}
            <button type="button" className="btn btn-ghost" data-testid="notifications-close" onClick={() => notifications.getState().setOpen(false)}>
              {t('ntf.close')}
            </button>
          </div>
        </div>
        {list.length === 0 && <p className="empty">{t('ntf.empty')}</p>}
        <ul className="ntf-list">
          {list.map((n) => {
            const text = notificationText(n);
            return (
              <li key={n.id} className={n.read ? 'ntf' : 'ntf is-unread'} data-testid={`notification-${n.id}`} data-event={n.event} data-read={n.read}>
                <div className="ntf-body">
                  <p className="ntf-text">{t(text.key, text.params)}</p>
                  <p className="ntf-time">{formatDue(n.createdAt, locale)}</p>
                </div>
                {!n.read && (
                  <button type="button" className="btn" data-testid={`notification-read-${n.id}`} onClick={() => void notifications.getState().markRead([n.id])}>
                    {t('ntf.markRead')}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}
