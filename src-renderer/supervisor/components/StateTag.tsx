/** A task's state in words and a symbol as well as colour. */
import { useTranslation } from 'react-i18next';
import { boardState } from '../../../src-shared/domain/board.js';
import type { Task } from '../../../src-shared/domain/types.js';

const ICON = { draft: '✎', pending: '○', claimed: '◐', in_progress: '▶', completed: '✓', cancelled: '✕' } as const;

export function StateTag({ task }: { task: Pick<Task, 'status' | 'operatorId'> }) {
  const { t } = useTranslation();
  const state = boardState(task);
  return (
    <span className={`sv-state sv-state-${state}`} data-state={state}>
      <span aria-hidden="true">{ICON[state]}</span> {t(`sv.state.${state}`)}
    </span>
  );
}
