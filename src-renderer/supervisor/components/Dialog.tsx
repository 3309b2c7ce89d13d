/** A modal dialog: labelled, focus moved into it, Escape closes it (the shortcut handler does). */
import type { ReactNode } from 'react';

export function Dialog(props: { id: string; title: ReactNode; onClose(): void; children: ReactNode; wide?: boolean; closeLabel: string }) {
  return (
    <div className="sv-overlay" data-testid={`${props.id}-overlay`}>
      <section
        className={`sv-dialog${props.wide ? ' sv-dialog-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${props.id}-title`}
        data-testid={props.id}
      >
        <header className="sv-dialog-head">
          <h2 id={`${props.id}-title`}>{props.title}</h2>
          <button type="button" className="sv-btn sv-btn-ghost" aria-label={props.closeLabel} onClick={props.onClose} data-testid={`${props.id}-close`}>
            ✕
          </button>
        </header>
        <div className="sv-dialog-body">{props.children}</div>
      </section>
    </div>
  );
}
