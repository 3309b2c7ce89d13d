/** The terminal's link to the server: online / offline / syncing, what waits to be sent, last sync. */
import { useTranslation } from 'react-i18next';
import { useShallow } from 'zustand/react/shallow';
import { formatTime } from '../format.js';
import { useTerminal } from '../stores/hooks.js';

export function SyncIndicator() {
  const { t } = useTranslation();
  const { status, pending, lastSyncAt } = useTerminal(
    useShallow((s) => ({ status: s.sync?.status ?? 'offline', pending: s.sync?.pending ?? 0, lastSyncAt: s.sync?.lastSyncAt ?? null })),
  );
  const locale = useTerminal((s) => s.locale);
  return (
    <div className="sync" data-testid="sync">
      <span className={`chip chip-${status}`} data-testid="sync-status" data-status={status}>
        <span className="dot" aria-hidden="true" />
        {t(`status.${status}`)}
      </span>
      <span className={pending > 0 ? 'sync-pending has-pending' : 'sync-pending'} data-testid="sync-pending" data-count={pending}>
        {pending > 0 ? t('status.pending', { count: pending }) : t('status.allSent')}
      </span>
      <span className="sync-last" data-testid="sync-last">
        {lastSyncAt ? t('status.lastSync', { time: formatTime(lastSyncAt, locale) }) : t('status.neverSynced')}
      </span>
    </div>
  );
}
