/**
 * A scanner types wherever the focus is. On the badge screen, a character key pressed while no
 * text field has the focus moves the focus to the badge field, so the scan lands there.
 */
export const BADGE_INPUT_SELECTOR = '[data-testid="badge-input"]';

export function keepBadgeFocus(win: Window): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.key.length !== 1 || e.ctrlKey || e.altKey || e.metaKey) return;
    const active = win.document.activeElement;
    if (active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA')) return;
    win.document.querySelector<HTMLInputElement>(BADGE_INPUT_SELECTOR)?.focus();
  };
  win.addEventListener('keydown', onKey, { capture: true });
  return () => win.removeEventListener('keydown', onKey, { capture: true });
}
