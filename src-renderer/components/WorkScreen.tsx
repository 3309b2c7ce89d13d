/**
 * Signed in (KIO-8): a fixed top bar (who, active tasks against the limit, sync state,
 * notifications, language, sign out), the filters, and two panes that scroll on their own: the
 * claimable list and the operator's tasks. Scans are caught here (KIO-3); refusals, the scan panel,
 * the reject dialog, conflicts, notifications and the idle countdown show over it.
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { catchScans } from '../badge/scanner.js';
import { unreadCount } from '../stores/notifications.js';
import { useNotifications, useScan, useSession, useStores, useTasks } from '../stores/hooks.js';
import { ClaimableList } from './ClaimableList.js';
import { ConflictDialog } from './ConflictDialog.js';
import { ErrorNotice } from './ErrorNotice.js';
import { FilterBar } from './FilterBar.js';
import { IdleCountdown } from './IdleCountdown.js';
import { MyTasks } from './MyTasks.js';
import { NotificationsPanel } from './NotificationsPanel.js';
import { RejectDialog } from './RejectDialog.js';
import { ScanPanel } from './ScanPanel.js';
import { Toasts } from './Toasts.js';
import { TopBar } from './TopBar.js';

function Workload() {
  const { t } = useTranslation();
  const workload = useTasks((s) => s.workload);
  if (!workload) return null;
  const full = workload.active >= workload.limit;
  return (
    <div className={full ? 'load is-full' : 'load'} title={t('work.loadTitle')} data-testid="workload" data-active={workload.active} data-limit={workload.limit}>
      {t('work.load', { active: workload.active, limit: workload.limit })}
    </div>
  );
}

function Bell() {
  const { t } = useTranslation();
  const notifications = useStores().notifications;
  const unread = useNotifications(unreadCount);
  return (
    <button
      type="button"
      className={unread ? 'btn btn-bell has-unread' : 'btn btn-bell'}
      aria-label={t('ntf.open', { count: unread })}
      data-testid="notifications-open"
      data-unread={unread}
      onClick={() => notifications.getState().setOpen(true)}
    >
      <svg className="icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zM9.5 19a2.5 2.5 0 0 0 5 0" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
      </svg>
      {unread > 0 && <span className="bell-count">{unread}</span>}
    </button>
  );
}

export function WorkScreen() {
  const { t } = useTranslation();
  const stores = useStores();
  const name = useSession((s) => s.session?.displayName ?? '');
  const lookOnly = useSession((s) => s.session?.lookOnly ?? false);
  const sessionError = useSession((s) => s.error);
  const taskError = useTasks((s) => s.error);
  const scanError = useScan((s) => s.error);
  const [rejecting, setRejecting] = useState<TaskView | null>(null);
  const [typed, setTyped] = useState<string | null>(null);

  useEffect(() => {
    const catcher = catchScans(window, {
      onScan: (code) => void stores.scan.getState().scan(code, 'scan'),
      onTyped: (chars) => setTyped(chars),
    });
    return () => catcher.stop();
  }, [stores]);
  useEffect(() => {
    if (typed !== null) setTyped(null);
  }, [typed]);

  return (
    <div className="screen screen-work">
      <TopBar
        actions={
          <>
            {!lookOnly && <Bell />}
            <button type="button" className="btn btn-signout" data-testid="sign-out" onClick={() => void stores.session.getState().signOut()}>
              {t('work.signOut')}
            </button>
          </>
        }
      >
        <div className="operator">
          <span className="operator-label">{t('work.signedInAs')}</span>
          <span className="operator-name" data-testid="operator-name">
            {name}
          </span>
        </div>
        <Workload />
      </TopBar>
      {lookOnly && (
        <div className="notice notice-info lookonly" data-testid="look-only">
          {t('work.lookOnly')}
        </div>
      )}
      {!rejecting && <ErrorNotice error={taskError} onDismiss={() => stores.tasks.getState().clearError()} testId="task-error" />}
      <ErrorNotice error={sessionError} onDismiss={() => stores.session.getState().clearError()} testId="session-error" />
      <ErrorNotice error={scanError} onDismiss={() => stores.scan.getState().close()} testId="scan-error" />
      <FilterBar typed={typed} />
      <main className="columns">
        <ClaimableList />
        <MyTasks
          onReject={(task) => {
            stores.tasks.getState().clearError();
            setRejecting(task);
          }}
        />
      </main>
      <ScanPanel />
      {rejecting && <RejectDialog task={rejecting} onClose={() => setRejecting(null)} />}
      <NotificationsPanel />
      <ConflictDialog />
      <Toasts />
      <IdleCountdown />
    </div>
  );
}
