/**
 * A modal dialog (SUP-8): a native <dialog> opened with showModal(), so the browser keeps Tab and
 * Shift+Tab inside it and makes the page behind inert (no focus, no clicks). The element marked
 * `data-autofocus` takes the focus (else the first control); Escape closes it (the shortcut handler
 * does, and the dialog's own cancel as well); once closed, the browser puts the focus back on what
 * opened it.
 */
import { useEffect, useLayoutEffect, useRef, type ReactNode } from 'react';

export function Dialog(props: { id: string; title: ReactNode; onClose(): void; children: ReactNode; wide?: boolean; closeLabel: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const onClose = useRef(props.onClose);
  useEffect(() => {
    onClose.current = props.onClose;
  });
  useLayoutEffect(() => {
    const dialog = ref.current!;
    dialog.showModal();
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    // Closed before it leaves the page, so the browser puts the focus back where it was before
    // showModal() (removed while open, it would leave the focus nowhere).
    return () => dialog.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`sv-dialog${props.wide ? ' sv-dialog-wide' : ''}`}
      aria-labelledby={`${props.id}-title`}
      data-testid={props.id}
      onCancel={(e) => {
        // Escape the shortcut handler did not take: the page decides when the dialog goes.
        e.preventDefault();
        onClose.current();
      }}
    >
      <header className="sv-dialog-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        <button type="button" className="sv-btn sv-btn-ghost" aria-label={props.closeLabel} onClick={props.onClose} data-testid={`${props.id}-close`}>
          ✕
        </button>
      </header>
      <div className="sv-dialog-body">{props.children}</div>
    </dialog>
  );
}
