/**
 * Keyboard shortcuts of the overview, for people who keep it open all day. Keys act only when no
 * text field has the focus (Escape always works).
 */
import type { SupervisorApp } from './stores/app.js';
import { VIEWS } from './stores/view.js';

export const SHORTCUTS: ReadonlyArray<{ keys: string; label: string }> = [
  { keys: '1 … 7', label: 'sv.shortcuts.views' },
  { keys: '/', label: 'sv.shortcuts.search' },
  { keys: 'f', label: 'sv.shortcuts.filters' },
  { keys: 'a', label: 'sv.shortcuts.auto' },
  { keys: 'n', label: 'sv.shortcuts.notifications' },
  { keys: 'Esc', label: 'sv.shortcuts.close' },
  { keys: '?', label: 'sv.shortcuts.help' },
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

/** Focus an element once the view that holds it has rendered. */
function focusSoon(doc: Document, selector: string): void {
  requestAnimationFrame(() => (doc.querySelector(selector) as HTMLElement | null)?.focus());
}

/** Handle a keydown; true when it was a shortcut. */
export function handleShortcut(app: SupervisorApp, e: KeyboardEvent, doc: Document): boolean {
  if (app.session.getState().status !== 'signedIn') return false;
  const ui = app.ui.getState();
  if (e.key === 'Escape') {
    if (ui.dialog) {
      ui.close();
      app.assign.getState().reset();
    } else if (ui.notificationsOpen) ui.toggleNotifications(false);
    else if (app.view.getState().taskId) app.view.getState().openTask(null);
    else return false;
    return true;
  }
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || ui.dialog) return false;
  const view = app.view.getState();
  if (/^[1-7]$/.test(e.key)) {
    view.go(VIEWS[Number(e.key) - 1]!);
    return true;
  }
  switch (e.key) {
    case '/':
      if (view.view !== 'tasks') view.go('tasks');
      focusSoon(doc, '#sv-search');
      return true;
    case 'f':
      if (view.view !== 'tasks') view.go('tasks');
      focusSoon(doc, '[data-testid="sv-filter-department"]');
      return true;
    case 'a':
      app.actions.openAutoAssign(null);
      return true;
    case 'n':
      ui.toggleNotifications();
      return true;
    case '?':
      ui.open({ kind: 'shortcuts' });
      return true;
    default:
      return false;
  }
}
