/** The signed-in overview: the top bar, the views, the open task, dialogs and toasts. */
import { useTranslation } from 'react-i18next';
import { useBoard, useUi, useView } from '../stores/hooks.js';
import { VIEWS } from '../stores/view.js';
import { AssignDialog } from './AssignDialog.js';
import { AuditView } from './AuditView.js';
import { AutoAssignDialog } from './AutoAssignDialog.js';
import { CancelDialog } from './CancelDialog.js';
import { ExceptionsView } from './ExceptionsView.js';
import { ImportView } from './ImportView.js';
import { NotificationsPanel } from './NotificationsPanel.js';
import { Overview } from './Overview.js';
import { PeopleView } from './PeopleView.js';
import { ShortcutsDialog } from './ShortcutsDialog.js';
import { TaskDetail } from './TaskDetail.js';
import { TasksView } from './TasksView.js';
import { TerminalsView } from './TerminalsView.js';
import { Toasts } from './Toasts.js';
import { TopBar } from './TopBar.js';
import { useApp } from '../stores/hooks.js';

export function Shell() {
  const { t } = useTranslation();
  const app = useApp();
  const view = useView((s) => s.view);
  const taskId = useView((s) => s.taskId);
  const loaded = useBoard((s) => s.loaded);
  const dialog = useUi((s) => s.dialog);
  const notificationsOpen = useUi((s) => s.notificationsOpen);
  return (
    <div className="sv-app" data-view={view}>
      <TopBar />
      <div className="sv-body">
        <nav className="sv-nav" aria-label={t('sv.nav.label')}>
          {VIEWS.map((v, i) => (
            <button
              key={v}
              type="button"
              className={`sv-nav-item${v === view ? ' sv-nav-on' : ''}`}
              aria-current={v === view ? 'page' : undefined}
              data-testid={`sv-nav-${v}`}
              onClick={() => app.view.getState().go(v)}
            >
              <span>{t(`sv.view.${v}`)}</span>
              <kbd aria-hidden="true">{i + 1}</kbd>
            </button>
          ))}
        </nav>
        <main className="sv-main" data-testid={`sv-view-${view}`}>
          {!loaded ? (
            <p className="sv-muted sv-pad" role="status" data-testid="sv-loading">
              {t('sv.app.loadingFloor')}
            </p>
          ) : (
            <>
              {view === 'overview' && <Overview />}
              {view === 'tasks' && <TasksView />}
              {view === 'people' && <PeopleView />}
              {view === 'terminals' && <TerminalsView />}
              {view === 'exceptions' && <ExceptionsView />}
              {view === 'audit' && <AuditView />}
              {view === 'import' && <ImportView />}
            </>
          )}
        </main>
        {taskId && loaded && <TaskDetail taskId={taskId} />}
      </div>
      {notificationsOpen && <NotificationsPanel />}
      {dialog?.kind === 'assign' && <AssignDialog />}
      {dialog?.kind === 'cancel' && <CancelDialog taskId={dialog.taskId} />}
      {dialog?.kind === 'autoAssign' && <AutoAssignDialog />}
      {dialog?.kind === 'shortcuts' && <ShortcutsDialog />}
      <Toasts />
    </div>
  );
}
