/**
 * Reject a task with a reason (KIO-6): one touch on a reason from the site's list (or the kiosk's
 * own list in the screen's language), or free text on the on-screen keyboard. The core requires a
 * reason and says so if it is missing.
 */
import { useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TaskView } from '../../src-shared/terminal-api.js';
import { MAX_REASON_LENGTH } from '../../src-shared/domain/rules.js';
import { WedgeDetector, withoutScan } from '../badge/wedge.js';
import { useStores, useTasks, useTerminal } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';
import { OnScreenKeyboard } from './OnScreenKeyboard.js';

const BUILT_IN_REASONS = ['reject.preset.1', 'reject.preset.2', 'reject.preset.3', 'reject.preset.4', 'reject.preset.5'];

export function RejectDialog({ task, onClose }: { task: TaskView; onClose: () => void }) {
  const { t } = useTranslation();
  const stores = useStores();
  const tasks = stores.tasks;
  const error = useTasks((s) => s.error);
  const working = useTasks((s) => Boolean(s.busy[task.id]));
  const siteReasons = useTerminal((s) => s.config?.rejectReasons ?? []);
  const presets = siteReasons.length ? siteReasons : BUILT_IN_REASONS.map((k) => t(k));
  // A reason picked from the list is kept as its place in the list, so it follows the screen's
  // language (a built-in one picked in English and sent after switching to 中文 is sent in Chinese).
  const [picked, setPicked] = useState<number | null>(null);
  const [typed, setTyped] = useState('');
  const reason = picked !== null ? (presets[picked] ?? '') : typed;
  const setReason = (value: string) => {
    setPicked(null);
    setTyped(value);
  };
  const [keyboard, setKeyboard] = useState(false);
  const wedge = useRef(new WedgeDetector());
  // KIO-3: a scanner's burst into the reason field (the next operator's badge) is a scan, not words
  // of the reason: it is taken out of the field and handled as a scan at the work screen.
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (!wedge.current.keyDown(e, reason)) return;
    const scanned = wedge.current.scanned(e.timeStamp);
    wedge.current.reset();
    if (scanned === null) return;
    e.preventDefault();
    setReason(withoutScan(reason, scanned));
    void stores.scan.getState().scan(scanned, 'scan');
  };
  const submit = async () => {
    if (await tasks.getState().reject(task.id, reason)) onClose();
  };
  return (
    <div className="overlay overlay-top" role="dialog" aria-modal="true" data-testid="reject-dialog">
      <div className="dialog dialog-reject">
        <h2>{t('reject.title', { task: `${task.id} · ${task.workOrderNumber} · ${task.step}` })}</h2>
        {!keyboard && <p className="field-label">{t('reject.presets')}</p>}
        <div className="presets" role="radiogroup" aria-label={t('reject.presets')} hidden={keyboard}>
          {presets.map((p, i) => (
            <button
              key={`${i}-${p}`}
              type="button"
              role="radio"
              aria-checked={picked === i}
              className={picked === i ? 'btn preset is-on' : 'btn preset'}
              data-testid={`reject-preset-${i}`}
              onClick={() => setPicked(i)}
            >
              {p}
            </button>
          ))}
        </div>
        <label className="field">
          <span className="field-label">{t('reject.other')}</span>
          <div className="search">
            <textarea
              className="input textarea"
              rows={2}
              maxLength={MAX_REASON_LENGTH}
              inputMode="none"
              placeholder={t('reject.placeholder')}
              value={reason}
              data-testid="reject-reason"
              onChange={(e) => setReason(e.target.value)}
              onKeyDown={onKeyDown}
              onPaste={() => wedge.current.edited()}
              onPointerDown={() => setKeyboard(true)}
            />
            <button
              type="button"
              className={keyboard ? 'btn btn-key is-on' : 'btn btn-key'}
              aria-pressed={keyboard}
              aria-label={keyboard ? t('keyboard.hide') : t('reject.keyboard')}
              data-testid="reject-keyboard"
              onClick={() => setKeyboard((k) => !k)}
            >
              ⌨
            </button>
          </div>
        </label>
        {keyboard && <OnScreenKeyboard value={reason} onChange={(v) => setReason(v.slice(0, MAX_REASON_LENGTH))} onEnter={() => setKeyboard(false)} testId="reject-osk" />}
        <ErrorNotice error={error} testId="reject-error" />
        <div className="row row-end">
          <button
            type="button"
            className="btn btn-ghost btn-large"
            data-testid="reject-cancel"
            onClick={() => {
              tasks.getState().clearError();
              onClose();
            }}
          >
            {t('reject.cancel')}
          </button>
          <button type="button" className="btn btn-danger btn-large" disabled={working} data-testid="reject-submit" onClick={() => void submit()}>
            {t('reject.submit')}
          </button>
        </div>
      </div>
    </div>
  );
}
