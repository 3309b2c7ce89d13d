/** What a list or table shows when it has nothing to show (the task table, People, Terminals). */
import type { ReactNode } from 'react';

export function Empty(props: { testId?: string; children: ReactNode }) {
  return (
    <p className="sv-muted sv-pad" data-testid={props.testId}>
      {props.children}
    </p>
  );
}
