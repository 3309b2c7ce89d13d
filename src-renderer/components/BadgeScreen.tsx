/**
 * "Scan your badge": one large input that a scanner types into (a fast burst ending in Enter) and
 * a person can type into too (then it is a manual sign-in). The PIN pad replaces it when needed.
 */
import { useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { WedgeDetector } from '../badge/wedge.js';
import { useSession, useStores } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';
import { PinPad } from './PinPad.js';
import { TopBar } from './TopBar.js';

function BadgeIcon() {
  return (
    <svg className="badge-icon" viewBox="0 0 96 64" aria-hidden="true">
      <rect x="3" y="3" width="90" height="58" rx="8" fill="none" stroke="currentColor" strokeWidth="5" />
      <circle cx="28" cy="27" r="9" fill="currentColor" />
      <path d="M14 49c2-9 8-13 14-13s12 4 14 13z" fill="currentColor" />
      <rect x="52" y="20" width="30" height="6" rx="3" fill="currentColor" />
      <rect x="52" y="33" width="22" height="6" rx="3" fill="currentColor" />
    </svg>
  );
}

export function BadgeScreen() {
  const { t } = useTranslation();
  const session = useStores().session;
  const pinWanted = useSession((s) => s.pin !== null);
  // Each badge's pad starts empty: no digit typed for one person is kept for the next.
  const pinBadge = useSession((s) => s.pin?.badge ?? '');
  const busy = useSession((s) => s.busy);
  const error = useSession((s) => s.error);
  const [badge, setBadge] = useState('');
  const wedge = useRef(new WedgeDetector());

  const submit = (text: string, method: 'badge' | 'manual') => {
    const value = text.trim();
    wedge.current.reset();
    setBadge('');
    if (value) void session.getState().signIn(value, method);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const w = wedge.current;
    if (!w.keyDown(e, badge)) return;
    e.preventDefault();
    if (w.isBurst()) return submit(badge, 'badge');
    // UI-2: a badge scanned over someone's half-typed text left in the field (after a pause) is
    // that badge alone, not the text and the badge run together.
    const scanned = w.scannedAfterPause(e.timeStamp);
    if (scanned !== null) submit(scanned, 'badge');
    else submit(badge, 'manual');
  };

  return (
    <div className="screen">
      <TopBar />
      <main className="center">
        {pinWanted ? (
          <PinPad key={pinBadge} />
        ) : (
          <div className="panel badge" data-testid="badge-screen">
            <BadgeIcon />
            <h1>{t('badge.title')}</h1>
            <p className="lead">{t('badge.hint')}</p>
            <div className="badge-entry">
              <input
                className="input input-huge"
                aria-label={t('badge.input')}
                placeholder={t('badge.placeholder')}
                value={badge}
                autoFocus
                autoComplete="off"
                spellCheck={false}
                data-testid="badge-input"
                onChange={(e) => {
                  setBadge(e.target.value);
                  // UI-3: someone is signing in: the last person's refusal goes.
                  session.getState().entryStarted();
                }}
                onPaste={() => wedge.current.edited()}
                onKeyDown={onKeyDown}
              />
              <button type="button" className="btn btn-primary btn-large" disabled={busy || !badge.trim()} data-testid="badge-submit" onClick={() => submit(badge, 'manual')}>
                {t('badge.submit')}
              </button>
            </div>
            <ErrorNotice error={error} onDismiss={() => session.getState().clearError()} testId="sign-in-error" />
          </div>
        )}
      </main>
    </div>
  );
}
