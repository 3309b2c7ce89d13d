/** Signed in: who, the claimable list, my tasks, refusals, conflicts and the idle countdown. */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { useSession, useStores, useTasks } from '../stores/hooks.js';
import { ClaimableList } from './ClaimableList.js';
import { ConflictDialog } from './ConflictDialog.js';
import { ErrorNotice } from './ErrorNotice.js';
import { IdleCountdown } from './IdleCountdown.js';
import { MyTasks } from './MyTasks.js';
import { RejectDialog } from './RejectDialog.js';
import { TopBar } from './TopBar.js';

export function WorkScreen() {
  const { t } = useTranslation();
  const stores = useStores();
  const name = useSession((s) => s.session?.displayName ?? '');
  const sessionError = useSession((s) => s.error);
  const taskError = useTasks((s) => s.error);
  const [rejecting, setRejecting] = useState<TaskView | null>(null);
  return (
    <div className="screen">
      <TopBar>
        <div className="operator">
          <span className="operator-label">{t('work.signedInAs')}</span>
          <span className="operator-name" data-testid="operator-name">
            {name}
          </span>
        </div>
        <button type="button" className="btn btn-signout" data-testid="sign-out" onClick={() => void stores.session.getState().signOut()}>
          {t('work.signOut')}
        </button>
      </TopBar>
      <IdleCountdown />
      {!rejecting && <ErrorNotice error={taskError} onDismiss={() => stores.tasks.getState().clearError()} testId="task-error" />}
      <ErrorNotice error={sessionError} onDismiss={() => stores.session.getState().clearError()} testId="session-error" />
      <main className="columns">
        <ClaimableList />
        <MyTasks
          onReject={(task) => {
            stores.tasks.getState().clearError();
            setRejecting(task);
          }}
        />
      </main>
      {rejecting && <RejectDialog task={rejecting} onClose={() => setRejecting(null)} />}
      <ConflictDialog />
    </div>
  );
}
