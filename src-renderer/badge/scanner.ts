/**
 * KIO-3: scans at the work screen. A scanner types wherever the focus is; with no text field
 * focused, its burst is caught here and handed over as a scan, while slow typing goes to the search
 * field (manual entry). A burst typed into a field is detected by the field's own WedgeDetector.
 */
import { WedgeDetector } from './wedge.js';

export interface ScanCatcher {
  stop(): void;
}

export function catchScans(
  win: Window,
  handlers: { onScan(code: string): void; onTyped(char: string): void },
  detector = new WedgeDetector(),
): ScanCatcher {
  let buffer = '';
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const active = win.document.activeElement;
    if (active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA')) return;
    if (e.key === 'Enter') {
      if (buffer && detector.isBurst()) {
        // The scanner's Enter ends the scan and does nothing else: a focused button (a scanned
        // task's Claim, a conflict's acknowledge) is not pressed by the next person's badge.
        e.preventDefault();
        handlers.onScan(buffer);
      }
      buffer = '';
      detector.reset();
      return;
    }
    if (e.key.length !== 1) return;
    if (buffer === '') detector.reset();
    detector.key(e.timeStamp);
    buffer += e.key;
    // Slow typing is a person: it belongs in the search field (which gets these characters from
    // here; this key's own default is cancelled, or it would land there twice once focused).
    if (detector.byHand()) {
      e.preventDefault();
      handlers.onTyped(buffer);
      buffer = '';
      detector.reset();
    }
  };
  win.addEventListener('keydown', onKey, { capture: true });
  return { stop: () => win.removeEventListener('keydown', onKey, { capture: true }) };
}
